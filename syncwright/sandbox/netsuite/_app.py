"""The FastAPI app: NetSuite's REST record service and SuiteQL, plus the ``/_sandbox`` admin API.

Oracle pages behind each route:
- create (POST -> 204 + Location): section_1545141395 "Creating a Record Instance"
- upsert (PUT eid:...): section_156335203191 "Using the Upsert Operation"
- external ids (``eid:`` in the URL): section_156334828635 "Using External IDs"
- paging (limit/offset, links, hasMore): section_156414087576 "Collection Paging"
- SuiteQL (POST query/v1/suiteql, ``Prefer: transient``): section_157909186990
"""

from __future__ import annotations

import dataclasses
import json
import threading
from collections import Counter
from typing import Any
from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from syncwright.sandbox._faults import FaultInjector, FaultPlan
from syncwright.sandbox.netsuite._auth import TbaVerifier
from syncwright.sandbox.netsuite._credentials import TbaSecrets
from syncwright.sandbox.netsuite._errors import (
    NetSuiteApiError,
    error_body,
    unknown_record_type,
)
from syncwright.sandbox.netsuite._gate import Gate
from syncwright.sandbox.netsuite._governor import ConcurrencyGovernor
from syncwright.sandbox.netsuite._record_query import record_filter
from syncwright.sandbox.netsuite._render import RECORD_ROOT, Renderer, link
from syncwright.sandbox.netsuite._schema import record_type
from syncwright.sandbox.netsuite._state import NetSuiteState
from syncwright.sandbox.netsuite._suiteql import run as run_suiteql
from syncwright.sandbox.netsuite._write_log import WriteLog

__all__ = ["NetSuiteSandbox", "create_app", "sandbox_of"]

QUERY_ROOT = "/services/rest/query/v1"
MAX_PAGE = 1000
ERROR_MEDIA_TYPE = "application/vnd.oracle.resource+json; type=error"


class NetSuiteSandbox:
    """The Python handle on one emulated account (also reachable as ``app.state.netsuite``)."""

    def __init__(
        self,
        state: NetSuiteState,
        verifier: TbaVerifier,
        governor: ConcurrencyGovernor,
        faults: FaultInjector,
    ) -> None:
        self.state = state
        self.verifier = verifier
        self.governor = governor
        self.faults = faults
        self.requests = 0
        self.requests_by_kind: Counter[str] = Counter()
        self.writes = WriteLog()
        self._lock = threading.Lock()

    @property
    def account(self) -> str:
        return self.verifier.account

    def count_request(self, method: str, path: str) -> None:
        kind = request_kind(method, path)
        with self._lock:
            self.requests += 1
            self.requests_by_kind[kind] += 1

    # concurrency governance, as attributes
    @property
    def max_in_flight_observed(self) -> int:
        return self.governor.max_in_flight_observed

    @property
    def breaches(self) -> int:
        return self.governor.breaches

    @property
    def utilisation(self) -> float:
        return self.governor.utilisation

    def set_concurrency_limit(self, limit: int) -> None:
        self.governor.limit = limit

    def configure_faults(self, plan: FaultPlan) -> None:
        self.faults.configure(plan)

    def stats(self) -> dict[str, Any]:
        return {
            "account": self.account,
            "requests": self.requests,
            "requests_by_kind": dict(sorted(self.requests_by_kind.items())),
            **self.governor.stats(),
            "auth": {"accepted": self.verifier.accepted, "rejected": len(self.verifier.failures)},
            "faults_injected": dict(self.faults.injected),
            "records": self.state.counts(),
        }

    def reset(self) -> None:
        """Seeded records again, counters zeroed, nonces forgotten, faults off."""
        self.state.reset()
        self.governor.reset()
        self.verifier.reset()
        self.faults.configure(FaultPlan())
        self.writes.clear()
        with self._lock:
            self.requests = 0
            self.requests_by_kind.clear()
        for kind in self.faults.injected:
            self.faults.injected[kind] = 0


