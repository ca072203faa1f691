"""The REST API under ``/services/data/vXX.X``, as a plain dispatcher over (method, path).

It is independent of FastAPI so that ``/composite`` can run subrequests through exactly the same
code (and the same transaction) as top-level requests.

Resources: https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_list.htm
"""

from __future__ import annotations

import datetime as dt
import email.utils
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from . import _query
from ._errors import SalesforceApiError, invalid_field, not_found
from ._ids import normalize_id
from ._render import record_url, render
from ._schema import ObjectDef
from ._state import MultipleMatches, SalesforceState, Transaction
from ._values import format_datetime, parse_datetime

# Upsert answers 200 with a body (instead of 204) for updates from this version on.
UPSERT_BODY_VERSION = 46.0
COLLECTION_LIMIT = 200


@dataclass
class RestResponse:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class RestContext:
    """What a request carries into the dispatcher."""

    state: SalesforceState
    version: str
    origin: str
    headers: Mapping[str, str] = field(default_factory=dict)  # lower-case names
    txn: Transaction | None = None
    served: frozenset[str] = frozenset()
    # Set inside a composite allOrNone request: collections subrequests then act all-or-none.
    force_all_or_none: bool = False

    @contextmanager
    def write(self) -> Iterator[Transaction]:
        """The enclosing composite transaction, or a new one for this request alone."""
        if self.txn is not None:
            yield self.txn
            return
        with self.state.transaction(self.origin) as txn:
            yield txn

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


Handler = Callable[[RestContext, str, list[str], Mapping[str, str], Any], RestResponse]


def dispatch(
    ctx: RestContext, method: str, path: str, params: Mapping[str, str], body: Any
) -> RestResponse:
    """Answer one request; ``path`` is what follows ``/services/data/vXX.X`` (still URL-encoded)."""
    segments = [unquote(s) for s in path.split("/") if s]
    method = method.upper()
    try:
        return _route(ctx, method, segments, params, body)
    except MultipleMatches as exc:
        return RestResponse(300, exc.urls)
    except SalesforceApiError as exc:
        return RestResponse(exc.status, exc.body())


def _route(
    ctx: RestContext, method: str, seg: list[str], params: Mapping[str, str], body: Any
) -> RestResponse:
    from . import _composite  # composite dispatches back into this module

    head = seg[0] if seg else ""
    if not seg:
        return _only(method, "GET") or RestResponse(200, resources(ctx.version))
    if head == "sobjects":
        return _sobjects(ctx, method, seg[1:], params, body)
    if head in ("query", "queryAll"):
        return _only(method, "GET") or _query_resource(ctx, head, seg[1:], params)
    if head == "composite":
        return _composite.handle(ctx, method, seg[1:], params, body)
    if head == "limits" and len(seg) == 1:
        return _only(method, "GET") or RestResponse(200, limits(ctx.state))
    raise not_found()


def _only(method: str, *allowed: str) -> RestResponse | None:
    if method in allowed or (method == "HEAD" and "GET" in allowed):
        return None
    return RestResponse(
        405,
        [
            {
                "message": f"HTTP Method '{method}' not allowed. Allowed are {','.join(allowed)}",
                "errorCode": "METHOD_NOT_ALLOWED",
            }
        ],
    )


def served_versions(latest: str, oldest: str = "31.0") -> list[str]:
    """API versions from ``oldest`` to ``latest`` (three releases a year, one version each)."""
    low, high = int(float(oldest)), int(float(latest))
    return [f"{v}.0" for v in range(low, high + 1)]


def release_label(version: str) -> str:
    """Version 59.0 is Winter '24; Spring, Summer and Winter follow in that order."""
    offset = int(float(version)) - 59
    season = ("Winter", "Spring", "Summer")[offset % 3]
    return f"{season} '{24 + offset // 3}"


def versions_list(latest: str) -> list[dict[str, str]]:
    """``GET /services/data``: every served version with its release label and root URL."""
    return [
        {"label": release_label(v), "url": f"/services/data/v{v}", "version": v}
        for v in served_versions(latest)
    ]


