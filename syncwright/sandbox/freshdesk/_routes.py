"""Freshdesk API v2 routes for the resources syncwright uses (https://developers.freshdesk.com/api/).

Lists are paged with ``page`` (from 1) and ``per_page`` (default 30, at most 100) and carry a
``Link: <...>; rel="next"`` header while a full page may be followed by more; search answers
``{"results", "total"}`` in pages of 30, at most 10 pages.
"""

from __future__ import annotations

import json
import re
from typing import Any, cast

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import JSONResponse

from syncwright.sandbox.freshdesk._errors import FreshdeskApiError, one_of, validation
from syncwright.sandbox.freshdesk._state import FreshdeskState

router = APIRouter(prefix="/api/v2")

_TERM = re.compile(r"^\s*([A-Za-z0-9_]+)\s*:\s*('(?:[^']*)'|-?\d+|null|true|false)\s*$")
SEARCH_PAGE = 30
SEARCH_MAX_PAGES = 10


def state_of(request: Request) -> FreshdeskState:
    return cast(FreshdeskState, cast(FastAPI, request.app).state.freshdesk.state)


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    try:
        body = json.loads(raw or b"{}")
    except ValueError:
        raise FreshdeskApiError(
            400, {"code": "invalid_json", "message": "Request body has invalid json format"}
        ) from None
    if not isinstance(body, dict):
        raise FreshdeskApiError(
            400, {"code": "invalid_json", "message": "Request body has invalid json format"}
        )
    return body


def _int_param(request: Request, name: str, default: int, maximum: int | None = None) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or int(raw) < 1 or (maximum is not None and int(raw) > maximum):
        limit = f" less than or equal to {maximum}" if maximum else ""
        raise validation([(name, f"It should be a/an Positive Integer{limit}", "invalid_value")])
    return int(raw)


def _page(request: Request, records: list[dict[str, Any]]) -> JSONResponse:
    page = _int_param(request, "page", 1)
    per_page = _int_param(request, "per_page", 30, 100)
    chunk = records[(page - 1) * per_page : page * per_page]
    headers = {}
    if len(chunk) == per_page and len(records) > page * per_page:
        following = request.url.include_query_params(page=page + 1, per_page=per_page)
        headers["Link"] = f'<{following}>; rel="next"'
    return JSONResponse(chunk, headers=headers)


def _id(value: str) -> int:
    if not value.isdigit():
        raise FreshdeskApiError(404, None)
    return int(value)


# -- companies -------------------------------------------------------------------------------
# https://developers.freshdesk.com/api/#companies


@router.get("/companies")
async def list_companies(request: Request) -> Response:
    state = state_of(request)
    return _page(request, [state.company(i) for i in sorted(state.companies)])


@router.post("/companies")
async def create_company(request: Request) -> Response:
    return JSONResponse(state_of(request).create_company(await _body(request)), 201)


@router.get("/companies/{company_id}")
async def get_company(request: Request, company_id: str) -> Response:
    return JSONResponse(state_of(request).company(_id(company_id)))


@router.put("/companies/{company_id}")
async def update_company(request: Request, company_id: str) -> Response:
    body = await _body(request)
    return JSONResponse(state_of(request).update_company(_id(company_id), body))


@router.delete("/companies/{company_id}")
async def delete_company(request: Request, company_id: str) -> Response:
    state_of(request).delete_company(_id(company_id))
    return Response(status_code=204)


@router.get("/company_fields")
async def list_company_fields(request: Request) -> Response:
    state = state_of(request)
    return JSONResponse([dict(f) for f in state.company_fields.values()])


@router.get("/search/companies")
async def search_companies(request: Request) -> Response:
    """``query="field:'value' AND field:value"`` (quoted, at most 512 characters)."""
    query = request.query_params.get("query", "")
    if len(query) > 512:
        raise validation([("query", "It should not exceed 512 characters", "invalid_value")])
    if not (len(query) >= 2 and query[0] == query[-1] == '"'):
        raise validation([("query", "It should be wrapped in double quotes", "invalid_value")])
    terms: list[tuple[str, Any]] = []
    for part in re.split(r"\s+AND\s+", query[1:-1].strip()):
        match = _TERM.match(part)
        if match is None:
            raise validation([("query", f"Invalid query term: {part!r}", "invalid_value")])
        key, raw = match.groups()
        terms.append((key, raw[1:-1] if raw.startswith("'") else json.loads(raw)))
    page = _int_param(request, "page", 1, SEARCH_MAX_PAGES)
    found = state_of(request).search_companies(terms)
    chunk = found[(page - 1) * SEARCH_PAGE : page * SEARCH_PAGE]
    return JSONResponse({"results": chunk, "total": len(found)})