def request_kind(method: str, path: str) -> str:
    """``GET customer/eid``, ``PUT invoice/eid``, ``PATCH salesOrder/id``, ``POST suiteql``:
    what a request did, without the ids (for the per-kind request counts in ``stats``)."""
    if path.startswith(QUERY_ROOT):
        return f"{method} {path.rsplit('/', 1)[-1]}"
    parts = path.removeprefix(RECORD_ROOT).strip("/").split("/")
    if not parts[0]:
        return f"{method} {path}"
    target = parts[0]
    if len(parts) > 1:
        target += "/eid" if parts[1].startswith("eid:") else "/id"
    if len(parts) > 2:
        target += "/" + "/".join(parts[2:])
    return f"{method} {target}"


def sandbox_of(app: FastAPI) -> NetSuiteSandbox:
    sandbox: NetSuiteSandbox = app.state.netsuite
    return sandbox


def _plan_dict(plan: FaultPlan) -> dict[str, Any]:
    data = dataclasses.asdict(plan)
    data["only_methods"] = sorted(plan.only_methods)
    return data


def _plan_from(body: dict[str, Any]) -> FaultPlan:
    known = {f.name for f in dataclasses.fields(FaultPlan)}
    unknown = set(body) - known
    if unknown:
        raise ValueError(f"unknown fault settings: {', '.join(sorted(unknown))}")
    values = dict(body)
    if "only_methods" in values:
        values["only_methods"] = frozenset(str(m).upper() for m in values["only_methods"])
    return FaultPlan(**values)


def _int_param(request: Request, name: str, default: int, *, low: int, high: int) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = low - 1
    if not low <= value <= high:
        raise NetSuiteApiError(
            400,
            "INVALID_PARAMETER",
            f"Invalid value for the query parameter {name}: {raw}. "
            f"Provide a value between {low} and {high}.",
            query_param=name,
        )
    return value