def resources(version: str) -> dict[str, str]:
    base = f"/services/data/v{version}"
    names = ["sobjects", "query", "queryAll", "composite", "limits"]
    return {name: f"{base}/{name}" for name in names}


def limits(state: SalesforceState) -> dict[str, Any]:
    """A subset of ``/limits``; only DailyApiRequests moves, the rest are fixed sandbox values.
    https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_limits.htm
    """
    with state.lock:
        used, maximum = state.api_used, state.daily_api_limit
    return {
        "DailyApiRequests": {"Max": maximum, "Remaining": max(0, maximum - used)},
        "DailyAsyncApexExecutions": {"Max": 250000, "Remaining": 250000},
        "DailyBulkApiBatches": {"Max": 15000, "Remaining": 15000},
        "DailyBulkV2QueryJobs": {"Max": 10000, "Remaining": 10000},
        "DataStorageMB": {"Max": 5, "Remaining": 5},
        "FileStorageMB": {"Max": 20, "Remaining": 20},
        "SingleEmail": {"Max": 15, "Remaining": 15},
    }


# -- sObjects ---------------------------------------------------------------------------------


def _object(ctx: RestContext, name: str) -> ObjectDef:
    obj = ctx.state.schema.get(name)
    if obj is None:
        raise not_found()
    return obj


def _sobjects(
    ctx: RestContext, method: str, seg: list[str], params: Mapping[str, str], body: Any
) -> RestResponse:
    if not seg:
        return _only(method, "GET") or RestResponse(200, global_describe(ctx))
    obj = _object(ctx, seg[0])
    rest = seg[1:]
    if not rest:
        if method == "POST":
            return _create(ctx, obj, body)
        return _only(method, "GET", "POST") or RestResponse(200, _basic_info(ctx, obj))
    if len(rest) == 1 and rest[0] == "describe":
        return _only(method, "GET") or RestResponse(200, describe(ctx, obj))
    if len(rest) == 1 and rest[0] in ("updated", "deleted"):
        return _only(method, "GET") or _changed_since(ctx, obj, rest[0], params)
    if len(rest) == 1:
        return _record(ctx, method, obj, rest[0], params, body)
    if len(rest) == 2:
        return _by_external_id(ctx, method, obj, rest[0], rest[1], params, body)
    raise not_found()


def global_describe(ctx: RestContext) -> dict[str, Any]:
    return {
        "encoding": "UTF-8",
        "maxBatchSize": COLLECTION_LIMIT,
        "sobjects": [_object_summary(ctx, obj) for obj in ctx.state.schema.objects.values()],
    }


def _object_summary(ctx: RestContext, obj: ObjectDef) -> dict[str, Any]:
    base = f"/services/data/v{ctx.version}/sobjects/{obj.name}"
    return {
        "name": obj.name,
        "label": obj.label,
        "labelPlural": obj.label_plural,
        "keyPrefix": obj.key_prefix,
        "custom": False,
        "createable": obj.createable,
        "updateable": obj.updateable,
        "deletable": obj.deletable,
        "queryable": obj.queryable,
        "retrieveable": True,
        "undeletable": True,
        "replicateable": True,
        "urls": {
            "sobject": base,
            "describe": f"{base}/describe",
            "rowTemplate": f"{base}/{{ID}}",
        },
    }


def _basic_info(ctx: RestContext, obj: ObjectDef) -> dict[str, Any]:
    with ctx.state.lock:
        recent = ctx.state.rows(obj.name)[-5:]
    return {
        "objectDescribe": _object_summary(ctx, obj),
        "recentItems": [render(obj, r, ctx.version, ["Id"]) for r in reversed(recent)],
    }


