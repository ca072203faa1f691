"""The FastAPI app: Business Central API v2.0 (OData), Entra ID tokens, webhooks, ``/_sandbox``.

URLs as Business Central online serves them (Microsoft, "Endpoints for the APIs for Dynamics 365
Business Central online"): ``/v2.0/{tenant}/{environment}/api/v2.0/companies({id})/{entitySet}``,
``.../{entitySet}({id})``, ``.../{document}({id})/{lines}``, bound actions
``.../{entitySet}({id})/Microsoft.NAV.post``; ``/v2.0/{tenant}/{environment}/api/v2.0/
subscriptions``. Entra ID (login.microsoftonline.com) is served from the same host:
``/{tenant}/v2.0/.well-known/openid-configuration`` and ``/{tenant}/oauth2/v2.0/token``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import re
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from syncwright.sandbox._faults import FaultInjector, FaultPlan
from syncwright.sandbox.business_central._auth import (
    EntraTokens,
    TokenError,
    openid_configuration,
)
from syncwright.sandbox.business_central._errors import BcApiError
from syncwright.sandbox.business_central._limits import SlidingWindow
from syncwright.sandbox.business_central._odata import parse_filter, parse_orderby, query_error
from syncwright.sandbox.business_central._schema import ENTITY_SETS, LINE_SETS, EntitySet
from syncwright.sandbox.business_central._seed import seed
from syncwright.sandbox.business_central._state import BcState, Record
from syncwright.sandbox.business_central._webhooks import Subscriptions

__all__ = ["BusinessCentralSandbox", "create_app", "sandbox_of"]

DEFAULT_PAGE_SIZE = 20000  # Microsoft: "maximum page size 20,000 entities"
_SEGMENT = re.compile(r"^([A-Za-z][A-Za-z0-9.]*)(?:\((.*)\))?$")
_BOUND_ACTIONS = ("Microsoft.NAV.post", "Microsoft.NAV.cancel")


@dataclasses.dataclass
class BusinessCentralSandbox:
    """The Python handle on one emulated tenant (also ``app.state.business_central``)."""

    tenant: str
    environment: str
    tokens: EntraTokens
    faults: FaultInjector
    limiter: SlidingWindow
    page_size: int
    webhook_verify: bool | str = True
    deliver_immediately: bool = False

    def __post_init__(self) -> None:
        self.requests = 0
        self.reset()

    def reset(self) -> None:
        self.state = BcState()
        self.company_id = seed(self.state)
        self.subscriptions = Subscriptions(
            self.state, verify=self.webhook_verify, deliver_immediately=self.deliver_immediately
        )
        self.faults.configure(FaultPlan())
        self.limiter.force(0, 1)

    def api_root(self, base_url: str) -> str:
        """``{base}/v2.0/{tenant}/{environment}/api/v2.0`` for a server's base URL."""
        return f"{base_url.rstrip('/')}/v2.0/{self.tenant}/{self.environment}/api/v2.0"

    def authority(self, base_url: str) -> str:
        return f"{base_url.rstrip('/')}/{self.tenant}"

    def stats(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "tokens_issued": self.tokens.issued,
            "throttled": self.limiter.refused,
            "faults": dict(self.faults.injected),
            "webhooks": self.subscriptions.stats(),
        }


def sandbox_of(app: FastAPI) -> BusinessCentralSandbox:
    sandbox: BusinessCentralSandbox = app.state.business_central
    return sandbox


def _odata_error(exc: BcApiError) -> Response:
    return JSONResponse(exc.body(), status_code=exc.status, headers=exc.headers)


def _key(text: str | None) -> str:
    return (text or "").strip().strip("'").lower()


def _entity(record: Record, context: str) -> dict[str, Any]:
    return {"@odata.context": context, **record}


