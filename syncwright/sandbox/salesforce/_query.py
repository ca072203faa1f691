"""Query and QueryAll with Salesforce's paging: ``done``, ``totalSize`` and ``nextRecordsUrl``.

https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_query.htm
Batch size comes from ``Sforce-Query-Options: batchSize=N`` (200..2000, default 2000):
https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/headers_queryoptions.htm
A query's result set is fixed when it runs (the query locator is a server-side cursor).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from . import _soql
from ._errors import SalesforceApiError
from ._ids import QUERY_LOCATOR_PREFIX
from ._render import render
from ._state import SalesforceState

DEFAULT_BATCH = 2000
MIN_BATCH = 200
_LOCATOR_RE = re.compile(r"^(01g[0-9A-Za-z]{15})-(\d+)$")


@dataclass
class QueryCursor:
    locator: str
    endpoint: str
    records: list[dict[str, Any]]
    batch: int


def batch_size(header: str | None) -> int:
    """Parse ``Sforce-Query-Options``; Salesforce treats the size as a hint within 200..2000."""
    if not header:
        return DEFAULT_BATCH
    match = re.search(r"batchSize\s*=\s*(\d+)", header)
    if not match:
        return DEFAULT_BATCH
    return max(MIN_BATCH, min(DEFAULT_BATCH, int(match.group(1))))


def execute(
    state: SalesforceState, text: str, *, include_deleted: bool, batch: int, version: str
) -> dict[str, Any]:
    query = _soql.resolve(_soql.parse(text), state.schema)
    obj = query.obj
    assert obj is not None
    with state.lock:
        rows = state.rows(obj.name, include_deleted=include_deleted)
        now = state.clock()
    if query.where is not None:
        predicate = _soql.compile_condition(query.where, now)
        rows = [r for r in rows if predicate(r)]
    for item in reversed(query.order_by):
        definition = obj.fields[item.field]
        rows = sorted(
            rows,
            key=_soql.sort_key(definition, item.descending, item.nulls_last),
            reverse=item.descending,
        )
    if query.offset:
        rows = rows[query.offset :]
    if query.limit is not None:
        rows = rows[: query.limit]
    if query.count_only:
        return {"totalSize": len(rows), "done": True, "records": []}
    records = [render(obj, r, version, query.selected) for r in rows]
    endpoint = "queryAll" if include_deleted else "query"
    if len(records) <= batch:
        return {"totalSize": len(records), "done": True, "records": records}
    locator = state.ids.new(QUERY_LOCATOR_PREFIX)
    with state.lock:
        state.cursors[locator] = QueryCursor(locator, endpoint, records, batch)
        while len(state.cursors) > state.query_cursor_limit:
            state.cursors.pop(next(iter(state.cursors)))
    return _page(state.cursors[locator], 0, version)


def more(state: SalesforceState, token: str, version: str) -> dict[str, Any]:
    """The page of a query locator (``01g...-2000``) that ``nextRecordsUrl`` pointed at."""
    match = _LOCATOR_RE.match(token)
    with state.lock:
        cursor = state.cursors.get(match.group(1)) if match else None
    if cursor is None or match is None:
        raise SalesforceApiError.one(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
    return _page(cursor, int(match.group(2)), version)


def _page(cursor: QueryCursor, start: int, version: str) -> dict[str, Any]:
    end = start + cursor.batch
    out: dict[str, Any] = {
        "totalSize": len(cursor.records),
        "done": end >= len(cursor.records),
        "records": cursor.records[start:end],
    }
    if not out["done"]:
        out["nextRecordsUrl"] = (
            f"/services/data/v{version}/{cursor.endpoint}/{cursor.locator}-{end}"
        )
    return out
