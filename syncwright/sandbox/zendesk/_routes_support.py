"""Support API routes: organizations, organization fields, users, tickets, search.

Paths as https://developer.zendesk.com/api-reference/ticketing/ documents them; the optional
``.json`` suffix is stripped before routing (see ``_app``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from syncwright.sandbox.zendesk import _organizations as orgs
from syncwright.sandbox.zendesk import _search
from syncwright.sandbox.zendesk import _tickets as tickets
from syncwright.sandbox.zendesk import _users as users
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
from syncwright.sandbox.zendesk._state import Record, ZendeskState

router = APIRouter(prefix="/api/v2")
Render = Callable[[Record], Record]


def _page(
    request: Request, items: Iterable[Record], key: str, path: str, render: Render
) -> JSONResponse:
    url = f"{base_url(request)}/api/v2/{path}.json"
    return respond(paginate(list(items), key=key, params=params(request), url=url, render=render))


def _by_ids(records: dict[int, Record], raw: str | None) -> list[Record]:
    found = []
    for part in id_list(raw):
        if not part.isdigit():
            raise bad_request(f"{part!r} is not an id")
        if int(part) in records:
            found.append(records[int(part)])
    return found


def _by_external_ids(records: Iterable[Record], raw: str | None) -> list[Record]:
    wanted = {part.lower() for part in id_list(raw)}
    return [r for r in records if (r.get("external_id") or "").lower() in wanted]


def _org_renderer(state: ZendeskState, request: Request) -> Render:
    base = base_url(request)
    return lambda org: orgs.render_org(state, org, base)


# -- organization fields --------------------------------------------------------------------
# https://developer.zendesk.com/api-reference/ticketing/organizations/organization_fields/


@router.get("/organization_fields")
async def list_organization_fields(request: Request) -> JSONResponse:
    state, base = emulator(request).state, base_url(request)
    with state.lock:
        fields = sorted(state.organization_fields.values(), key=lambda f: (f["position"], f["id"]))
        return respond(
            {
                "organization_fields": [orgs.render_field(f, base) for f in fields],
                "next_page": None,
                "previous_page": None,
                "count": len(fields),
            }
        )


@router.post("/organization_fields")
async def create_organization_field(request: Request) -> JSONResponse:
    state, payload = emulator(request).state, await body_object(request, "organization_field")
    with state.lock:
        field = orgs.create_field(state, payload)
        return respond({"organization_field": orgs.render_field(field, base_url(request))}, 201)


@router.get("/organization_fields/{field_id:int}")
async def show_organization_field(request: Request, field_id: int) -> JSONResponse:
    state = emulator(request).state
    with state.lock:
        field = orgs.get_field(state, field_id)
        return respond({"organization_field": orgs.render_field(field, base_url(request))})


@router.put("/organization_fields/{field_id:int}")
async def update_organization_field(request: Request, field_id: int) -> JSONResponse:
    state, payload = emulator(request).state, await body_object(request, "organization_field")
    with state.lock:
        field = orgs.update_field(state, field_id, payload)
        return respond({"organization_field": orgs.render_field(field, base_url(request))})


@router.delete("/organization_fields/{field_id:int}")
async def delete_organization_field(request: Request, field_id: int) -> Response:
    state = emulator(request).state
    with state.lock:
        orgs.delete_field(state, field_id)
    return Response(status_code=204)


# -- organizations --------------------------------------------------------------------------
# https://developer.zendesk.com/api-reference/ticketing/organizations/organizations/


@router.get("/organizations")
async def list_organizations(request: Request) -> JSONResponse:
    state = emulator(request).state
    with state.lock:
        render = _org_renderer(state, request)
        return _page(
            request, state.organizations.values(), "organizations", "organizations", render
        )


@router.post("/organizations")
async def create_organization(request: Request) -> JSONResponse:
    state, payload = emulator(request).state, await body_object(request, "organization")
    with state.lock:
        org = orgs.create_org(state, payload)
        body = {"organization": orgs.render_org(state, org, base_url(request))}
        return respond(body, 201, {"Location": body["organization"]["url"]})


@router.post("/organizations/create_or_update")
async def create_or_update_organization(request: Request) -> JSONResponse:
    state, payload = emulator(request).state, await body_object(request, "organization")
    with state.lock:
        org, created = orgs.create_or_update_org(state, payload)
        return respond(
            {"organization": orgs.render_org(state, org, base_url(request))},
            201 if created else 200,
        )


@router.get("/organizations/search")
async def search_organizations(request: Request) -> JSONResponse:
    state, query = emulator(request).state, params(request)
    external_id, name = query.get("external_id"), query.get("name")
    if (external_id is None) == (name is None):
        raise bad_request("Search by external_id or by name, not both")
    with state.lock:
        # Exact, case-insensitive match on one of the two (Zendesk's documented rule).
        field, wanted = ("external_id", external_id) if external_id is not None else ("name", name)
        found = [
            o
            for o in state.organizations.values()
            if (o.get(field) or "").lower() == (wanted or "").lower()
        ]
        return _page(
            request, found, "organizations", "organizations/search", _org_renderer(state, request)
        )


@router.get("/organizations/show_many")
async def show_many_organizations(request: Request) -> JSONResponse:
    state, query = emulator(request).state, params(request)
    with state.lock:
        if "external_ids" in query:
            found = _by_external_ids(state.organizations.values(), query["external_ids"])
        else:
            found = _by_ids(state.organizations, query.get("ids"))
        return _page(
            request,
            found,
            "organizations",
            "organizations/show_many",
            _org_renderer(state, request),
        )


@router.get("/organizations/count")
async def count_organizations(request: Request) -> JSONResponse:
    state = emulator(request).state
    with state.lock:
        count = {"value": len(state.organizations), "refreshed_at": state.timestamp()}
    return respond({"count": count})


@router.get("/organizations/{org_id:int}")
async def show_organization(request: Request, org_id: int) -> JSONResponse:
    state = emulator(request).state
    with state.lock:
        org = orgs.get_org(state, org_id)
        return respond({"organization": orgs.render_org(state, org, base_url(request))})


@router.put("/organizations/{org_id:int}")
async def update_organization(request: Request, org_id: int) -> JSONResponse:
    state, payload = emulator(request).state, await body_object(request, "organization")
    with state.lock:
        org = orgs.update_org(state, org_id, payload)
        return respond({"organization": orgs.render_org(state, org, base_url(request))})


@router.delete("/organizations/{org_id:int}")
async def delete_organization(request: Request, org_id: int) -> Response:
    state = emulator(request).state
    with state.lock:
        orgs.delete_org(state, org_id)
    return Response(status_code=204)


@router.get("/organizations/{org_id:int}/tickets")
async def organization_tickets(request: Request, org_id: int) -> JSONResponse:
    state, base = emulator(request).state, base_url(request)
    with state.lock:
        orgs.get_org(state, org_id)
        found = [t for t in state.tickets.values() if t["organization_id"] == org_id]
        return _page(
            request,
            found,
            "tickets",
            f"organizations/{org_id}/tickets",
            lambda t: tickets.render_ticket(t, base),
        )


@router.get("/organizations/{org_id:int}/users")
async def organization_users(request: Request, org_id: int) -> JSONResponse:
    state, base = emulator(request).state, base_url(request)
    with state.lock:
        orgs.get_org(state, org_id)
        found = [u for u in state.active_users() if u.get("organization_id") == org_id]
        return _page(
            request,
            found,
            "users",
            f"organizations/{org_id}/users",
            lambda u: users.render_user(u, base),
        )


# -- users ----------------------------------------------------------------------------------
# https://developer.zendesk.com/api-reference/ticketing/users/users/


@router.get("/users")
async def list_users(request: Request) -> JSONResponse:
    state, base = emulator(request).state, base_url(request)
    roles = set(request.query_params.getlist("role[]") + request.query_params.getlist("role"))
    with state.lock:
        found = [u for u in state.active_users() if not roles or u["role"] in roles]
        return _page(request, found, "users", "users", lambda u: users.render_user(u, base))


@router.post("/users")
async def create_user(request: Request) -> JSONResponse:
    state, payload = emulator(request).state, await body_object(request, "user")
    with state.lock:
        user = users.create_user(state, payload)
        return respond({"user": users.render_user(user, base_url(request))}, 201)


@router.post("/users/create_or_update")
async def create_or_update_user(request: Request) -> JSONResponse:
    state, payload = emulator(request).state, await body_object(request, "user")
    with state.lock:
        user, created = users.create_or_update_user(state, payload)
        return respond(
            {"user": users.render_user(user, base_url(request))}, 201 if created else 200
        )


@router.get("/users/me")
async def current_user(request: Request) -> JSONResponse:
    state = emulator(request).state
    with state.lock:
        user = users.get_user(state, state.agent_id)
        return respond({"user": users.render_user(user, base_url(request))})


@router.get("/users/search")
async def search_users(request: Request) -> JSONResponse:
    state, base, query = emulator(request).state, base_url(request), params(request)
    with state.lock:
        if "external_id" in query:
            found = _by_external_ids(state.active_users(), query["external_id"])
        else:
            terms = _search.parse(query.get("query", ""))
            found = [u for u in state.active_users() if _search.matches(state, "user", u, terms)]
        return _page(request, found, "users", "users/search", lambda u: users.render_user(u, base))


@router.get("/users/show_many")
async def show_many_users(request: Request) -> JSONResponse:
    state, base, query = emulator(request).state, base_url(request), params(request)
    with state.lock:
        if "external_ids" in query:
            found = _by_external_ids(state.active_users(), query["external_ids"])
        else:
            found = _by_ids(state.users, query.get("ids"))
        return _page(
            request, found, "users", "users/show_many", lambda u: users.render_user(u, base)
        )


@router.get("/users/{user_id:int}")
async def show_user(request: Request, user_id: int) -> JSONResponse:
    state = emulator(request).state
    with state.lock:
        user = users.get_user(state, user_id)
        return respond({"user": users.render_user(user, base_url(request))})


@router.put("/users/{user_id:int}")
async def update_user(request: Request, user_id: int) -> JSONResponse:
    state, payload = emulator(request).state, await body_object(request, "user")
    with state.lock:
        user = users.update_user(state, user_id, payload)
        return respond({"user": users.render_user(user, base_url(request))})


@router.delete("/users/{user_id:int}")
async def delete_user(request: Request, user_id: int) -> JSONResponse:
    state = emulator(request).state
    with state.lock:
        user = users.delete_user(state, user_id)
        return respond({"user": users.render_user(user, base_url(request))})


@router.get("/users/{user_id:int}/tickets/requested")
async def requested_tickets(request: Request, user_id: int) -> JSONResponse:
    state, base = emulator(request).state, base_url(request)
    with state.lock:
        users.get_user(state, user_id)
        found = [t for t in state.tickets.values() if t["requester_id"] == user_id]
        return _page(
            request,
            found,
            "tickets",
            f"users/{user_id}/tickets/requested",
            lambda t: tickets.render_ticket(t, base),
        )


# -- tickets --------------------------------------------------------------------------------
# https://developer.zendesk.com/api-reference/ticketing/tickets/tickets/


def _ticket_and_audit(ticket: Record, audit: Record, base: str) -> dict[str, Any]:
    return {"ticket": tickets.render_ticket(ticket, base), "audit": tickets.render_audit(audit)}


@router.get("/tickets")
async def list_tickets(request: Request) -> JSONResponse:
    state, base, query = emulator(request).state, base_url(request), params(request)
    with state.lock:
        found: Iterable[Record] = state.tickets.values()
        if "external_id" in query:
            found = [t for t in found if t["external_id"] == query["external_id"]]
        return _page(request, found, "tickets", "tickets", lambda t: tickets.render_ticket(t, base))


@router.post("/tickets")
async def create_ticket(request: Request) -> JSONResponse:
    state, payload = emulator(request).state, await body_object(request, "ticket")
    with state.lock:
        ticket, audit = tickets.create_ticket(state, payload)
        body = _ticket_and_audit(ticket, audit, base_url(request))
        return respond(body, 201, {"Location": body["ticket"]["url"]})


@router.get("/tickets/show_many")
async def show_many_tickets(request: Request) -> JSONResponse:
    state, base = emulator(request).state, base_url(request)
    with state.lock:
        found = _by_ids(state.tickets, params(request).get("ids"))
        return _page(
            request, found, "tickets", "tickets/show_many", lambda t: tickets.render_ticket(t, base)
        )


@router.get("/tickets/{ticket_id:int}")
async def show_ticket(request: Request, ticket_id: int) -> JSONResponse:
    state = emulator(request).state
    with state.lock:
        ticket = tickets.get_ticket(state, ticket_id)
        return respond({"ticket": tickets.render_ticket(ticket, base_url(request))})


@router.put("/tickets/{ticket_id:int}")
async def update_ticket(request: Request, ticket_id: int) -> JSONResponse:
    state, payload = emulator(request).state, await body_object(request, "ticket")
    with state.lock:
        ticket, audit = tickets.update_ticket(state, ticket_id, payload)
        return respond(_ticket_and_audit(ticket, audit, base_url(request)))


@router.delete("/tickets/{ticket_id:int}")
async def delete_ticket(request: Request, ticket_id: int) -> Response:
    state = emulator(request).state
    with state.lock:
        tickets.delete_ticket(state, ticket_id)
    return Response(status_code=204)


@router.get("/tickets/{ticket_id:int}/audits")
async def ticket_audits(request: Request, ticket_id: int) -> JSONResponse:
    state = emulator(request).state
    with state.lock:
        tickets.get_ticket(state, ticket_id)
        audits = state.audits.get(ticket_id, [])
        return _page(request, audits, "audits", f"tickets/{ticket_id}/audits", tickets.render_audit)


# -- search ---------------------------------------------------------------------------------
# https://developer.zendesk.com/api-reference/ticketing/ticket-management/search/


def _render_result(state: ZendeskState, base: str, kind: str, record: Record) -> Record:
    if kind == "ticket":
        rendered = tickets.render_ticket(record, base)
    elif kind == "user":
        rendered = users.render_user(record, base)
    else:
        rendered = orgs.render_org(state, record, base)
    return {**rendered, "result_type": kind}


@router.get("/search")
async def search(request: Request) -> JSONResponse:
    state, base, query = emulator(request).state, base_url(request), params(request)
    with state.lock:
        found = _search.search(state, query.get("query", ""))
        rows = [{"id": n, "kind": kind, "record": record} for n, (kind, record) in enumerate(found)]
        page = paginate(
            rows,
            key="results",
            params={k: v for k, v in query.items() if not k.startswith("page[")},
            url=f"{base}/api/v2/search.json",
            render=lambda row: _render_result(state, base, row["kind"], row["record"]),
        )
    page["facets"] = None
    return respond(page)


@router.get("/search/count")
async def search_count(request: Request) -> JSONResponse:
    state = emulator(request).state
    with state.lock:
        return respond({"count": len(_search.search(state, params(request).get("query", "")))})
