"""Freshdesk's error bodies (``{"description", "errors": [{field, message, code}]}``).

Shapes and codes from ../shared/vendor/freshdesk/errors-and-rate-limits.facts.json (bodies
captured from Freshdesk accounts, quoted in third-party code) and the codes Freshdesk's API
reference lists (https://developers.freshdesk.com/api/#error): a validation failure is 400 with
one entry per field, a uniqueness conflict 409 ``duplicate_value``, a wrong API key 401
``invalid_credentials``.
"""

from __future__ import annotations

from typing import Any


class FreshdeskApiError(Exception):
    """Raised by a handler; the app answers ``status`` with ``body`` (None: no body)."""

    def __init__(self, status: int, body: dict[str, Any] | None) -> None:
        super().__init__(f"{status}: {body}")
        self.status = status
        self.body = body


def validation(
    problems: list[tuple[str, str, str]], *, status: int = 400, description: str | None = None
) -> FreshdeskApiError:
    """``problems``: ``(field, message, code)`` for each refused field."""
    return FreshdeskApiError(
        status,
        {
            "description": description or "Validation failed",
            "errors": [{"field": f, "message": m, "code": c} for f, m, c in problems],
        },
    )


def missing(field: str) -> tuple[str, str, str]:
    return (field, "Mandatory attribute missing", "missing_field")


def invalid_field(field: str) -> tuple[str, str, str]:
    return (field, "Unexpected/invalid field in request", "invalid_field")


def one_of(field: str, allowed: list[Any]) -> tuple[str, str, str]:
    values = ",".join(str(v) for v in allowed)
    return (field, f"It should be one of these values: '{values}'", "invalid_value")


def duplicate(field: str) -> FreshdeskApiError:
    return validation(
        [(field, "It should be a unique value", "duplicate_value")],
        status=409,
        description="Validation failed",
    )


def not_found() -> FreshdeskApiError:
    # Freshdesk answers an unknown record id with 404 and an empty body.
    return FreshdeskApiError(404, None)


UNAUTHENTICATED_BODY = {
    "code": "invalid_credentials",
    "message": "You have to be logged in to perform this action.",
}
