"""``/composite`` (subrequests with ``@{ref.field}`` references and ``allOrNone``) and
sObject Collections (``/composite/sobjects``: create, update, upsert, retrieve, delete).

Composite: https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_composite_composite.htm
Collections: https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_composite_sobjects_collections.htm
allOrNone in both: https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_composite_allornone.htm
A composite request, and a collections request, each count as one API call.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from . import _rest
from ._errors import ApiError, SalesforceApiError, json_parser_error, not_found
from ._ids import normalize_id
from ._render import render
from ._schema import ObjectDef
from ._state import Transaction

MAX_SUBREQUESTS = 25
_REF_RE = re.compile(r"@\{([A-Za-z0-9_]+)((?:\.[A-Za-z0-9_]+|\[\d+\])*)\}")
_URL_RE = re.compile(r"^/services/data/v(\d+\.\d)(/.*)?$")
_HALTED = "The transaction was rolled back since another operation in the same transaction failed."
_ROLLED_BACK = ApiError(
    "ALL_OR_NONE_OPERATION_ROLLED_BACK",
    "Record rolled back because not all records were valid and the request was using "
    "AllOrNone header",
)


def handle(
    ctx: _rest.RestContext,
    method: str,
    seg: list[str],
    params: Mapping[str, str],
    body: Any,
) -> _rest.RestResponse:
    if not seg:
        return _rest._only(method, "POST") or _composite(ctx, body)
    if seg[0] != "sobjects":
        raise not_found()
    if len(seg) == 1:
        if method == "POST":
            return _collection_write(ctx, "create", body)
        if method == "PATCH":
            return _collection_write(ctx, "update", body)
        if method == "DELETE":
            return _collection_delete(ctx, params)
        return _rest._only(method, "POST", "PATCH", "DELETE") or _rest.RestResponse(204)
    obj = _rest._object(ctx, seg[1])
    if len(seg) == 2 and method in ("GET", "POST"):
        return _collection_retrieve(ctx, obj, params, body if method == "POST" else None)
    if len(seg) == 2 and method == "DELETE":
        return _collection_delete(ctx, params)
    if len(seg) == 2 and method == "PATCH":
        # Salesforce's own Postman collection sends updates here; records default to the type.
        return _collection_write(ctx, "update", body, default=obj)
    if len(seg) == 3 and method == "PATCH":
        return _collection_upsert(ctx, obj, seg[2], body)
    raise not_found()


# -- /composite ------------------------------------------------------------------------------


class _Rollback(Exception):
    pass


def _composite(ctx: _rest.RestContext, body: Any) -> _rest.RestResponse:
    if not isinstance(body, dict) or not isinstance(body.get("compositeRequest"), list):
        raise json_parser_error("Received invalid composite request: compositeRequest is required")
    subrequests: list[Any] = body["compositeRequest"]
    if not subrequests or len(subrequests) > MAX_SUBREQUESTS:
        raise SalesforceApiError.one(
            400,
            "INVALID_API_INPUT",
            f"A composite request must contain between 1 and {MAX_SUBREQUESTS} subrequests",
        )
    seen: set[str] = set()
    for sub in subrequests:
        ref = sub.get("referenceId") if isinstance(sub, dict) else None
        if not isinstance(ref, str) or not re.fullmatch(r"[A-Za-z0-9_]+", ref) or ref in seen:
            raise json_parser_error(f"Invalid or duplicate referenceId: {ref!r}")
        if not isinstance(sub.get("url"), str) or not isinstance(sub.get("method"), str):
            raise json_parser_error(f"Subrequest {ref} needs method and url")
        seen.add(ref)
    if bool(body.get("allOrNone")):
        results: list[dict[str, Any]] = []
        try:
            with ctx.state.transaction(ctx.origin) as txn:
                sub_ctx = replace(ctx, txn=txn)
                for sub in subrequests:
                    result = _run_sub(sub_ctx, sub, results, all_or_none=True)
                    results.append(result)
                    if _failed(result):
                        raise _Rollback
        except _Rollback:
            failed_at = len(results) - 1
            halted = {"errorCode": "PROCESSING_HALTED", "message": _HALTED}
            out = []
            for i, sub in enumerate(subrequests):
                if i == failed_at:
                    out.append(results[i])
                else:
                    out.append(_sub_result(sub["referenceId"], 400, [halted], {}))
            return _rest.RestResponse(200, {"compositeResponse": out})
        return _rest.RestResponse(200, {"compositeResponse": results})
    results = []
    for sub in subrequests:
        results.append(_run_sub(ctx, sub, results, all_or_none=False))
    return _rest.RestResponse(200, {"compositeResponse": results})


def _failed(result: dict[str, Any]) -> bool:
    if result["httpStatusCode"] >= 400:
        return True
    body = result.get("body")
    # A collections subrequest answers 200 even when records failed.
    return isinstance(body, list) and any(
        isinstance(r, dict) and r.get("success") is False for r in body
    )


def _sub_result(ref: str, status: int, body: Any, headers: dict[str, str]) -> dict[str, Any]:
    return {"body": body, "httpHeaders": headers, "httpStatusCode": status, "referenceId": ref}


def _run_sub(
    ctx: _rest.RestContext,
    sub: dict[str, Any],
    done: list[dict[str, Any]],
    *,
    all_or_none: bool,
) -> dict[str, Any]:
    ref = sub["referenceId"]
    by_ref = {r["referenceId"]: r for r in done}
    try:
        url = _substitute_text(sub["url"], by_ref)
        body = _substitute(sub.get("body"), by_ref)
    except _BadReference as exc:
        return _sub_result(ref, 400, [{"errorCode": "PROCESSING_HALTED", "message": str(exc)}], {})
    parts = urlsplit(url)
    match = _URL_RE.match(parts.path)
    if match is None or match.group(1) not in ctx.served:
        error = {"errorCode": "NOT_FOUND", "message": "The requested resource does not exist"}
        return _sub_result(ref, 404, [error], {})
    headers = dict(ctx.headers)
    headers.update({str(k).lower(): str(v) for k, v in (sub.get("httpHeaders") or {}).items()})
    sub_ctx = replace(
        ctx,
        version=match.group(1),
        headers=headers,
        force_all_or_none=all_or_none or ctx.force_all_or_none,
    )
    params = dict(parse_qsl(parts.query))
    response = _rest.dispatch(sub_ctx, sub["method"], match.group(2) or "/", params, body)
    return _sub_result(ref, response.status, response.body, response.headers)


class _BadReference(Exception):
    pass


def _resolve(expr_ref: str, path: str, by_ref: Mapping[str, dict[str, Any]]) -> Any:
    result = by_ref.get(expr_ref)
    text = f"{expr_ref}{path}"
    if result is None or _failed(result):
        raise _BadReference(
            f"Invalid reference specified. No value for {text} found in {expr_ref}. "
            "Provided referenceId is either invalid or not in the correct order."
        )
    value: Any = result["body"]
    for step in re.findall(r"\.([A-Za-z0-9_]+)|\[(\d+)\]", path):
        key, index = step
        try:
            value = value[int(index)] if index else value[key]
        except (KeyError, IndexError, TypeError):
            raise _BadReference(
                f"Invalid reference specified. No value for {text} found in {expr_ref}."
            ) from None
    return value


def _substitute_text(text: str, by_ref: Mapping[str, dict[str, Any]]) -> str:
    return _REF_RE.sub(lambda m: str(_resolve(m.group(1), m.group(2), by_ref)), text)


def _substitute(value: Any, by_ref: Mapping[str, dict[str, Any]]) -> Any:
    if isinstance(value, str):
        whole = _REF_RE.fullmatch(value)
        if whole:
            return _resolve(whole.group(1), whole.group(2), by_ref)
        return _substitute_text(value, by_ref)
    if isinstance(value, list):
        return [_substitute(v, by_ref) for v in value]
    if isinstance(value, dict):
        return {k: _substitute(v, by_ref) for k, v in value.items()}
    return value


# -- sObject Collections ---------------------------------------------------------------------


def _records_arg(body: Any) -> tuple[list[Any], bool]:
    if not isinstance(body, dict) or not isinstance(body.get("records"), list):
        raise json_parser_error("The request body must contain a records array")
    records: list[Any] = body["records"]
    if len(records) > _rest.COLLECTION_LIMIT:
        raise SalesforceApiError.one(
            400,
            "EXCEEDED_ID_LIMIT",
            "record limit reached. cannot submit more than 200 records into this call",
        )
    return records, bool(body.get("allOrNone"))


def _record_type(ctx: _rest.RestContext, record: Any, default: ObjectDef | None) -> ObjectDef:
    if not isinstance(record, dict):
        raise json_parser_error("Each record must be a JSON object")
    attributes = record.get("attributes")
    name = attributes.get("type") if isinstance(attributes, dict) else None
    if name is None and default is not None:
        return default
    obj = ctx.state.schema.get(name) if isinstance(name, str) else None
    if obj is None:
        raise SalesforceApiError.one(400, "INVALID_TYPE", "Must send a concrete entity type.")
    return obj


def _split_id(record: dict[str, Any]) -> tuple[str | None, dict[str, Any]]:
    body = {k: v for k, v in record.items() if k.lower() != "id"}
    ids = [v for k, v in record.items() if k.lower() == "id"]
    return (str(ids[0]) if ids and ids[0] is not None else None), body


def _record_id_of(record: Any) -> str | None:
    if isinstance(record, dict):
        return _split_id(record)[0]
    return str(record) if isinstance(record, str) else None


def _run_records(
    ctx: _rest.RestContext,
    txn: Transaction,
    records: list[Any],
    all_or_none: bool,
    one: Callable[[Transaction, Any], dict[str, Any]],
) -> list[dict[str, Any]]:
    """Run ``one(txn, record) -> SaveResult`` per record, each in its own savepoint; with
    allOrNone, any failure rolls all of them back."""
    start = txn.savepoint()
    results: list[dict[str, Any]] = []
    for record in records:
        point = txn.savepoint()
        try:
            results.append(one(txn, record))
        except SalesforceApiError as exc:
            txn.rollback_to(point)
            failed: dict[str, Any] = {
                "success": False,
                "errors": [e.save_result() for e in exc.errors],
            }
            record_id = _record_id_of(record)
            results.append({"id": record_id, **failed} if record_id is not None else failed)
    if (all_or_none or ctx.force_all_or_none) and any(not r["success"] for r in results):
        txn.rollback_to(start)
        rolled_back = {"success": False, "errors": [_ROLLED_BACK.save_result()]}
        results = [
            r
            if not r["success"]
            else ({"id": r["id"], **rolled_back} if isinstance(records[i], str) else rolled_back)
            for i, r in enumerate(results)
        ]
    return results


def _collection_write(
    ctx: _rest.RestContext, op: str, body: Any, default: ObjectDef | None = None
) -> _rest.RestResponse:
    records, all_or_none = _records_arg(body)

    def one(txn: Transaction, record: Any) -> dict[str, Any]:
        obj = _record_type(ctx, record, default)
        record_id, values = _split_id(record)
        if op == "create":
            if record_id is not None:
                raise SalesforceApiError.one(
                    400, "INVALID_FIELD", "cannot specify Id in an insert call"
                )
            return {"id": txn.create(obj, values), "success": True, "errors": []}
        if record_id is None:
            raise SalesforceApiError.one(
                400, "MISSING_ARGUMENT", "Id not specified in an update call"
            )
        normalized = normalize_id(record_id)
        if normalized is None or not normalized.startswith(obj.key_prefix):
            raise SalesforceApiError.one(400, "MALFORMED_ID", f"malformed id {record_id}")
        txn.update(obj, normalized, values)
        return {"id": normalized, "success": True, "errors": []}

    with ctx.write() as txn:
        results = _run_records(ctx, txn, records, all_or_none, one)
    return _rest.RestResponse(200, results)


def _collection_upsert(
    ctx: _rest.RestContext, obj: ObjectDef, field_name: str, body: Any
) -> _rest.RestResponse:
    records, all_or_none = _records_arg(body)
    definition = obj.field(field_name)
    if definition is None or not definition.external_id:
        raise not_found(
            f"Provided external ID field does not exist or is not accessible: {field_name}"
        )

    def one(txn: Transaction, record: Any) -> dict[str, Any]:
        target = _record_type(ctx, record, obj)
        if target is not obj:
            raise SalesforceApiError.one(
                400, "INVALID_TYPE", f"All records must be of type {obj.name}"
            )
        values = {k: v for k, v in record.items() if k != "attributes"}
        keys = [k for k in values if k.lower() == definition.name.lower()]
        if not keys or values[keys[0]] in (None, ""):
            raise SalesforceApiError.one(
                400,
                "MISSING_ARGUMENT",
                f"{definition.name} not specified",
                [definition.name],
            )
        value = values.pop(keys[0])
        record_id, created = txn.upsert(obj, definition.name, value, values)
        return {"id": record_id, "success": True, "errors": [], "created": created}

    with ctx.write() as txn:
        results = _run_records(ctx, txn, records, all_or_none, one)
    return _rest.RestResponse(200, results)


def _collection_delete(ctx: _rest.RestContext, params: Mapping[str, str]) -> _rest.RestResponse:
    ids = [i for i in params.get("ids", "").split(",") if i]
    if not ids:
        raise SalesforceApiError.one(400, "MISSING_ARGUMENT", "ids must be specified")
    if len(ids) > _rest.COLLECTION_LIMIT:
        raise SalesforceApiError.one(
            400,
            "EXCEEDED_ID_LIMIT",
            "record limit reached. cannot submit more than 200 records into this call",
        )
    all_or_none = params.get("allOrNone", "false").lower() == "true"

    def one(txn: Transaction, raw: Any) -> dict[str, Any]:
        record_id = normalize_id(str(raw))
        obj = ctx.state.schema.by_prefix(record_id) if record_id else None
        if record_id is None or obj is None:
            raise SalesforceApiError.one(400, "MALFORMED_ID", f"malformed id {raw}")
        txn.delete(obj, record_id)
        return {"id": record_id, "success": True, "errors": []}

    with ctx.write() as txn:
        results = _run_records(ctx, txn, ids, all_or_none, one)
    return _rest.RestResponse(200, results)


def _collection_retrieve(
    ctx: _rest.RestContext, obj: ObjectDef, params: Mapping[str, str], body: Any
) -> _rest.RestResponse:
    if isinstance(body, dict):
        ids = [str(i) for i in body.get("ids") or []]
        fields_raw = ",".join(str(f) for f in body.get("fields") or [])
    else:
        ids = [i for i in params.get("ids", "").split(",") if i]
        fields_raw = params.get("fields", "")
    if not ids or not fields_raw:
        raise SalesforceApiError.one(400, "MISSING_ARGUMENT", "ids and fields must be specified")
    fields = _rest._field_list(obj, fields_raw)
    out: list[Any] = []
    for raw in ids:
        record_id = normalize_id(raw)
        row = ctx.state.record(obj.name, record_id) if record_id else None
        out.append(render(obj, row, ctx.version, fields) if row and not row["IsDeleted"] else None)
    return _rest.RestResponse(200, out)
