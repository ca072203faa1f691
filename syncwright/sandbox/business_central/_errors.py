"""Business Central's OData error envelope: ``{"error": {"code", "message"}}``.

Codes and messages follow Microsoft's "Business Central API v2.0 error codes" page
(dev-itpro/api-reference/v2.0/dynamics-error-codes.md); Business Central appends the request's
correlation id to the message (``CorrelationId:  <guid>.``), which we copy.
"""

from __future__ import annotations

import uuid
from typing import Any

__all__ = ["BcApiError", "error_body"]


def error_body(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": f"{message}  CorrelationId:  {uuid.uuid4()}."}}


class BcApiError(Exception):
    """An error answer: HTTP status, Business Central error code, message, extra headers."""

    def __init__(
        self, status: int, code: str, message: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        return error_body(self.code, self.message)


def not_found(entity: str, key: str) -> BcApiError:
    # What Business Central answers for a GET/PATCH/DELETE of a key that does not exist.
    return BcApiError(
        404,
        "BadRequest_NotFound",
        f"The {entity} does not exist. Identification fields and values: Id='{key}'",
    )


def dialog(message: str) -> BcApiError:
    """An application (AL) error raised by the business logic: ``Application_DialogException``."""
    return BcApiError(400, "Application_DialogException", message)
