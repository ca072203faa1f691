"""Dates in SuiteQL as a NetSuite account answers them.

A date or date/time column comes back as the date alone, in the account's date format
(Set Preferences > Date Format; ``M/D/YYYY`` by default in the US), so ``lastmodifieddate``
reads ``12/3/2026`` and its time is lost. A sortable timestamp takes Oracle's
``TO_CHAR(lastmodifieddate, 'YYYY-MM-DD HH24:MI:SS')``; a comparison with a text takes
``TO_DATE(...)`` / ``TO_TIMESTAMP(...)`` with a format, or a literal in the account's format
(Oracle's implicit conversion: ``lastmodifieddate >= '12/3/2026'``). Anything else is refused
as Oracle refuses it (ORA-01861/ORA-01843).

Inside the emulator a date is the sortable text ``YYYY-MM-DD HH:MM:SS`` (UTC).
"""

from __future__ import annotations

import datetime as dt
import re

#: The emulated account's date format preference.
ACCOUNT_DATE_FORMAT = "M/D/YYYY"

# Oracle datetime format elements the emulator knows -> strftime directives.
_ELEMENTS = {
    "YYYY": "%Y",
    "MM": "%m",
    "DD": "%d",
    "HH24": "%H",
    "HH12": "%I",
    "HH": "%I",
    "MI": "%M",
    "SS": "%S",
    "AM": "%p",
    "PM": "%p",
}
_FORMAT_TOKEN = re.compile(r'YYYY|MM|DD|HH24|HH12|HH|MI|SS|AM|PM|[-/:.,;T ]|"[^"]*"')
# The account preference's own elements: M and D are not zero-padded.
_PREFERENCE_TOKEN = re.compile(r"YYYY|MM|M|DD|D|[-/.]")


class DateFormatError(ValueError):
    """A format element or a text that does not match its format (the query is refused)."""


def _strftime_pattern(oracle_format: str) -> str:
    upper = oracle_format.upper()
    out: list[str] = []
    pos = 0
    while pos < len(upper):
        match = _FORMAT_TOKEN.match(upper, pos)
        if match is None:
            raise DateFormatError(f"ORA-01821: date format not recognized: {oracle_format!r}")
        token = match.group(0)
        out.append(_ELEMENTS.get(token, token.strip('"').replace("%", "%%")))
        pos = match.end()
    return "".join(out)


def internal(value: str | None) -> str | None:
    """A stored date (``2026-01-01``) or time (``2026-12-03T18:25:15Z``) -> internal text."""
    if value is None:
        return None
    text = value.rstrip("Z").replace("T", " ")
    return text if len(text) > 10 else f"{text[:10]} 00:00:00"


def _parse_internal(value: str) -> dt.datetime:
    return dt.datetime.strptime(value, "%Y-%m-%d %H:%M:%S")


def to_char(value: str | None, oracle_format: str) -> str | None:
    """``TO_CHAR(date, 'format')``."""
    if value is None:
        return None
    return _parse_internal(value).strftime(_strftime_pattern(oracle_format))


def to_date(text: str | None, oracle_format: str) -> str | None:
    """``TO_DATE('text', 'format')`` / ``TO_TIMESTAMP``: the text read by its format."""
    if text is None:
        return None
    try:
        parsed = dt.datetime.strptime(text, _strftime_pattern(oracle_format))
    except ValueError as exc:
        raise DateFormatError(
            f"ORA-01861: literal {text!r} does not match format string {oracle_format!r}"
        ) from exc
    return parsed.strftime("%Y-%m-%d %H:%M:%S")


def display(value: str | None, preference: str = ACCOUNT_DATE_FORMAT) -> str | None:
    """A date column as the account shows it: the date alone, in its date format."""
    if value is None:
        return None
    when = _parse_internal(value)
    parts = {
        "YYYY": f"{when.year:04d}",
        "MM": f"{when.month:02d}",
        "M": str(when.month),
        "DD": f"{when.day:02d}",
        "D": str(when.day),
    }
    return "".join(parts.get(t, t) for t in _PREFERENCE_TOKEN.findall(preference))


def implicit(text: str | None, preference: str = ACCOUNT_DATE_FORMAT) -> str | None:
    """A text compared with a date, converted as Oracle does: by the account's date format."""
    if text is None:
        return None
    pattern = "".join(
        {"YYYY": r"(?P<y>\d{4})", "MM": r"(?P<m>\d{1,2})", "M": r"(?P<m>\d{1,2})"}.get(
            t, {"DD": r"(?P<d>\d{1,2})", "D": r"(?P<d>\d{1,2})"}.get(t, re.escape(t))
        )
        for t in _PREFERENCE_TOKEN.findall(preference)
    )
    match = re.fullmatch(pattern, text.strip())
    try:
        if match is None:
            raise ValueError(text)
        day = dt.date(int(match["y"]), int(match["m"]), int(match["d"]))
    except ValueError as exc:
        raise DateFormatError(
            f"ORA-01843: not a valid month: {text!r} is not a date in the account's format "
            f"{preference}; use TO_DATE('{text}', '<format>') or TO_TIMESTAMP"
        ) from exc
    return f"{day.isoformat()} 00:00:00"
