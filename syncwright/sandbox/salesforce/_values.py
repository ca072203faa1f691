"""Field values: JSON input checked and coerced the way Salesforce's REST deserializer does, and
Salesforce's date-time formats.

Salesforce writes date-times as ``2026-01-31T09:30:00.000+0000`` and stores them to the second
(the milliseconds are always ``000``); SOQL date-time literals look like
``2026-01-31T09:30:00Z`` or ``2026-01-31T09:30:00+01:00``.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from ._errors import ApiError, SalesforceApiError, json_parser_error
from ._ids import normalize_id
from ._schema import FieldDef

_DATETIME_RE = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?"
    r"(Z|[+-]\d{2}:?\d{2})?$"
)
_DATE_RE = re.compile(r"(\d{4})-(\d{2})-(\d{2})$")
_EMAIL_RE = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+$")


def format_datetime(moment: dt.datetime) -> str:
    moment = moment.astimezone(dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


def parse_datetime(text: str) -> dt.datetime | None:
    """Parse the date-time forms Salesforce accepts; naive values are taken as UTC."""
    match = _DATETIME_RE.match(text.strip())
    if not match:
        return None
    year, month, day, hour, minute, second, frac, zone = match.groups()
    try:
        micro = int((frac or "0")[:6].ljust(6, "0"))
        tz: dt.tzinfo = dt.UTC
        if zone and zone != "Z":
            sign = 1 if zone[0] == "+" else -1
            digits = zone[1:].replace(":", "")
            offset = dt.timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
            tz = dt.timezone(sign * offset)
        return dt.datetime(
            int(year), int(month), int(day), int(hour), int(minute), int(second), micro, tzinfo=tz
        ).astimezone(dt.UTC)
    except ValueError:
        return None


def parse_date(text: str) -> dt.date | None:
    match = _DATE_RE.match(text.strip())
    if not match:
        return None
    try:
        return dt.date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return None


def _token(value: Any) -> str:
    if isinstance(value, bool):
        return "VALUE_TRUE" if value else "VALUE_FALSE"
    if isinstance(value, int):
        return "VALUE_NUMBER_INT"
    if isinstance(value, float):
        return "VALUE_NUMBER_FLOAT"
    if isinstance(value, dict):
        return "START_OBJECT"
    if isinstance(value, list):
        return "START_ARRAY"
    return "VALUE_STRING"


def _cannot(kind: str, value: Any) -> SalesforceApiError:
    shown = {"START_OBJECT": "{", "START_ARRAY": "["}.get(_token(value), str(value))
    return json_parser_error(
        f"Cannot deserialize instance of {kind} from {_token(value)} value {shown} "
        "or request may be missing a required field"
    )


def _field_error(code: str, message: str, name: str) -> SalesforceApiError:
    return SalesforceApiError(400, [ApiError(code, message, [name])])


def coerce(fdef: FieldDef, value: Any) -> Any:
    """Check ``value`` for ``fdef`` and return it in stored (JSON-ready) form."""
    if value is None:
        return False if fdef.type == "boolean" else None
    kind = fdef.type
    if kind in ("reference", "id"):
        if not isinstance(value, str):
            raise _cannot("reference", value)
        normalized = normalize_id(value)
        if normalized is None:
            label = "ID" if kind == "id" else fdef.label.removesuffix(" ID")
            raise _field_error(
                "MALFORMED_ID", f"{label} ID: id value of incorrect type: {value}", fdef.name
            )
        return normalized
    if kind == "boolean":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise _cannot("boolean", value)
    if kind == "int":
        if isinstance(value, bool | dict | list):
            raise _cannot("int", value)
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise _cannot("int", value) from None
        if not number.is_integer():
            raise _cannot("int", value)
        return int(number)
    if kind in ("double", "currency", "percent"):
        if isinstance(value, bool | dict | list):
            raise _cannot("double", value)
        try:
            return float(value)
        except (TypeError, ValueError):
            raise _cannot("double", value) from None
    if kind == "date":
        parsed = parse_date(value) if isinstance(value, str) else None
        if parsed is None and isinstance(value, str):
            moment = parse_datetime(value)
            parsed = moment.date() if moment else None
        if parsed is None:
            raise _cannot("date", value)
        return parsed.isoformat()
    if kind == "datetime":
        moment = parse_datetime(value) if isinstance(value, str) else None
        if moment is None:
            raise _cannot("datetime", value)
        return format_datetime(moment.replace(microsecond=0))
    # Text-like types.
    if isinstance(value, dict | list):
        raise _cannot("string", value)
    if isinstance(value, bool):
        text = "true" if value else "false"
    else:
        text = value if isinstance(value, str) else str(value)
    if fdef.length and len(text) > fdef.length:
        raise _field_error(
            "STRING_TOO_LONG",
            f"{fdef.label}: data value too large: {text[:40]} (max length={fdef.length})",
            fdef.name,
        )
    if kind == "email" and text and not _EMAIL_RE.match(text):
        raise _field_error(
            "INVALID_EMAIL_ADDRESS", f"{fdef.label}: invalid email address: {text}", fdef.name
        )
    return text


def http_date(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%a, %d %b %Y %H:%M:%S GMT")
