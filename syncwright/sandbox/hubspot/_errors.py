"""HubSpot's error body, as its API reference shows it.

Every CRM error is one JSON object (all fields optional for a parser, HubSpot says)::

    {"status": "error", "message": "...", "correlationId": "<uuid>", "category": "VALIDATION_ERROR",
     "errors": [{"message": "...", "code": "PROPERTY_DOESNT_EXIST", "context": {...}}]}

https://developers.hubspot.com/docs/faq/api-error-responses
A 429 carries ``errorType: RATE_LIMIT`` and ``policyName`` (``TEN_SECONDLY_ROLLING``, ``DAILY``,
``SECONDLY`` for search), as captured in ../shared/vendor/RATE-LIMITS.json.
"""

from __future__ import annotations

import uuid
from typing import Any

AUTH_MESSAGE = (
    "Authentication credentials not found. This API supports OAuth 2.0 authentication and you "
    "can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview"
)


class HubSpotApiError(Exception):
    """One HubSpot error response; the state and the routes raise it, the app renders it."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(f"{status} {body.get('category')}: {body.get('message')}")
        self.status = status
        self.body = body


def error_body(
    message: str, category: str, errors: list[dict[str, Any]] | None = None, **extra: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "status": "error",
        "message": message,
        "correlationId": str(uuid.uuid4()),
        "category": category,
    }
    if errors:
        body["errors"] = errors
    body.update(extra)
    return body


def unauthorized() -> HubSpotApiError:
    return HubSpotApiError(401, error_body(AUTH_MESSAGE, "INVALID_AUTHENTICATION"))


def expired(seconds: float) -> HubSpotApiError:
    minutes = max(1, int(seconds // 60))
    return HubSpotApiError(
        401,
        error_body(
            f"The OAuth token used to make this call expired {minutes} minute(s) ago.",
            "EXPIRED_AUTHENTICATION",
        ),
    )


def not_found(object_type: str, object_id: str) -> HubSpotApiError:
    # HubSpot answers a GET of a missing record with an empty 404 body on some endpoints; the
    # CRM objects API answers with this object.
    return HubSpotApiError(
        404,
        error_body(
            f"Object not found.  objectId are usually numeric. ({object_type} {object_id})",
            "OBJECT_NOT_FOUND",
        ),
    )


def validation(message: str, errors: list[dict[str, Any]] | None = None) -> HubSpotApiError:
    return HubSpotApiError(400, error_body(message, "VALIDATION_ERROR", errors))


def unknown_properties(object_type: str, names: list[str]) -> HubSpotApiError:
    return validation(
        "Property values were not valid",
        [
            {
                "message": f'Property "{name}" does not exist',
                "code": "PROPERTY_DOESNT_EXIST",
                "context": {"propertyName": [name]},
            }
            for name in names
        ],
    )


def rate_limited(policy: str) -> HubSpotApiError:
    words = {"DAILY": "daily", "SECONDLY": "secondly"}.get(policy, "ten_secondly_rolling")
    return HubSpotApiError(
        429,
        error_body(
            f"You have reached your {words} limit.",
            "RATE_LIMITS",
            errorType="RATE_LIMIT",
            policyName=policy,
        ),
    )


def server_error() -> HubSpotApiError:
    return HubSpotApiError(
        500, error_body("internal error (sandbox fault: injected 500)", "INTERNAL_ERROR")
    )