def create_app(
    *,
    tenant: str = "contoso.onmicrosoft.com",
    environment: str = "production",
    client_id: str,
    client_secret: str,
    faults: FaultInjector | None = None,
    rate_limit: int = 6000,
    rate_window_seconds: float = 300.0,
    page_size: int = DEFAULT_PAGE_SIZE,
    webhook_verify: bool | str = True,
    deliver_immediately: bool = False,
) -> FastAPI:
    """A Business Central online emulator for one tenant and environment."""
    sandbox = BusinessCentralSandbox(
        tenant=tenant,
        environment=environment,
        tokens=EntraTokens(tenant, client_id, client_secret),
        faults=faults if faults is not None else FaultInjector(),
        limiter=SlidingWindow(rate_limit, rate_window_seconds),
        page_size=page_size,
        webhook_verify=webhook_verify,
        deliver_immediately=deliver_immediately,
    )
    app = FastAPI(
        title="Business Central sandbox",
        description="Dynamics 365 Business Central API v2.0 + Entra ID token emulator.",
        docs_url="/_sandbox/docs",
        openapi_url="/_sandbox/openapi.json",
    )
    app.state.business_central = sandbox

    @app.exception_handler(BcApiError)
    async def _bc_error(request: Request, exc: BcApiError) -> Response:
        return _odata_error(exc)

    # -- Entra ID ----------------------------------------------------------------------------

    @app.get("/{tenant_id}/v2.0/.well-known/openid-configuration")
    async def discovery(request: Request, tenant_id: str) -> Response:
        if tenant_id != sandbox.tenant:
            return JSONResponse(
                TokenError(400, "invalid_tenant", 90002, f"Tenant '{tenant_id}' not found.").body(),
                status_code=400,
            )
        return JSONResponse(openid_configuration(str(request.base_url).rstrip("/"), tenant_id))

    @app.post("/{tenant_id}/oauth2/v2.0/token")
    async def token(request: Request, tenant_id: str) -> Response:
        form = {k: str(v) for k, v in (await request.form()).items()}
        try:
            if tenant_id != sandbox.tenant:
                raise TokenError(400, "invalid_request", 90002, f"Tenant '{tenant_id}' not found.")
            return JSONResponse(sandbox.tokens.issue(form))
        except TokenError as exc:
            return JSONResponse(exc.body(), status_code=exc.status)

    # -- admin -------------------------------------------------------------------------------

    @app.get("/_sandbox/stats")
    async def stats() -> dict[str, Any]:
        return sandbox.stats()

    @app.post("/_sandbox/reset")
    async def reset() -> dict[str, Any]:
        sandbox.reset()
        return {"ok": True, "company_id": sandbox.company_id}

    @app.post("/_sandbox/faults")
    async def set_faults(request: Request) -> dict[str, Any]:
        body = await request.json()
        if "only_methods" in body:
            body["only_methods"] = frozenset(body["only_methods"])
        sandbox.faults.configure(FaultPlan(**body))
        return {"ok": True}

    @app.post("/_sandbox/rate_limit")
    async def set_rate_limit(request: Request) -> dict[str, Any]:
        body = await request.json()
        sandbox.limiter.configure(int(body["requests"]), float(body["window_seconds"]))
        return {"ok": True}

    @app.post("/_sandbox/throttle")
    async def throttle(request: Request) -> dict[str, Any]:
        body = await request.json()
        sandbox.limiter.force(int(body.get("count", 1)), int(body.get("retry_after", 1)))
        return {"ok": True}

    @app.post("/_sandbox/tokens/expire")
    async def expire_tokens() -> dict[str, Any]:
        sandbox.tokens.expire_all()
        return {"ok": True}

    @app.post("/_sandbox/webhooks/deliver")
    async def deliver() -> dict[str, Any]:
        sent = await asyncio.to_thread(sandbox.subscriptions.deliver)
        return {"sent": sent}

    # -- the API -----------------------------------------------------------------------------

    @app.api_route(
        "/v2.0/{tenant_id}/{environment_name}/api/v2.0/{path:path}",
        methods=["GET", "POST", "PATCH", "DELETE"],
    )
    async def api(request: Request, tenant_id: str, environment_name: str, path: str) -> Response:
        sandbox.requests += 1
        token = request.headers.get("authorization", "")
        scheme, _, value = token.partition(" ")
        if scheme.lower() != "bearer" or not sandbox.tokens.valid(value.strip()):
            raise BcApiError(
                401,
                "Authentication_InvalidCredentials",
                "The server has rejected the client credentials.",
                headers={
                    "WWW-Authenticate": 'Bearer authorization_uri="https://login.microsoftonline.com'
                    '/common/oauth2/authorize", error="invalid_token"'
                },
            )
        if tenant_id != sandbox.tenant or environment_name != sandbox.environment:
            raise BcApiError(
                404,
                "NoEnvironment",
                f"Environment '{environment_name}' of tenant '{tenant_id}' does not exist.",
            )
        wait = sandbox.limiter.admit(value.strip())
        if wait is not None:
            raise BcApiError(
                429,
                "Application_TooManyRequests",
                "Too Many Requests. The rate of requests exceeds the limit of this user.",
                headers={"Retry-After": str(wait)},
            )
        await sandbox.faults.delay()
        fault = sandbox.faults.draw(request.method)
        if fault == "error_5xx":
            raise BcApiError(
                500,
                "Internal_ServerError",
                "Cannot establish a connection to the SQL Server/Database.",
            )
        if fault == "timeout":
            await sandbox.faults.stall()
        body: Any = None
        if request.method in ("POST", "PATCH"):
            raw = await request.body()
            if raw:
                try:
                    body = await request.json()
                except ValueError:
                    raise BcApiError(400, "BadRequest", "Invalid Request Body") from None
                if not isinstance(body, dict):
                    raise BcApiError(400, "BadRequest", "Invalid Request Body")
        root = f"{str(request.base_url).rstrip('/')}/v2.0/{tenant_id}/{environment_name}/api/v2.0"
        response = await asyncio.to_thread(_dispatch, sandbox, request, root, path, body)
        if fault == "lost_response":
            await sandbox.faults.stall()
        return response

    return app


# -- dispatch (runs on a worker thread: handshakes call out over HTTP) --------------------------


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


def _dispatch(
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
