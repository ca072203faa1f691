"""Support API routes: organizations, organization fields, users, tickets, search.

Paths as https://developer.zendesk.com/api-reference/ticketing/ documents them; the optional
``.json`` suffix is stripped before routing (see ``_app``). Most routes only name their path and
hand over to a shared handler in ``_handlers``; the ``/{id}`` routes and the lists of an owner's
records are registered by its builders. What is peculiar to one route stays here.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from syncwright.sandbox.zendesk import _handlers as handle
from syncwright.sandbox.zendesk import _organizations as orgs
from syncwright.sandbox.zendesk import _search
from syncwright.sandbox.zendesk import _tickets as tickets
from syncwright.sandbox.zendesk import _users as users
from syncwright.sandbox.zendesk._context import base_url, body_object, emulator, params, respond
from syncwright.sandbox.zendesk._errors import bad_request
from syncwright.sandbox.zendesk._pagination import paginate
from syncwright.sandbox.zendesk._resources import (
    BY_KIND,
    ORGANIZATION_FIELDS,
    ORGANIZATIONS,
    TICKETS,
    USERS,
)
from syncwright.sandbox.zendesk._state import Record

router = APIRouter(prefix="/api/v2")

# -- organization fields --------------------------------------------------------------------
# https://developer.zendesk.com/api-reference/ticketing/organizations/organization_fields/


@router.get("/organization_fields")
async def list_organization_fields(request: Request) -> JSONResponse:
    # Every field on one page, in position order (the emulator does not paginate fields).
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
    return await handle.create(request, ORGANIZATION_FIELDS, orgs.create_field)


handle.add_record_routes(
    router,
    "/organization_fields/{field_id:int}",
    ORGANIZATION_FIELDS,
    update_record=orgs.update_field,
    delete_record=orgs.delete_field,
)


# -- organizations --------------------------------------------------------------------------
# https://developer.zendesk.com/api-reference/ticketing/organizations/organizations/


@router.get("/organizations")
async def list_organizations(request: Request) -> JSONResponse:
    return handle.list_page(request, ORGANIZATIONS)


@router.post("/organizations")
async def create_organization(request: Request) -> JSONResponse:
    return await handle.create(request, ORGANIZATIONS, orgs.create_org, location=True)


@router.post("/organizations/create_or_update")
async def create_or_update_organization(request: Request) -> JSONResponse:
    return await handle.create_or_update(request, ORGANIZATIONS, orgs.create_or_update_org)


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
        return handle.page(request, ORGANIZATIONS, state, found, "organizations/search")


@router.get("/organizations/show_many")
async def show_many_organizations(request: Request) -> JSONResponse:
    return handle.show_many(request, ORGANIZATIONS)


@router.get("/organizations/count")
async def count_organizations(request: Request) -> JSONResponse:
    state = emulator(request).state
    with state.lock:
        count = {"value": len(state.organizations), "refreshed_at": state.timestamp()}
    return respond({"count": count})


handle.add_record_routes(
    router,
    "/organizations/{org_id:int}",
    ORGANIZATIONS,
    update_record=orgs.update_org,
    delete_record=orgs.delete_org,
)
# An organization's tickets and users: the records whose organization_id is its id.
for _path, _name, _resource in (
    ("/organizations/{org_id:int}/tickets", "organization_tickets", TICKETS),
    ("/organizations/{org_id:int}/users", "organization_users", USERS),
):
    handle.add_related_route(
        router, _path, _name, _resource, owner=ORGANIZATIONS, key="organization_id"
    )


# -- users ----------------------------------------------------------------------------------
# https://developer.zendesk.com/api-reference/ticketing/users/users/


@router.get("/users")
async def list_users(request: Request) -> JSONResponse:
    roles = set(request.query_params.getlist("role[]") + request.query_params.getlist("role"))
    return handle.list_page(request, USERS, lambda u: not roles or u["role"] in roles)


@router.post("/users")
async def create_user(request: Request) -> JSONResponse:
    return await handle.create(request, USERS, users.create_user)


@router.post("/users/create_or_update")
async def create_or_update_user(request: Request) -> JSONResponse:
    return await handle.create_or_update(request, USERS, users.create_or_update_user)


@router.get("/users/me")
async def current_user(request: Request) -> JSONResponse:
    return handle.answer(request, USERS, lambda state: USERS.get(state, state.agent_id))


@router.get("/users/search")
async def search_users(request: Request) -> JSONResponse:
    state, query = emulator(request).state, params(request)
    with state.lock:
        if "external_id" in query:
            found = handle.by_external_ids(state.active_users(), query["external_id"])
        else:
            terms = _search.parse(query.get("query", ""))
            found = [u for u in state.active_users() if _search.matches(state, "user", u, terms)]
        return handle.page(request, USERS, state, found, "users/search")


@router.get("/users/show_many")
async def show_many_users(request: Request) -> JSONResponse:
    return handle.show_many(request, USERS)


handle.add_record_routes(router, "/users/{user_id:int}", USERS, update_record=users.update_user)


@router.delete("/users/{user_id:int}")
async def delete_user(request: Request, user_id: int) -> JSONResponse:
    # Zendesk soft-deletes users and answers with the now inactive user.
    return handle.answer(request, USERS, lambda state: users.delete_user(state, user_id))


handle.add_related_route(
    router,
    "/users/{user_id:int}/tickets/requested",
    "requested_tickets",
    TICKETS,
    owner=USERS,
    key="requester_id",
)


# -- tickets --------------------------------------------------------------------------------
# https://developer.zendesk.com/api-reference/ticketing/tickets/tickets/
# Create and update answer the ticket with the audit the change wrote (zenpy reads both).


def _ticket_and_audit(ticket: Record, audit: Record, base: str) -> Record:
    return {"ticket": tickets.render_ticket(ticket, base), "audit": tickets.render_audit(audit)}


@router.get("/tickets")
async def list_tickets(request: Request) -> JSONResponse:
    external_id = params(request).get("external_id")
    return handle.list_page(
        request, TICKETS, lambda t: external_id is None or t["external_id"] == external_id
    )


@router.post("/tickets")
async def create_ticket(request: Request) -> JSONResponse:
    state, payload = emulator(request).state, await body_object(request, "ticket")
    with state.lock:
        ticket, audit = tickets.create_ticket(state, payload)
        body = _ticket_and_audit(ticket, audit, base_url(request))
        return respond(body, 201, {"Location": body["ticket"]["url"]})


@router.get("/tickets/show_many")
async def show_many_tickets(request: Request) -> JSONResponse:
    return handle.show_many(request, TICKETS, external_ids=False)


handle.add_record_routes(router, "/tickets/{ticket_id:int}", TICKETS)


@router.put("/tickets/{ticket_id:int}")
async def update_ticket(request: Request, ticket_id: int) -> JSONResponse:
    state, payload = emulator(request).state, await body_object(request, "ticket")
    with state.lock:
        ticket, audit = tickets.update_ticket(state, ticket_id, payload)
        return respond(_ticket_and_audit(ticket, audit, base_url(request)))


@router.delete("/tickets/{ticket_id:int}")
async def delete_ticket(request: Request, ticket_id: int) -> Response:
    return handle.delete(request, tickets.delete_ticket, ticket_id)


@router.get("/tickets/{ticket_id:int}/audits")
async def ticket_audits(request: Request, ticket_id: int) -> JSONResponse:
    state, query = emulator(request).state, params(request)
    with state.lock:
        tickets.get_ticket(state, ticket_id)
        audits = list(state.audits.get(ticket_id, []))
        url = f"{base_url(request)}/api/v2/tickets/{ticket_id}/audits.json"
        return respond(
            paginate(audits, key="audits", params=query, url=url, render=tickets.render_audit)
        )


# -- search ---------------------------------------------------------------------------------
# https://developer.zendesk.com/api-reference/ticketing/ticket-management/search/


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
            render=lambda row: {
                **BY_KIND[row["kind"]].render(state, row["record"], base),
                "result_type": row["kind"],
            },
        )
    page["facets"] = None
    return respond(page)


@router.get("/search/count")
async def search_count(request: Request) -> JSONResponse:
    state = emulator(request).state
    with state.lock:
        return respond({"count": len(_search.search(state, params(request).get("query", "")))})