async def _json_body(request: Request) -> Any:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        return json.loads(raw)
    except ValueError:
        raise NetSuiteApiError(
            400, "INVALID_CONTENT", "The request body is not valid JSON.", path=""
        ) from None


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _page_links(
    url: str, offset: int, limit: int, total: int, extra: str = ""
) -> list[dict[str, str]]:
    def at(position: int) -> str:
        return f"{url}?{extra}limit={limit}&offset={position}"

    links: list[dict[str, str]] = []
    last_offset = max(0, ((total - 1) // limit) * limit) if total else 0
    if offset > 0:
        links.append(link(at(0), "first"))
        links.append(link(at(max(0, offset - limit)), "previous"))
    if offset + limit < total:
        links.append(link(at(offset + limit), "next"))
        links.append(link(at(last_offset), "last"))
    links.append(link(at(offset), "self"))
    return links


def _paging(request: Request) -> tuple[int, int]:
    limit = _int_param(request, "limit", MAX_PAGE, low=1, high=MAX_PAGE)
    offset = _int_param(request, "offset", 0, low=0, high=100_000)
    if offset % limit:
        raise NetSuiteApiError(
            400,
            "INVALID_PARAMETER",
            f"Invalid value for the query parameter offset: {offset}. "
            "The offset must be a multiple of the limit.",
            query_param="offset",
        )
    return limit, offset


def create_app(
    state: NetSuiteState | None = None,
    *,
    account: str = "TSTDRV1",
    credentials: TbaSecrets,
    concurrency_limit: int = 5,
    faults: FaultInjector | None = None,
) -> FastAPI:
    """A NetSuite REST web services emulator for one account; run it with ``ServerThread``."""
    state = state if state is not None else NetSuiteState()
    sandbox = NetSuiteSandbox(
        state,
        TbaVerifier(credentials, account=account),
        ConcurrencyGovernor(concurrency_limit),
        faults if faults is not None else FaultInjector(),
    )
    app = FastAPI(
        title=f"NetSuite sandbox ({account})",
        description="SuiteTalk REST web services emulator (record service + SuiteQL).",
    )
    app.state.netsuite = sandbox
    app.add_middleware(Gate, sandbox=sandbox)

    @app.exception_handler(NetSuiteApiError)
    async def _netsuite_error(request: Request, exc: NetSuiteApiError) -> Response:
        return JSONResponse(exc.body(), status_code=exc.status, media_type=ERROR_MEDIA_TYPE)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        code = "INVALID_URL" if exc.status_code == 404 else "INVALID_REQUEST"
        detail = [{"detail": str(exc.detail), "o:errorCode": code, "o:urlPath": request.url.path}]
        return JSONResponse(
            error_body(exc.status_code, detail),
            status_code=exc.status_code,
            media_type=ERROR_MEDIA_TYPE,
        )

    def render(request: Request) -> Renderer:
        return Renderer(state, _base(request))

    def location(request: Request, rtype: str, rid: str) -> Response:
        canonical = record_type(rtype)
        name = canonical.name if canonical else rtype
        return Response(
            status_code=204, headers={"Location": f"{_base(request)}{RECORD_ROOT}/{name}/{rid}"}
        )

    # -- record service -------------------------------------------------------------------

    @app.get(RECORD_ROOT + "/{rtype}")
    async def list_records(rtype: str, request: Request) -> dict[str, Any]:
        limit, offset = _paging(request)
        rt = record_type(rtype)
        if rt is None:
            raise unknown_record_type(rtype)
        name = rt.name
        q = request.query_params.get("q", "").strip()
        ids = state.ids(rtype, record_filter(rt, q) if q else None)
        page = ids[offset : offset + limit]
        url = f"{_base(request)}{RECORD_ROOT}/{name}"
        r = render(request)
        return {
            "links": _page_links(
                url, offset, limit, len(ids), urlencode({"q": q}) + "&" if q else ""
            ),
            "count": len(page),
            "hasMore": offset + limit < len(ids),
            "items": [{"links": [link(r.record_url(name, rid))], "id": rid} for rid in page],
            "offset": offset,
            "totalResults": len(ids),
        }

    @app.post(RECORD_ROOT + "/{rtype}", status_code=204)
    async def create_record(rtype: str, request: Request) -> Response:
        body = await _json_body(request)
        rid = state.create(rtype, body)
        sandbox.writes.record("POST", rtype, rid, body)
        return location(request, rtype, rid)

    @app.get(RECORD_ROOT + "/{rtype}/{rid}")
    async def get_record(rtype: str, rid: str, request: Request) -> dict[str, Any]:
        expand = request.query_params.get("expandSubResources", "").lower() == "true"
        rt = record_type(rtype)
        with state.lock:
            rec = state.get(rtype, rid)
            assert rt is not None
            return render(request).record(rt, rec, expand=expand)

    @app.patch(RECORD_ROOT + "/{rtype}/{rid}", status_code=204)
    async def update_record(rtype: str, rid: str, request: Request) -> Response:
        replace = [n for n in request.query_params.get("replace", "").split(",") if n]
        body = await _json_body(request)
        state.update(rtype, rid, body, replace=replace)
        sandbox.writes.record("PATCH", rtype, rid, body, replace=replace)
        return Response(status_code=204)

    @app.put(RECORD_ROOT + "/{rtype}/{rid}", status_code=204)
    async def upsert_record(rtype: str, rid: str, request: Request) -> Response:
        if not rid.startswith("eid:") or len(rid) == 4:
            raise NetSuiteApiError(
                400,
                "INVALID_REQUEST",
                "The upsert operation (PUT) requires an external ID in the URL: eid:<externalId>.",
                url_path=f"{rtype}/{rid}",
            )
        replace = [n for n in request.query_params.get("replace", "").split(",") if n]
        body = await _json_body(request)
        new_id, _created = state.upsert(rtype, rid[4:], body, replace=replace)
        extra: dict[str, Any] = {"replace": replace} if replace else {}
        sandbox.writes.record("PUT", rtype, new_id, body, external_id=rid[4:], **extra)
        return location(request, rtype, new_id)

    @app.delete(RECORD_ROOT + "/{rtype}/{rid}", status_code=204)
    async def delete_record(rtype: str, rid: str) -> Response:
        state.delete(rtype, rid)
        sandbox.writes.record("DELETE", rtype, rid, None)
        return Response(status_code=204)

    @app.get(RECORD_ROOT + "/{rtype}/{rid}/{sublist}")
    async def get_sublist(rtype: str, rid: str, sublist: str, request: Request) -> dict[str, Any]:
        rt = record_type(rtype)
        with state.lock:
            rec = state.get(rtype, rid)
            assert rt is not None
            sub = rt.sublist(sublist)
            if sub is None:
                raise NetSuiteApiError(
                    404,
                    "INVALID_URL",
                    f"Sublist '{sublist}' does not exist on record type '{rt.name}'.",
                    url_path=f"{rtype}/{rid}/{sublist}",
                )
            return render(request).sublist(rt, rec, sub)

    # -- SuiteQL --------------------------------------------------------------------------

    @app.post(QUERY_ROOT + "/suiteql")
    async def suiteql(request: Request) -> dict[str, Any]:
        if "transient" not in request.headers.get("prefer", "").lower():
            raise NetSuiteApiError(
                400,
                "INVALID_HEADER",
                "SuiteQL queries must be sent with the header Prefer: transient.",
                header="Prefer",
            )
        limit, offset = _paging(request)
        body = await _json_body(request)
        query = body.get("q") if isinstance(body, dict) else None
        if not isinstance(query, str):
            raise NetSuiteApiError(
                400, "INVALID_CONTENT", "Provide the query in the body parameter q.", path="q"
            )
        with state.lock:
            rows = run_suiteql(state, query)
        page = rows[offset : offset + limit]
        url = f"{_base(request)}{QUERY_ROOT}/suiteql"
        return {
            "links": _page_links(url, offset, limit, len(rows)),
            "count": len(page),
            "hasMore": offset + limit < len(rows),
            "items": [{"links": [], **row} for row in page],
            "offset": offset,
            "totalResults": len(rows),
        }

    # -- /_sandbox admin API (not NetSuite; no authentication) ------------------------------

    @app.get("/_sandbox/stats")
    async def admin_stats() -> dict[str, Any]:
        return sandbox.stats()

    @app.get("/_sandbox/writes")
    async def admin_writes() -> dict[str, Any]:
        # Every record write received, oldest first: method, record type, id, body.
        return {"writes": sandbox.writes.entries()}

    @app.get("/_sandbox/faults")
    async def admin_faults() -> dict[str, Any]:
        return {"plan": _plan_dict(sandbox.faults.plan), "injected": sandbox.faults.injected}

    @app.post("/_sandbox/faults")
    async def admin_set_faults(request: Request) -> Response:
        body = await request.json()
        try:
            plan = _plan_from(body if isinstance(body, dict) else {})
        except (TypeError, ValueError) as exc:
            return JSONResponse({"error": str(exc)}, status_code=422)
        sandbox.configure_faults(plan)
        return JSONResponse({"plan": _plan_dict(plan)})

    @app.post("/_sandbox/concurrency")
    async def admin_concurrency(request: Request) -> Response:
        body = await request.json()
        limit = body.get("limit") if isinstance(body, dict) else None
        if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
            return JSONResponse({"error": "limit must be a positive integer"}, status_code=422)
        sandbox.set_concurrency_limit(limit)
        return JSONResponse(sandbox.governor.stats())

    @app.post("/_sandbox/reset")
    async def admin_reset() -> dict[str, Any]:
        sandbox.reset()
        return sandbox.stats()

    return app
