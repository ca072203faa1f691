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
from typing import Any

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
from syncwright.sandbox.business_central._routes import dispatch
from syncwright.sandbox.business_central._seed import seed
from syncwright.sandbox.business_central._state import BcState
from syncwright.sandbox.business_central._webhooks import Subscriptions

__all__ = ["BusinessCentralSandbox", "create_app", "sandbox_of"]

DEFAULT_PAGE_SIZE = 20000  # Microsoft: "maximum page size 20,000 entities"


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
        plan = self.faults.plan  # given to create_app: a reset at creation must not clear it
        self.reset()
        self.faults.configure(plan)

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
        response = await asyncio.to_thread(dispatch, sandbox, request, root, path, body)
        if fault == "lost_response":
            await sandbox.faults.stall()
        return response

    return app
