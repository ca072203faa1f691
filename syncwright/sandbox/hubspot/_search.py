"""The CRM search API: ``filterGroups`` (OR of groups, AND within one), ``sorts``, ``after``.

https://developers.hubspot.com/docs/api/crm/search -- up to 5 filter groups of up to 6 filters,
``limit`` up to 200, paging by ``after`` (an offset as a string), at most 10,000 results per
query. Values compare as numbers when both sides are numbers, as ISO date-times or epoch
milliseconds for date properties, else as strings (case-insensitive for EQ, as HubSpot does).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from syncwright.sandbox.hubspot import _errors as err
from syncwright.sandbox.hubspot._state import CrmObject

MAX_GROUPS = 5
MAX_FILTERS = 6
MAX_LIMIT = 200
MAX_RESULTS = 10_000


def _comparable(value: Any) -> float | str:
    text = str(value).strip()
    try:
        return float(text)
    except ValueError:
        pass
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000
    except ValueError:
        return text.lower()


def _compare(left: Any, right: Any) -> int:
    a, b = _comparable(left), _comparable(right)
    if type(a) is not type(b):
        a, b = str(left).lower(), str(right).lower()
    return (a > b) - (a < b)  # type: ignore[operator]


_OPS: dict[str, Callable[[str | None, Mapping[str, Any]], bool]] = {
    "EQ": lambda v, f: v is not None and _compare(v, f.get("value")) == 0,
    "NEQ": lambda v, f: v is None or _compare(v, f.get("value")) != 0,
    "LT": lambda v, f: v is not None and _compare(v, f.get("value")) < 0,
    "LTE": lambda v, f: v is not None and _compare(v, f.get("value")) <= 0,
    "GT": lambda v, f: v is not None and _compare(v, f.get("value")) > 0,
    "GTE": lambda v, f: v is not None and _compare(v, f.get("value")) >= 0,
    "BETWEEN": lambda v, f: (
        v is not None and _compare(v, f.get("value")) >= 0 and _compare(v, f.get("highValue")) <= 0
    ),
    "IN": lambda v, f: v is not None and any(_compare(v, x) == 0 for x in f.get("values") or []),
    "NOT_IN": lambda v, f: v is None or all(_compare(v, x) != 0 for x in f.get("values") or []),
    "HAS_PROPERTY": lambda v, f: v not in (None, ""),
    "NOT_HAS_PROPERTY": lambda v, f: v in (None, ""),
    "CONTAINS_TOKEN": lambda v, f: (
        v is not None and str(f.get("value", "")).strip("*").lower() in v.lower()
    ),
}


def _matches(record: CrmObject, group: Mapping[str, Any]) -> bool:
    for flt in group.get("filters") or []:
        op = _OPS[str(flt.get("operator"))]
        value = record.properties.get(str(flt.get("propertyName")))
        if not op(value or None, flt):
            return False
    return True


def search(
    records: list[CrmObject], request: Mapping[str, Any], known: set[str]
) -> tuple[list[CrmObject], int, int]:
    """``(page, total, next offset or -1)`` for a search request body."""
    groups = request.get("filterGroups") or []
    if len(groups) > MAX_GROUPS or any(len(g.get("filters") or []) > MAX_FILTERS for g in groups):
        raise err.validation(
            f"There can be no more than {MAX_GROUPS} filterGroups with {MAX_FILTERS} filters each"
        )
    for group in groups:
        for flt in group.get("filters") or []:
            if flt.get("operator") not in _OPS:
                raise err.validation(f"Unknown filter operator {flt.get('operator')!r}")
            if flt.get("propertyName") not in known:
                raise err.validation(
                    f"There was a problem with the request: property "
                    f"{flt.get('propertyName')!r} does not exist"
                )
    found = [r for r in records if not groups or any(_matches(r, g) for g in groups)]
    sorts = request.get("sorts") or []
    # Default order: by id (creation), as HubSpot's results come without a sort.
    found.sort(key=lambda r: int(r.id))
    for sort in reversed(sorts):
        if isinstance(sort, str):  # "-createdate" or "createdate"
            name, descending = sort.lstrip("-"), sort.startswith("-")
        else:
            name = str(sort.get("propertyName"))
            descending = str(sort.get("direction", "ASCENDING")).upper() == "DESCENDING"
        found.sort(key=_by(name), reverse=descending)
    try:
        limit = int(request.get("limit") or 10)
        offset = int(request.get("after") or 0)
    except (TypeError, ValueError) as exc:
        raise err.validation("limit and after must be integers") from exc
    if not 0 < limit <= MAX_LIMIT:
        raise err.validation(f"limit must be between 1 and {MAX_LIMIT}")
    if offset + limit > MAX_RESULTS:
        raise err.validation(f"Search returns at most {MAX_RESULTS} results per query")
    page = found[offset : offset + limit]
    following = offset + limit if offset + limit < len(found) else -1
    return page, len(found), following


def _by(name: str) -> Callable[[CrmObject], tuple[int, float | str]]:
    return lambda record: _sort_key(record.properties.get(name))


def _sort_key(value: str | None) -> tuple[int, float | str]:
    if value in (None, ""):
        return (0, "")
    key = _comparable(value)
    return (1, key) if isinstance(key, float) else (2, key)