def describe(ctx: RestContext, obj: ObjectDef) -> dict[str, Any]:
    """A minimal DescribeSObjectResult, from the Object Reference plus declared custom fields."""
    return {
        **_object_summary(ctx, obj),
        "fields": [f.describe() for f in obj.fields.values()],
        "childRelationships": [
            {"childSObject": child, "field": fname, "cascadeDelete": True}
            for child, fname in obj.cascade_delete
        ],
        "recordTypeInfos": [],
    }


def _create(ctx: RestContext, obj: ObjectDef, body: Any) -> RestResponse:
    with ctx.write() as txn:
        record_id = txn.create(obj, body if body is not None else {})
    return RestResponse(
        201,
        {"id": record_id, "success": True, "errors": []},
        {"Location": record_url(ctx.version, obj.name, record_id)},
    )


def _parse_http_date(value: str, *, strict: bool) -> dt.datetime | None:
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        moment = None
    if moment is None:
        if strict:
            raise SalesforceApiError.one(
                400, "INVALID_HEADER_VALUE", f"Invalid date in conditional header: {value}"
            )
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _record(
    ctx: RestContext,
    method: str,
    obj: ObjectDef,
    token: str,
    params: Mapping[str, str],
    body: Any,
) -> RestResponse:
    record_id = normalize_id(token)
    if record_id is None or not record_id.startswith(obj.key_prefix):
        if method == "POST" and token.lower() == "id":
            # API 37.0+: POST /sobjects/Object/Id creates, treating Id as a null external id.
            return _create(ctx, obj, body)
        if record_id is not None and method in ("PATCH", "DELETE"):
            raise SalesforceApiError.one(
                400,
                "MALFORMED_ID",
                f"{obj.label} ID: id value of incorrect type: {token}",
                ["Id"],
            )
        raise not_found(f"Provided external ID field does not exist or is not accessible: {token}")
    if method in ("GET", "HEAD"):
        return _get_record(ctx, obj, record_id, params)
    if method == "PATCH":
        since = ctx.header("If-Unmodified-Since")
        with ctx.write() as txn:
            if since is not None:
                limit = _parse_http_date(since, strict=True)
                current = parse_datetime(txn.existing(obj, record_id)["LastModifiedDate"])
                if limit is not None and current is not None and current > limit:
                    raise SalesforceApiError.one(
                        412,
                        "PRECONDITION_FAILED",
                        f"The record was modified after {since}",
                    )
            txn.update(obj, record_id, _body_without_id(body, record_id))
        return RestResponse(204)
    if method == "DELETE":
        with ctx.write() as txn:
            txn.delete(obj, record_id)
        return RestResponse(204)
    return _only(method, "GET", "PATCH", "DELETE") or RestResponse(204)


def _body_without_id(body: Any, record_id: str) -> Any:
    if not isinstance(body, dict):
        return body
    out = dict(body)
    for key in [k for k in out if k.lower() == "id"]:
        if normalize_id(str(out[key])) != record_id:
            raise SalesforceApiError.one(
                400, "INVALID_FIELD", "The Id in the request body doesn't match the URL", ["Id"]
            )
        out.pop(key)
    return out


def _get_record(
    ctx: RestContext, obj: ObjectDef, record_id: str, params: Mapping[str, str]
) -> RestResponse:
    with ctx.state.lock:
        row = ctx.state.record(obj.name, record_id)
    if row is None:
        raise not_found()
    if row["IsDeleted"]:
        raise SalesforceApiError.one(404, "ENTITY_IS_DELETED", "entity is deleted")
    since = ctx.header("If-Modified-Since")
    if since is not None:
        limit = _parse_http_date(since, strict=False)
        modified = parse_datetime(row["LastModifiedDate"])
        if limit is not None and modified is not None and modified <= limit:
            return RestResponse(304)
    fields = _field_list(obj, params.get("fields"))
    return RestResponse(200, render(obj, row, ctx.version, fields))


