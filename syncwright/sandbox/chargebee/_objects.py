"""Chargebee API v2 resources as the emulator builds them: ids, terms, money, the error body.

Field names and enums follow Chargebee's published OpenAPI spec (``chargebee/openapi``: the v1
spec in ``tests/vendor/chargebee`` for the shared resources and errors, the Product Catalog 2.0
spec for the items model). Amounts are integers in the currency's minor units, timestamps Unix
seconds, as Chargebee sends them. https://apidocs.chargebee.com/docs/api
"""

from __future__ import annotations

import calendar
import itertools
import secrets
import string
from datetime import UTC, datetime
from typing import Any

JSON = dict[str, Any]

_ALPHABET = string.ascii_letters + string.digits
_SEQUENCE = itertools.count(1)

# https://apidocs.chargebee.com/docs/api/subscriptions#subscription_status
SUBSCRIPTION_STATUSES = ("future", "in_trial", "active", "non_renewing", "paused", "cancelled")
PERIOD_UNITS = ("day", "week", "month", "year")


def new_id(prefix: str = "") -> str:
    """An id shaped like Chargebee's (``AzZlGJQFWwjB5``, ``ev_AzZlGJQFWwjB5``)."""
    return prefix + "".join(secrets.choice(_ALPHABET) for _ in range(16))


def resource_version() -> int:
    """Chargebee's ``resource_version``: a millisecond timestamp that grows on every change
    (ordering key for out-of-order webhooks); a sequence keeps it strictly increasing."""
    return int(datetime.now(UTC).timestamp() * 1000) * 1000 + next(_SEQUENCE) % 1000


def add_period(ts: int, unit: str, count: int) -> int:
    """``ts`` moved ``count`` billing periods on (months clamp to the month's last day)."""
    moment = datetime.fromtimestamp(ts, UTC)
    if unit == "day":
        return ts + 86_400 * count
    if unit == "week":
        return ts + 7 * 86_400 * count
    months = count * (12 if unit == "year" else 1)
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return int(moment.replace(year=year, month=month, day=day).timestamp())


def api_error(
    status: int,
    api_error_code: str,
    message: str,
    *,
    error_type: str | None = "invalid_request",
    param: str | None = None,
) -> JSON:
    """Chargebee's error body: ``message``, ``type``, ``api_error_code``, ``param`` (the spec's
    error schemas) plus the older ``error_code``/``error_msg``/``http_status_code`` it still
    sends. https://apidocs.chargebee.com/docs/api/error_handling"""
    body: JSON = {
        "message": message,
        "api_error_code": api_error_code,
        "error_code": api_error_code,
        "error_msg": message,
        "http_status_code": status,
    }
    if error_type is not None:
        body["type"] = error_type
    if param is not None:
        body["param"] = param
        body["error_param"] = param
    return body


class ChargebeeAPIError(Exception):
    """Raised inside the emulator; the app turns it into Chargebee's error response."""

    def __init__(
        self,
        status: int,
        api_error_code: str,
        message: str,
        *,
        error_type: str | None = "invalid_request",
        param: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.body = api_error(status, api_error_code, message, error_type=error_type, param=param)
        self.headers = headers or {}


def not_found(resource: str, resource_id: str) -> ChargebeeAPIError:
    return ChargebeeAPIError(
        404, "resource_not_found", f"{resource} not found for id {resource_id}", param="id"
    )


def wrong_value(param: str, message: str) -> ChargebeeAPIError:
    return ChargebeeAPIError(400, "param_wrong_value", message, param=param)
