"""The CRM API: objects (v3 basic, batch, search), associations (v4), properties, pipelines.

https://developers.hubspot.com/docs/api/crm/understanding-the-crm -- record shape
``{"id", "properties": {name: string}, "createdAt", "updatedAt", "archived"}``; creates answer
201; list pages by ``after``; unknown properties on a write are a ``VALIDATION_ERROR``.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from syncwright.sandbox.hubspot import _errors as err
from syncwright.sandbox.hubspot._context import emulator, json_body, path_type
from syncwright.sandbox.hubspot._schema import (
    ASSOCIATION_TYPES,
    DEFAULT_PROPERTIES,
    OBJECT_TYPES,
    PropertyDef,
    pipeline_json,
)
from syncwright.sandbox.hubspot._search import search
from syncwright.sandbox.hubspot._state import CrmObject, HubSpotState, iso, now_ms

router = APIRouter()
MAX_PAGE = 100
MAX_BATCH = 100


def _names(state: HubSpotState, object_type: str, properties: str | list[str] | None) -> list[str]:
    if not properties:
        return list(DEFAULT_PROPERTIES[object_type])
    wanted = properties.split(",") if isinstance(properties, str) else properties
    # HubSpot leaves out requested properties that do not exist (no error on reads).
    known = {p.name for p in state.property_defs(object_type)}
    return [n.strip() for n in wanted if n.strip() in known]


def _record(
    state: HubSpotState,
    record: CrmObject,
    names: list[str],
    associations: list[str] | None = None,
) -> dict[str, Any]:
    body = record.as_json(names)
    found: dict[str, Any] = {}
    for other in associations or []:
        to_type = path_type(other)
        linked = state.associated(record.object_type, record.id, to_type)
        if linked:
            label = f"{OBJECT_TYPES[record.object_type][0]}_to_{OBJECT_TYPES[to_type][0]}"
            found[to_type] = {"results": [{"id": k, "type": label} for k in linked]}
    if found:
        body["associations"] = found
    return body


def _query_list(request: Request, name: str) -> list[str]:
    values: list[str] = []
    for raw in request.query_params.getlist(name):
        values.extend(v for v in raw.split(",") if v)
    return values


def _associate_inputs(state: HubSpotState, object_type: str, object_id: str, inputs: Any) -> None:
    for item in inputs or []:
        to_id = str(item["to"]["id"])
        types = [int(t["associationTypeId"]) for t in item.get("types") or []]
        to_type = _type_for(object_type, types)
        state.associate(object_type, object_id, to_type, to_id, types)


def _type_for(from_type: str, type_ids: list[int]) -> str:
    for (source, target), (default, primary) in ASSOCIATION_TYPES.items():
        if source == from_type and any(t in (default, primary) for t in type_ids):
            return target
    raise err.validation(f"association types {type_ids} are not defined for {from_type}")


# -- basic -------------------------------------------------------------------------------------


@router.get("/crm/v3/objects/{object_type}")
def list_objects(object_type: str, request: Request, limit: int = 10, after: str = "0") -> Any:
    state = emulator(request).state
    kind = path_type(object_type)
    names = _names(state, kind, _query_list(request, "properties"))
    if not 0 < limit <= MAX_PAGE:
        raise err.validation(f"limit must be between 1 and {MAX_PAGE}")
    start = int(after or 0)
    records = sorted(state.all(kind), key=lambda r: int(r.id))
    page = [r for r in records if int(r.id) > start][:limit]
    body: dict[str, Any] = {
        "results": [_record(state, r, names, _query_list(request, "associations")) for r in page]
    }
    if page and int(page[-1].id) < int(records[-1].id):
        body["paging"] = {"next": {"after": page[-1].id, "link": "?after=" + page[-1].id}}
    return body


@router.post("/crm/v3/objects/{object_type}")
async def create_object(object_type: str, request: Request) -> Any:
    state = emulator(request).state
    kind = path_type(object_type)
    body = await json_body(request)
    if not isinstance(body, dict) or not isinstance(body.get("properties"), dict):
        raise err.validation("Invalid input JSON: properties is required")
    record = state.create(kind, body["properties"])
    _associate_inputs(state, kind, record.id, body.get("associations"))
    names = sorted(set(DEFAULT_PROPERTIES[kind]) | set(body["properties"]))
    return JSONResponse(_record(state, record, names), 201)


@router.get("/crm/v3/objects/{object_type}/{object_id}")
def get_object(object_type: str, object_id: str, request: Request) -> Any:
    state = emulator(request).state
    kind = path_type(object_type)
    record = state.find(kind, object_id, request.query_params.get("idProperty"))
    names = _names(state, kind, _query_list(request, "properties"))
    return _record(state, record, names, _query_list(request, "associations"))


@router.patch("/crm/v3/objects/{object_type}/{object_id}")
async def update_object(object_type: str, object_id: str, request: Request) -> Any:
    state = emulator(request).state
    kind = path_type(object_type)
    body = await json_body(request)
    if not isinstance(body, dict) or not isinstance(body.get("properties"), dict):
        raise err.validation("Invalid input JSON: properties is required")
    found = state.find(kind, object_id, request.query_params.get("idProperty"))
    record = state.update(kind, found.id, body["properties"])
    names = sorted(set(DEFAULT_PROPERTIES[kind]) | set(body["properties"]))
    return _record(state, record, names)


@router.delete("/crm/v3/objects/{object_type}/{object_id}")
def archive_object(object_type: str, object_id: str, request: Request) -> Response:
    emulator(request).state.archive(path_type(object_type), object_id)
    return Response(status_code=204)


# -- batch -------------------------------------------------------------------------------------


def _batch_inputs(body: Any) -> list[dict[str, Any]]:
    inputs = body.get("inputs") if isinstance(body, dict) else None
    if not isinstance(inputs, list):
        raise err.validation("Invalid input JSON: inputs is required")
    if len(inputs) > MAX_BATCH:
        raise err.validation(f"Batch input size may not exceed {MAX_BATCH}")
    return inputs


def _batch_result(results: list[dict[str, Any]], started: int, status: int = 200) -> Any:
    return JSONResponse(
        {
            "status": "COMPLETE",
            "results": results,
            "startedAt": iso(started),
            "completedAt": iso(now_ms()),
        },
        status,
    )


@router.post("/crm/v3/objects/{object_type}/batch/read")
async def batch_read(object_type: str, request: Request) -> Any:
    state = emulator(request).state
    kind = path_type(object_type)
    body = await json_body(request)
    started = now_ms()
    names = _names(state, kind, body.get("properties") if isinstance(body, dict) else None)
    results, missing = [], []
    for item in _batch_inputs(body):
        try:
            record = state.find(kind, str(item.get("id")), body.get("idProperty"))
        except err.HubSpotApiError:
            missing.append(str(item.get("id")))
            continue
        results.append(_record(state, record, names))
    response = _batch_result(results, started, 207 if missing else 200)
    if missing:
        # Multi-status: the ids not found are reported, the rest is returned.
        import json as _json

        content = _json.loads(bytes(response.body))
        content["numErrors"] = 1
        content["errors"] = [
            {
                "status": "error",
                "category": "OBJECT_NOT_FOUND",
                "message": "Could not get some objects, they may be deleted or not exist.",
                "context": {"ids": missing},
            }
        ]
        response = JSONResponse(content, 207)
    return response


@router.post("/crm/v3/objects/{object_type}/batch/create")
async def batch_create(object_type: str, request: Request) -> Any:
    state = emulator(request).state
    kind = path_type(object_type)
    started = now_ms()
    inputs = _batch_inputs(await json_body(request))
    results = []
    for item in inputs:
        record = state.create(kind, item.get("properties") or {})
        _associate_inputs(state, kind, record.id, item.get("associations"))
        names = sorted(set(DEFAULT_PROPERTIES[kind]) | set(item.get("properties") or {}))
        results.append(_record(state, record, names))
    return _batch_result(results, started, 201)


@router.post("/crm/v3/objects/{object_type}/batch/update")
async def batch_update(object_type: str, request: Request) -> Any:
    state = emulator(request).state
    kind = path_type(object_type)
    started = now_ms()
    inputs = _batch_inputs(await json_body(request))
    for item in inputs:  # all or nothing: every id must exist before any write
        state.get(kind, str(item.get("id")))
    results = []
    for item in inputs:
        record = state.update(kind, str(item["id"]), item.get("properties") or {})
        names = sorted(set(DEFAULT_PROPERTIES[kind]) | set(item.get("properties") or {}))
        results.append(_record(state, record, names))
    return _batch_result(results, started)


@router.post("/crm/v3/objects/{object_type}/search")
async def search_objects(object_type: str, request: Request) -> Any:
    state = emulator(request).state
    kind = path_type(object_type)
    body = await json_body(request)
    if not isinstance(body, dict):
        raise err.validation("Invalid input JSON: a search request object is required")
    known = {p.name for p in state.property_defs(kind)}
    page, total, following = search(state.all(kind), body, known)
    names = _names(state, kind, body.get("properties"))
    result: dict[str, Any] = {"total": total, "results": [_record(state, r, names) for r in page]}
    if following >= 0:
        result["paging"] = {"next": {"after": str(following)}}
    return result


# -- associations v4 ---------------------------------------------------------------------------


@router.get("/crm/v4/objects/{from_type}/{object_id}/associations/{to_type}")
def list_associations(from_type: str, object_id: str, to_type: str, request: Request) -> Any:
    state = emulator(request).state
    source, target = path_type(from_type), path_type(to_type)
    state.get(source, object_id)
    linked = state.associated(source, object_id, target)
    primary = ASSOCIATION_TYPES.get((source, target), (0, None))[1]
    return {
        "results": [
            {
                "toObjectId": int(to_id),
                "associationTypes": [
                    {
                        "category": "HUBSPOT_DEFINED",
                        "typeId": type_id,
                        "label": "Primary" if type_id == primary else None,
                    }
                    for type_id in types
                ],
            }
            for to_id, types in sorted(linked.items(), key=lambda kv: int(kv[0]))
        ]
    }


@router.put("/crm/v4/objects/{from_type}/{from_id}/associations/default/{to_type}/{to_id}")
def associate_default(
    from_type: str, from_id: str, to_type: str, to_id: str, request: Request
) -> Any:
    state = emulator(request).state
    source, target = path_type(from_type), path_type(to_type)
    started = now_ms()
    state.associate(source, from_id, target, to_id, None)
    return _batch_result(
        [
            {
                "from": {"id": from_id},
                "to": {"id": to_id},
                "associationSpec": {
                    "associationCategory": "HUBSPOT_DEFINED",
                    "associationTypeId": ASSOCIATION_TYPES[(source, target)][0],
                },
            }
        ],
        started,
    )


@router.put("/crm/v4/objects/{from_type}/{from_id}/associations/{to_type}/{to_id}")
async def associate_labelled(
    from_type: str, from_id: str, to_type: str, to_id: str, request: Request
) -> Any:
    state = emulator(request).state
    source, target = path_type(from_type), path_type(to_type)
    specs = await json_body(request)
    if not isinstance(specs, list):
        raise err.validation("Invalid input JSON: a list of association specs is required")
    types = [int(s["associationTypeId"]) for s in specs]
    state.associate(source, from_id, target, to_id, types)
    return {
        "fromObjectTypeId": OBJECT_TYPES[source][1],
        "fromObjectId": int(from_id),
        "toObjectTypeId": OBJECT_TYPES[target][1],
        "toObjectId": int(to_id),
        "labels": [],
    }


@router.delete("/crm/v4/objects/{from_type}/{from_id}/associations/{to_type}/{to_id}")
def unassociate(from_type: str, from_id: str, to_type: str, to_id: str, request: Request) -> Any:
    emulator(request).state.unassociate(path_type(from_type), from_id, path_type(to_type), to_id)
    return Response(status_code=204)


# -- properties and pipelines ------------------------------------------------------------------


@router.get("/crm/v3/properties/{object_type}")
def list_properties(object_type: str, request: Request) -> Any:
    state = emulator(request).state
    return {"results": [p.as_json() for p in state.property_defs(path_type(object_type))]}


@router.get("/crm/v3/properties/{object_type}/{name}")
def get_property(object_type: str, name: str, request: Request) -> Any:
    state = emulator(request).state
    for prop in state.property_defs(path_type(object_type)):
        if prop.name == name:
            return prop.as_json()
    raise err.HubSpotApiError(
        404, err.error_body(f"Unable to find property {name}", "OBJECT_NOT_FOUND")
    )


@router.post("/crm/v3/properties/{object_type}")
async def create_property(object_type: str, request: Request) -> Any:
    state = emulator(request).state
    body = await json_body(request)
    if not isinstance(body, dict) or not all(
        body.get(k) for k in ("name", "label", "type", "fieldType", "groupName")
    ):
        raise err.validation("name, label, type, fieldType and groupName are required")
    prop = PropertyDef(
        str(body["name"]),
        str(body["label"]),
        type=str(body["type"]),
        field_type=str(body["fieldType"]),
        group=str(body["groupName"]),
        options=tuple(str(o["value"]) for o in body.get("options") or []),
        hubspot_defined=False,
    )
    state.add_property(path_type(object_type), prop)
    return JSONResponse(prop.as_json(), 201)


@router.get("/crm/v3/pipelines/{object_type}")
def list_pipelines(object_type: str, request: Request) -> Any:
    if path_type(object_type) != "deals":
        return {"results": []}
    return {"results": [pipeline_json()]}


@router.get("/crm/v3/pipelines/{object_type}/{pipeline_id}/stages")
def list_stages(object_type: str, pipeline_id: str, request: Request) -> Any:
    if path_type(object_type) != "deals" or pipeline_id != "default":
        raise err.HubSpotApiError(
            404, err.error_body(f"Unable to find pipeline {pipeline_id}", "OBJECT_NOT_FOUND")
        )
    return {"results": pipeline_json()["stages"]}
