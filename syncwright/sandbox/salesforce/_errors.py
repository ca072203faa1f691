"""Salesforce REST error bodies: a JSON array of ``{"message", "errorCode", "fields"}``.

https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/errorcodes.htm
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

NOT_FOUND_MESSAGE = "The requested resource does not exist"


@dataclass
class ApiError:
    """One entry of a Salesforce error array."""

    code: str
    message: str
    fields: list[str] = field(default_factory=list)

    def rest(self) -> dict[str, Any]:
        """The sObject Rows / query form (``errorCode``)."""
        body: dict[str, Any] = {"message": self.message, "errorCode": self.code}
        if self.fields:
            body["fields"] = list(self.fields)
        return body

    def save_result(self) -> dict[str, Any]:
        """The SaveResult form used inside sObject Collections results (``statusCode``)."""
        return {"statusCode": self.code, "message": self.message, "fields": list(self.fields)}


class SalesforceApiError(Exception):
    """Raised anywhere in the emulator to answer with a Salesforce error array."""

    def __init__(self, status: int, errors: list[ApiError]) -> None:
        super().__init__("; ".join(f"{e.code}: {e.message}" for e in errors))
        self.status = status
        self.errors = errors

    @classmethod
    def one(
        cls, status: int, code: str, message: str, fields: list[str] | None = None
    ) -> SalesforceApiError:
        return cls(status, [ApiError(code, message, list(fields or []))])

    def body(self) -> list[dict[str, Any]]:
        return [e.rest() for e in self.errors]


def not_found(message: str = NOT_FOUND_MESSAGE) -> SalesforceApiError:
    return SalesforceApiError.one(404, "NOT_FOUND", message)


def invalid_field(message: str, fields: list[str] | None = None) -> SalesforceApiError:
    return SalesforceApiError.one(400, "INVALID_FIELD", message, fields)


def malformed_query(message: str) -> SalesforceApiError:
    return SalesforceApiError.one(400, "MALFORMED_QUERY", message)


def json_parser_error(message: str) -> SalesforceApiError:
    return SalesforceApiError.one(400, "JSON_PARSER_ERROR", message)
