"""Request handlers the Support routes share, and builders for the routes that are alike.

Organizations, their fields, users and tickets answer show, create, update and list requests
the same way: one rendered record under the resource's root key (``{"user": {...}}``), or a
page of them under its plural. Every handler holds ``state.lock`` from the lookup to the
rendering, so a write and the events it emits are atomic.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from fastapi import APIRouter, Path, Request, Response
from fastapi.responses import JSONResponse

from syncwright.sandbox.zendesk._context import (
    base_url,
    body_object,
    emulator,
    id_list,
    params,
    respond,
)
from syncwright.sandbox.zendesk._errors import bad_request
from syncwright.sandbox.zendesk._pagination import paginate
from syncwright.sandbox.zendesk._resources import Resource
from syncwright.sandbox.zendesk._state import Record, ZendeskState

Payload = Mapping[str, Any]
_INT_PARAM = re.compile(r"\{(\w+):int\}")


def _body(state: ZendeskState, request: Request, resource: Resource, record: Record) -> Record:
    return {resource.root: resource.render(state, record, base_url(request))}


def answer(
    request: Request, resource: Resource, action: Callable[[ZendeskState], Record]
) -> JSONResponse:
    """200 with the record ``action`` finds or changes, e.g. ``{"user": {...}}``."""
    state = emulator(request).state
    with state.lock:
        return respond(_body(state, request, resource, action(state)))


async def create(
    request: Request,
    resource: Resource,
    create_record: Callable[[ZendeskState, Payload], Record],
    *,
    location: bool = False,
) -> JSONResponse:
    """201 with the new record; ``location`` adds its URL as ``Location`` (organizations do)."""
    state, payload = emulator(request).state, await body_object(request, resource.root)
    with state.lock:
        body = _body(state, request, resource, create_record(state, payload))
        headers = {"Location": body[resource.root]["url"]} if location else None
        return respond(body, 201, headers)


async def create_or_update(
    request: Request,
    resource: Resource,
    upsert: Callable[[ZendeskState, Payload], tuple[Record, bool]],
) -> JSONResponse:
    """201 when the record is new, 200 when an existing one matched and was updated."""
    state, payload = emulator(request).state, await body_object(request, resource.root)
    with state.lock:
        record, created = upsert(state, payload)
        return respond(_body(state, request, resource, record), 201 if created else 200)


def delete(
    request: Request, delete_record: Callable[[ZendeskState, int], object], record_id: int
) -> Response:
    """204 with no body (users, which Zendesk soft-deletes, answer with the record instead)."""
    state = emulator(request).state
    with state.lock:
        delete_record(state, record_id)
    return Response(status_code=204)


# -- pages ----------------------------------------------------------------------------------


def page(
    request: Request, resource: Resource, state: ZendeskState, found: Iterable[Record], path: str
) -> JSONResponse:
    """One page of ``found`` under the resource's plural; the caller holds the lock. ``path``
    (below ``/api/v2``) is where the pagination links point."""
    url = f"{base_url(request)}/api/v2/{path}.json"
    render = resource.renderer(state, base_url(request))
    return respond(
        paginate(list(found), key=resource.path, params=params(request), url=url, render=render)
    )


def list_page(
    request: Request, resource: Resource, keep: Callable[[Record], bool] = lambda _: True
) -> JSONResponse:
    """The collection (what ``resource.listed`` shows), filtered by ``keep``."""
    state = emulator(request).state
    with state.lock:
        found = filter(keep, resource.listed(state))
        return page(request, resource, state, found, resource.path)


def show_many(request: Request, resource: Resource, *, external_ids: bool = True) -> JSONResponse:
    """``show_many?ids=1,2`` (400 for a non-numeric id) or, where supported,
    ``?external_ids=a,b`` (case-insensitive); unknown ones are left out."""
    state, query = emulator(request).state, params(request)
    with state.lock:
        if external_ids and "external_ids" in query:
            found = by_external_ids(resource.listed(state), query["external_ids"])
        else:
            found = _by_ids(resource.records(state), query.get("ids"))
        return page(request, resource, state, found, f"{resource.path}/show_many")


def _by_ids(records: Mapping[int, Record], raw: str | None) -> list[Record]:
    found = []
    for part in id_list(raw):
        if not part.isdigit():
            raise bad_request(f"{part!r} is not an id")
        if int(part) in records:
            found.append(records[int(part)])
    return found


def by_external_ids(records: Iterable[Record], raw: str | None) -> list[Record]:
    wanted = {part.lower() for part in id_list(raw)}
    return [r for r in records if (r.get("external_id") or "").lower() in wanted]


# -- route builders -------------------------------------------------------------------------
# The endpoints below read their id through ``Path(alias=...)``, so one function serves every
# resource while the path keeps its documented parameter name (``{org_id:int}``), and with it
# the OpenAPI document and the per-route request stats. Their names are the ones hand-written
# routes would have (``show_user``); like those, they carry no docstring (it would become the
# OpenAPI description).


def _id_param(path: str) -> Any:
    (name,) = _INT_PARAM.findall(path)
    return Path(alias=name)


def add_record_routes(
    router: APIRouter,
    path: str,
    resource: Resource,
    *,
    update_record: Callable[[ZendeskState, int, Payload], Record] | None = None,
    delete_record: Callable[[ZendeskState, int], object] | None = None,
) -> None:
    """``GET path`` for one record, and ``PUT``/``DELETE`` when ``update_record``/
    ``delete_record`` are given; ``path`` has one ``{name:int}`` parameter, the record's id."""
    from_path = _id_param(path)

    async def show_one(request: Request, record_id: int = from_path) -> JSONResponse:
        return answer(request, resource, lambda state: resource.get(state, record_id))

    router.add_api_route(path, show_one, methods=["GET"], name=f"show_{resource.root}")
    if update_record is not None:

        async def update_one(request: Request, record_id: int = from_path) -> JSONResponse:
            payload = await body_object(request, resource.root)
            return answer(request, resource, lambda state: update_record(state, record_id, payload))

        router.add_api_route(path, update_one, methods=["PUT"], name=f"update_{resource.root}")
    if delete_record is not None:

        async def delete_one(request: Request, record_id: int = from_path) -> Response:
            return delete(request, delete_record, record_id)

        router.add_api_route(path, delete_one, methods=["DELETE"], name=f"delete_{resource.root}")


def add_related_route(
    router: APIRouter, path: str, name: str, resource: Resource, *, owner: Resource, key: str
) -> None:
    """``GET path``: the records whose ``key`` is the owner's id (an organization's tickets);
    404 when the owner, the one ``{name:int}`` parameter of ``path``, does not exist."""
    from_path = _id_param(path)

    async def related(request: Request, owner_id: int = from_path) -> JSONResponse:
        state = emulator(request).state
        with state.lock:
            owner.get(state, owner_id)
            found = [r for r in resource.listed(state) if r.get(key) == owner_id]
            links = _INT_PARAM.sub(str(owner_id), path).lstrip("/")
            return page(request, resource, state, found, links)

    router.add_api_route(path, related, methods=["GET"], name=name)
