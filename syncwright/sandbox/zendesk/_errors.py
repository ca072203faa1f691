"""Zendesk Support error bodies.

Support API (``/api/v2/...``) errors are flat objects, as Zendesk's reference pages show them:

- 404 ``{"error": "RecordNotFound", "description": "Not found"}``
- 422 ``{"error": "RecordInvalid", "description": "Record validation errors", "details":
  {"name": [{"description": "Name: has already been taken", "error": "DuplicateValue"}]}}``
- 401 ``{"error": "Couldn't authenticate you"}``
- unknown path ``{"error": "InvalidEndpoint", "description": "Not found"}``

The Webhooks API uses the JSON:API-like ``Errors`` schema of the OAS
(``{"errors": [{"code": ..., "title": ..., "detail": ...}]}``), see :func:`webhook_error`.
https://developer.zendesk.com/api-reference/introduction/requests/#response-format
"""

from __future__ import annotations

from typing import Any

UNAUTHENTICATED_BODY: dict[str, Any] = {"error": "Couldn't authenticate you"}

# Zendesk answers a rate-limited request with this text (RATE-LIMITS.json, "exceeded").
RATE_LIMITED_TEXT = "Number of allowed API requests per minute exceeded"


class ZendeskApiError(Exception):
    """One Zendesk error response; the state and the routes raise it, the app renders it."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(f"{status} {body}")
        self.status = status
        self.body = body


def not_found() -> ZendeskApiError:
    return ZendeskApiError(404, {"error": "RecordNotFound", "description": "Not found"})


def invalid_endpoint() -> ZendeskApiError:
    return ZendeskApiError(404, {"error": "InvalidEndpoint", "description": "Not found"})


def bad_request(description: str) -> ZendeskApiError:
    return ZendeskApiError(400, {"error": "InvalidValue", "description": description})


class ValidationErrors:
    """Collects per-field problems, then raises one ``RecordInvalid`` like Zendesk does."""

    def __init__(self) -> None:
        self.details: dict[str, list[dict[str, str]]] = {}

    def add(self, field: str, description: str, error: str) -> None:
        self.details.setdefault(field, []).append({"description": description, "error": error})

    def blank(self, field: str, label: str) -> None:
        self.add(field, f"{label}: cannot be blank", "BlankValue")

    def taken(self, field: str, label: str) -> None:
        self.add(field, f"{label}: has already been taken", "DuplicateValue")

    def invalid(self, field: str, label: str, value: object) -> None:
        self.add(field, f"{label}: {value!r} is not valid", "InvalidValue")

    def raise_if_any(self) -> None:
        if self.details:
            raise ZendeskApiError(
                422,
                {
                    "error": "RecordInvalid",
                    "description": "Record validation errors",
                    "details": self.details,
                },
            )


def webhook_error(status: int, code: str, title: str, detail: str) -> ZendeskApiError:
    """An error of the Webhooks API, in the OAS ``Errors`` shape."""
    return ZendeskApiError(status, {"errors": [{"code": code, "title": title, "detail": detail}]})