# -- contacts --------------------------------------------------------------------------------
# https://developers.freshdesk.com/api/#contacts


@router.get("/contacts")
async def list_contacts(request: Request) -> Response:
    """Filters as Freshdesk documents them: ``email``, ``unique_external_id``, ``company_id``
    (each an exact match; several narrow together)."""
    state = state_of(request)
    wanted = {
        key: request.query_params[key]
        for key in ("email", "unique_external_id", "company_id")
        if key in request.query_params
    }
    found = [state.contact(i) for i in sorted(state.contacts)]
    found = [c for c in found if all(str(c.get(k)) == v for k, v in wanted.items())]
    return _page(request, found)


@router.post("/contacts")
async def create_contact(request: Request) -> Response:
    return JSONResponse(state_of(request).create_contact(await _body(request)), 201)


@router.get("/contacts/{contact_id}")
async def get_contact(request: Request, contact_id: str) -> Response:
    return JSONResponse(state_of(request).contact(_id(contact_id)))


@router.put("/contacts/{contact_id}")
async def update_contact(request: Request, contact_id: str) -> Response:
    body = await _body(request)
    return JSONResponse(state_of(request).update_contact(_id(contact_id), body))


# -- tickets ---------------------------------------------------------------------------------
# https://developers.freshdesk.com/api/#list_all_tickets


@router.get("/tickets")
async def list_tickets(request: Request) -> Response:
    """``updated_since`` (ISO-8601, inclusive), ``order_by`` (created_at, due_by, updated_at,
    status; default created_at) and ``order_type`` (asc, desc; default desc)."""
    params = request.query_params
    since = params.get("updated_since")
    order_by = params.get("order_by", "created_at")
    order_type = params.get("order_type", "desc")
    problems = []
    if order_by not in ("created_at", "due_by", "updated_at", "status"):
        problems.append(one_of("order_by", ["created_at", "due_by", "updated_at", "status"]))
    if order_type not in ("asc", "desc"):
        problems.append(one_of("order_type", ["asc", "desc"]))
    if since is not None and not re.match(r"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}:\d{2}Z)?$", since):
        why = "It should be in the 'valid date time' format"
        problems.append(("updated_since", why, "invalid_date"))
    if problems:
        raise validation(problems)
    if since is not None and len(since) == 10:
        since += "T00:00:00Z"
    tickets = state_of(request).list_tickets(since)
    tickets.sort(key=lambda t: (t.get(order_by) or "", t["id"]), reverse=order_type == "desc")
    if "stats" not in params.get("include", "").split(","):
        for ticket in tickets:
            ticket.pop("stats", None)
    return _page(request, tickets)


@router.post("/tickets")
async def create_ticket(request: Request) -> Response:
    return JSONResponse(state_of(request).create_ticket(await _body(request)), 201)


@router.get("/tickets/{ticket_id}")
async def get_ticket(request: Request, ticket_id: str) -> Response:
    ticket = state_of(request).ticket(_id(ticket_id))
    if "stats" not in request.query_params.get("include", "").split(","):
        ticket.pop("stats", None)  # embedded only on request (it costs an extra credit)
    return JSONResponse(ticket)


@router.put("/tickets/{ticket_id}")
async def update_ticket(request: Request, ticket_id: str) -> Response:
    body = await _body(request)
    return JSONResponse(state_of(request).update_ticket(_id(ticket_id), body))


# -- SLA policies ----------------------------------------------------------------------------
# https://developers.freshdesk.com/api/#sla-policies


@router.get("/sla_policies")
async def list_sla_policies(request: Request) -> Response:
    return _page(request, state_of(request).list_sla_policies())


@router.post("/sla_policies")
async def create_sla_policy(request: Request) -> Response:
    return JSONResponse(state_of(request).create_sla_policy(await _body(request)), 201)


@router.put("/sla_policies/{policy_id}")
async def update_sla_policy(request: Request, policy_id: str) -> Response:
    body = await _body(request)
    return JSONResponse(state_of(request).update_sla_policy(_id(policy_id), body))