def _field_list(obj: ObjectDef, raw: str | None) -> list[str] | None:
    if not raw:
        return None
    names = []
    for name in (n.strip() for n in raw.split(",") if n.strip()):
        definition = obj.field(name)
        if definition is None:
            raise invalid_field(f"No such column '{name}' on entity '{obj.name}'")
        names.append(definition.name)
    return names


def _by_external_id(
    ctx: RestContext,
    method: str,
    obj: ObjectDef,
    field_name: str,
    value: str,
    params: Mapping[str, str],
    body: Any,
) -> RestResponse:
    definition = obj.field(field_name)
    if definition is None or not (definition.external_id or definition.name == "Id"):
        raise not_found(
            f"Provided external ID field does not exist or is not accessible: {field_name}"
        )
    if method in ("GET", "HEAD", "DELETE"):
        with ctx.state.lock:
            matches = ctx.state.find_by_external_id(obj, definition, value)
        if len(matches) > 1:
            raise MultipleMatches([record_url(ctx.version, obj.name, m) for m in matches])
        if not matches:
            raise not_found()
        if method == "DELETE":
            with ctx.write() as txn:
                txn.delete(obj, matches[0])
            return RestResponse(204)
        return _get_record(ctx, obj, matches[0], params)
    if method in ("PATCH", "POST"):
        update_only = params.get("updateOnly", "").lower() == "true"
        with ctx.write() as txn:
            record_id, created = txn.upsert(
                obj, definition.name, value, body or {}, update_only=update_only
            )
        if created:
            result: dict[str, Any] = {"id": record_id, "success": True, "errors": []}
            if float(ctx.version) >= UPSERT_BODY_VERSION:
                result["created"] = True
            return RestResponse(201, result)
        if float(ctx.version) >= UPSERT_BODY_VERSION:
            return RestResponse(
                200, {"id": record_id, "success": True, "errors": [], "created": False}
            )
        return RestResponse(204)
    return _only(method, "GET", "PATCH", "DELETE") or RestResponse(204)


def _changed_since(
    ctx: RestContext, obj: ObjectDef, which: str, params: Mapping[str, str]
) -> RestResponse:
    """``/updated`` and ``/deleted``: ids changed in a window (SystemModstamp based)."""
    start = parse_datetime(params.get("start", ""))
    end = parse_datetime(params.get("end", ""))
    if start is None or end is None:
        raise SalesforceApiError.one(
            400, "INVALID_REPLICATION_DATE", "start and end must be ISO 8601 date-times"
        )
    rows = ctx.state.rows(obj.name, include_deleted=True)
    window = [
        r
        for r in rows
        if (stamp := parse_datetime(r["SystemModstamp"])) is not None and start <= stamp <= end
    ]
    latest = format_datetime(min(end, ctx.state.clock()).replace(microsecond=0))
    if which == "updated":
        return RestResponse(
            200,
            {"ids": [r["Id"] for r in window if not r["IsDeleted"]], "latestDateCovered": latest},
        )
    oldest = min((r["CreatedDate"] for r in rows), default=latest)
    return RestResponse(
        200,
        {
            "deletedRecords": [
                {"id": r["Id"], "deletedDate": r["SystemModstamp"]}
                for r in window
                if r["IsDeleted"]
            ],
            "earliestDateAvailable": oldest,
            "latestDateCovered": latest,
        },
    )


# -- query ------------------------------------------------------------------------------------


def _query_resource(
    ctx: RestContext, endpoint: str, seg: list[str], params: Mapping[str, str]
) -> RestResponse:
    if seg:
        if len(seg) != 1:
            raise not_found()
        return RestResponse(200, _query.more(ctx.state, seg[0], ctx.version))
    text = params.get("q")
    if not text:
        raise SalesforceApiError.one(400, "MALFORMED_QUERY", "A query string has to be specified")
    batch = _query.batch_size(ctx.header("Sforce-Query-Options"))
    result = _query.execute(
        ctx.state,
        text,
        include_deleted=endpoint == "queryAll",
        batch=batch,
        version=ctx.version,
    )
    return RestResponse(200, result)
