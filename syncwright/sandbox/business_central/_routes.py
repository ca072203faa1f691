"""Answering one API v2.0 request: the URL's segments (``companies(id)/salesOrders(id)/
salesOrderLines``), OData query options over a collection, single records with their ETag,
bound actions and the subscriptions entity set. Runs on a worker thread (a subscription's
handshake calls out over HTTP)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

from fastapi import Request
from fastapi.responses import JSONResponse, Response

from syncwright.sandbox.business_central._company import Record
from syncwright.sandbox.business_central._errors import BcApiError
from syncwright.sandbox.business_central._odata import parse_filter, parse_orderby, query_error
from syncwright.sandbox.business_central._schema import ENTITY_SETS, LINE_SETS, EntitySet

if TYPE_CHECKING:
    from syncwright.sandbox.business_central._app import BusinessCentralSandbox

__all__ = ["dispatch"]

_SEGMENT = re.compile(r"^([A-Za-z][A-Za-z0-9.]*)(?:\((.*)\))?$")
_BOUND_ACTIONS = ("Microsoft.NAV.post", "Microsoft.NAV.cancel")


def _key(text: str | None) -> str:
    return (text or "").strip().strip("'").lower()


def _entity(record: Record, context: str) -> dict[str, Any]:
    return {"@odata.context": context, **record}


def _segments(path: str) -> list[tuple[str, str | None]]:
    out: list[tuple[str, str | None]] = []
    for part in [p for p in path.split("/") if p]:
        match = _SEGMENT.match(part)
        if match is None:
            raise BcApiError(
                400, "BadRequest_NotFound", f"Bad Request - Error in query syntax: '{part}'"
            )
        out.append((match.group(1), match.group(2)))
    return out


def dispatch(
    sandbox: BusinessCentralSandbox, request: Request, root: str, path: str, body: Any
) -> Response:
    segments = _segments(path)
    method = request.method
    if segments and segments[0][0] == "subscriptions":
        return _subscriptions(sandbox, method, segments, body, root)
    if not segments or segments[0][0] != "companies":
        name = segments[0][0] if segments else ""
        raise BcApiError(
            404, "BadRequest_ResourceNotFound", f"Resource not found for the segment '{name}'"
        )
    state = sandbox.state
    if len(segments) == 1:
        if method != "GET":
            raise BcApiError(
                405,
                "BadRequest_MethodNotAllowed",
                f"'{method}' requests for 'companies' of EdmType 'Entity' "
                f"are not allowed within Microsoft Dynamics NAV OData web services.",
            )
        key = segments[0][1]
        if key is None:
            rows = list(state.iter_companies())
            return _collection(request, rows, f"{root}/$metadata#companies", sandbox.page_size)
        return JSONResponse(
            _entity(state.company(_key(key)).record, f"{root}/$metadata#companies/$entity")
        )
    company_id = _key(segments[0][1])
    state.company(company_id)
    name, key = segments[1]
    spec = ENTITY_SETS.get(name) or LINE_SETS.get(name)
    if spec is None:
        raise BcApiError(
            404, "BadRequest_ResourceNotFound", f"Resource not found for the segment '{name}'"
        )
    context = f"{root}/$metadata#companies({company_id})/{name}"
    rest = segments[2:]
    if key is None:
        if rest:
            raise BcApiError(400, "BadRequest_NotFound", "Bad Request - Error in query syntax.")
        if method == "GET":
            return _collection(
                request,
                _expanded(sandbox, company_id, spec, state.rows(company_id, name), request),
                context,
                sandbox.page_size,
            )
        if method == "POST":
            if not spec.creatable:
                raise BcApiError(
                    405,
                    "BadRequest_MethodNotAllowed",
                    f"'POST' requests for '{name}' of EdmType 'Entity' "
                    f"are not allowed within Microsoft Dynamics NAV OData web services.",
                )
            created = state.create(company_id, spec, dict(body or {}))
            return _single(sandbox, company_id, spec, created, f"{context}/$entity", request, 201)
        raise BcApiError(
            405, "BadRequest_MethodNotAllowed", f"'{method}' requests for '{name}' are not allowed."
        )
    record_id = _key(key)
    if rest:
        (sub, sub_key), *deeper = rest
        if deeper:
            raise BcApiError(400, "BadRequest_NotFound", "Bad Request - Error in query syntax.")
        if sub in _BOUND_ACTIONS and method == "POST":
            if sub == "Microsoft.NAV.post":
                state.post(company_id, spec, record_id)
            else:
                state.cancel(company_id, spec, record_id)
            return Response(status_code=204)
        if sub == spec.lines and sub_key is None:
            state.get(company_id, spec, record_id)
            if method == "GET":
                return _collection(
                    request,
                    state.lines_of(company_id, spec, record_id),
                    f"{context}({record_id})/{sub}",
                    sandbox.page_size,
                )
            if method == "POST":
                line = state.add_line(company_id, spec, record_id, dict(body or {}))
                return _single(
                    sandbox,
                    company_id,
                    LINE_SETS[sub],
                    line,
                    f"{context}({record_id})/{sub}/$entity",
                    request,
                    201,
                )
        if sub == spec.lines and sub_key is not None:
            return _by_key(
                sandbox,
                request,
                company_id,
                LINE_SETS[sub],
                _key(sub_key),
                body,
                f"{context}({record_id})/{sub}/$entity",
            )
        raise BcApiError(
            404, "BadRequest_ResourceNotFound", f"Resource not found for the segment '{sub}'"
        )
    return _by_key(sandbox, request, company_id, spec, record_id, body, f"{context}/$entity")


def _by_key(
    sandbox: BusinessCentralSandbox,
    request: Request,
    company_id: str,
    spec: EntitySet,
    record_id: str,
    body: Any,
    context: str,
) -> Response:
    state = sandbox.state
    method = request.method
    if_match = request.headers.get("if-match")
    if method == "GET":
        return _single(
            sandbox, company_id, spec, state.get(company_id, spec, record_id), context, request
        )
    if method == "PATCH":
        updated = state.update(company_id, spec, record_id, dict(body or {}), if_match)
        return _single(sandbox, company_id, spec, updated, context, request)
    if method == "DELETE":
        state.delete(company_id, spec, record_id, if_match)
        return Response(status_code=204)
    raise BcApiError(
        405, "BadRequest_MethodNotAllowed", f"'{method}' requests are not allowed here."
    )


def _expand_of(request: Request, spec: EntitySet) -> list[str]:
    raw = request.query_params.get("$expand")
    if not raw:
        return []
    wanted = [p.strip() for p in raw.split(",") if p.strip()]
    for name in wanted:
        if name != spec.lines:
            raise query_error(
                f"Could not find a property named '{name}' on type 'Microsoft.NAV.{spec.entity}'."
            )
    return wanted


def _expanded(
    sandbox: BusinessCentralSandbox,
    company_id: str,
    spec: EntitySet,
    rows: list[Record],
    request: Request,
) -> list[Record]:
    for name in _expand_of(request, spec):
        for row in rows:
            row[name] = sandbox.state.lines_of(company_id, spec, row["id"])
    return rows


def _single(
    sandbox: BusinessCentralSandbox,
    company_id: str,
    spec: EntitySet,
    record: Record,
    context: str,
    request: Request,
    status: int = 200,
) -> Response:
    [record] = _expanded(sandbox, company_id, spec, [record], request)
    headers = {"ETag": record["@odata.etag"]} if "@odata.etag" in record else {}
    return JSONResponse(_entity(record, context), status_code=status, headers=headers)


def _collection(request: Request, rows: list[Record], context: str, page_size: int) -> Response:
    params = request.query_params
    fields = frozenset(k for row in rows for k in row) or frozenset({"id"})
    if "$filter" in params:
        fields = fields | frozenset(_known_fields(context))
        predicate = parse_filter(params["$filter"], fields)
        rows = [r for r in rows if predicate(r)]
    if "$orderby" in params:
        for name, descending in reversed(
            parse_orderby(params["$orderby"], fields | frozenset(_known_fields(context)))
        ):
            rows.sort(key=_sort_key(name), reverse=descending)
    skip = _int_param(params, "$skip") + _int_param(params, "$skiptoken")
    top = params.get("$top")
    rows = rows[skip:]
    if top is not None:
        rows = rows[: _int_param(params, "$top")]
    page, more = rows[:page_size], len(rows) > page_size
    if "$select" in params:
        keep = {s.strip() for s in params["$select"].split(",")} | {"@odata.etag"}
        page = [{k: v for k, v in r.items() if k in keep} for r in page]
    out: dict[str, Any] = {"@odata.context": context, "value": page}
    if more:
        query = {k: v for k, v in params.items() if k not in ("$skiptoken", "$skip")}
        if top is not None:
            query["$top"] = str(_int_param(params, "$top") - page_size)
        query["$skiptoken"] = str(skip + page_size)
        out["@odata.nextLink"] = (
            f"{str(request.url).split('?')[0]}?{urlencode(query, quote_via=quote)}"
        )
    return JSONResponse(out)


def _sort_key(name: str) -> Any:
    def key(row: Record) -> tuple[bool, Any]:
        value = row.get(name)
        return value is None, value if isinstance(value, int | float) else str(value)

    return key


def _known_fields(context: str) -> frozenset[str]:
    name = context.rsplit("/", 1)[-1]
    spec = ENTITY_SETS.get(name) or LINE_SETS.get(name)
    return spec.fields if spec is not None else frozenset()


def _int_param(params: Any, name: str) -> int:
    raw = params.get(name)
    if raw is None:
        return 0
    if not str(raw).isdigit():
        raise query_error(f"Invalid value '{raw}' for {name}.")
    return int(raw)


def _subscriptions(
    sandbox: BusinessCentralSandbox,
    method: str,
    segments: list[tuple[str, str | None]],
    body: Any,
    root: str,
) -> Response:
    subs = sandbox.subscriptions
    key = segments[0][1]
    context = f"{root}/$metadata#subscriptions"
    if key is None:
        if method == "GET":
            return JSONResponse({"@odata.context": context, "value": list(subs.records.values())})
        if method == "POST":
            return JSONResponse(
                _entity(subs.create(dict(body or {})), f"{context}/$entity"), status_code=201
            )
    else:
        sid = key.strip("'")
        if method == "GET":
            return JSONResponse(_entity(dict(subs.get(sid)), f"{context}/$entity"))
        if method == "PATCH":
            return JSONResponse(_entity(subs.renew(sid, dict(body or {})), f"{context}/$entity"))
        if method == "DELETE":
            subs.delete(sid)
            return Response(status_code=204)
    raise BcApiError(
        405,
        "BadRequest_MethodNotAllowed",
        f"'{method}' requests for 'subscriptions' are not allowed.",
    )
