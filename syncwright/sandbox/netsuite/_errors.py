"""NetSuite REST error bodies.

Shape from Oracle's "Error Handling in REST Web Services" (section_156570709583), copied in
../shared/vendor/netsuite/errors.oracle-docs-examples.json: ``type``, ``title``, ``status`` and
``o:errorDetails[]`` with ``detail``, ``o:errorCode`` and the optional ``o:errorPath``,
``o:urlPath``, ``o:errorHeader``, ``o:errorQueryParam``.
"""

from __future__ import annotations

from typing import Any

_TYPES = {
    400: "https://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html#sec10.4.1",
    401: "https://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html",
    403: "https://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html#sec10.4.4",
    404: "https://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html#sec10.4.5",
    405: "https://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html#sec10.4.6",
    429: "https://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html",
    500: "https://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html#sec10.5.1",
    503: "https://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html#sec10.5.4",
}
_TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}

# Verbatim from the Oracle sample (errors.oracle-docs-examples.json, "invalid_login").
INVALID_LOGIN_DETAIL = (
    "Invalid login attempt. For more details, see the Login Audit Trail in the NetSuite UI at "
    "Setup > Users/Roles > User Management > View Login Audit Trail."
)


class NetSuiteApiError(Exception):
    """One NetSuite error response; the state and the routes raise it, the app renders it."""

    def __init__(
        self,
        status: int,
        code: str,
        detail: str,
        *,
        path: str | None = None,
        url_path: str | None = None,
        header: str | None = None,
        query_param: str | None = None,
    ) -> None:
        super().__init__(f"{status} {code}: {detail}")
        self.status = status
        self.code = code
        self.detail = detail
        self.path = path
        self.url_path = url_path
        self.header = header
        self.query_param = query_param

    def body(self) -> dict[str, Any]:
        item: dict[str, Any] = {"detail": self.detail, "o:errorCode": self.code}
        for key, value in (
            ("o:errorPath", self.path),
            ("o:urlPath", self.url_path),
            ("o:errorHeader", self.header),
            ("o:errorQueryParam", self.query_param),
        ):
            if value is not None:
                item[key] = value
        return error_body(self.status, [item])


def error_body(status: int, details: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "type": _TYPES.get(status, "https://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html"),
        "title": _TITLES.get(status, "Error"),
        "status": status,
        "o:errorDetails": details,
    }


def invalid_login() -> NetSuiteApiError:
    return NetSuiteApiError(401, "INVALID_LOGIN", INVALID_LOGIN_DETAIL)


def concurrency_exceeded(limit: int) -> NetSuiteApiError:
    # Oracle documents 429 for REST web services over the account limit but no body text
    # (RATE-LIMITS.json: "body shape not verified"); the code and wording are our choice.
    return NetSuiteApiError(
        429,
        "CONCURRENCY_LIMIT_EXCEEDED",
        f"Concurrent request limit exceeded. Request blocked. The account allows {limit} "
        "concurrent web services and RESTlet requests.",
    )


def not_found(record_type: str, record_id: str) -> NetSuiteApiError:
    return NetSuiteApiError(
        404,
        "NONEXISTENT_ID",
        "The record instance does not exist. Provide a valid record instance ID.",
        url_path=f"{record_type}/{record_id}",
    )


def unknown_record_type(record_type: str) -> NetSuiteApiError:
    return NetSuiteApiError(
        404,
        "INVALID_RCRD_TYPE",
        f"Record type '{record_type}' does not exist.",
        url_path=record_type,
    )


def invalid_reference(field: str, value: object, *, path: str | None = None) -> NetSuiteApiError:
    return NetSuiteApiError(
        400,
        "INVALID_KEY_OR_REF",
        f"Error while accessing a resource. Invalid {field} reference key {value}.",
        path=path or field,
    )


def invalid_field_value(field: str, value: object, *, path: str) -> NetSuiteApiError:
    # Wording follows the Oracle sample for an unknown sublist item (INVALID_CONTENT).
    return NetSuiteApiError(
        400,
        "INVALID_CONTENT",
        "Error while accessing resource: You have entered an Invalid Field Value "
        f"{value} for the following field: {field}",
        path=path,
    )


def missing_value(label: str, *, path: str) -> NetSuiteApiError:
    return NetSuiteApiError(
        400,
        "USER_ERROR",
        f"Error while accessing a resource. Please enter value(s) for: {label}.",
        path=path,
    )


def user_error(detail: str, *, path: str | None = None) -> NetSuiteApiError:
    return NetSuiteApiError(
        400, "USER_ERROR", f"Error while accessing a resource. {detail}", path=path
    )


def unexpected_error() -> NetSuiteApiError:
    return NetSuiteApiError(
        500,
        "UNEXPECTED_ERROR",
        "An unexpected error occurred. Error ID: sandbox-injected-fault.",
    )


def period_closed(period: str) -> NetSuiteApiError:
    """A posting dated in a closed (or A/R-locked) accounting period. NetSuite answers a
    business rule with ``USER_ERROR``; the wording here is the emulator's own."""
    return user_error(
        f"The accounting period {period} is closed. You cannot post to a closed period; "
        "reopen it, or date the transaction in an open period.",
        path="tranDate",
    )
