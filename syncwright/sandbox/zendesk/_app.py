"""The emulator's ASGI app: auth, rate limit and faults in front of the routers."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from syncwright.sandbox._faults import FaultInjector
from syncwright.sandbox.zendesk import _routes_admin, _routes_support, _routes_webhooks
from syncwright.sandbox.zendesk._auth import Credentials
from syncwright.sandbox.zendesk._context import ZendeskEmulator, emulator, emulator_of
from syncwright.sandbox.zendesk._errors import (
    RATE_LIMITED_TEXT,
    UNAUTHENTICATED_BODY,
    ZendeskApiError,
    invalid_endpoint,
)
from syncwright.sandbox.zendesk._ratelimit import RateLimiter
from syncwright.sandbox.zendesk._state import ZendeskState
from syncwright.sandbox.zendesk._webhooks import WebhookDispatcher

API_PREFIX = "/api/v2/"
DEFAULT_API_TOKEN = "sandbox-zendesk-token"  # noqa: S105 -- a fixed token for a local fake


class _StripJsonSuffix:
    """Zendesk serves every path with or without ``.json``; route on the bare path."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if path.startswith(API_PREFIX) and path.endswith(".json"):
            scope = dict(scope)
            scope["path"] = scope["path"][: -len(".json")]
            raw_path = scope.get("raw_path")
            if isinstance(raw_path, bytes) and raw_path.endswith(b".json"):
                scope["raw_path"] = raw_path[: -len(b".json")]
        await self.app(scope, receive, send)


async def _gate(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
    """Authenticate, rate-limit and inject faults for Support/Webhooks API calls."""
    if not request.url.path.startswith(API_PREFIX):
        return await call_next(request)
    em = emulator(request)
    em.stats.requests += 1
    if not em.credentials.accepts(request.headers.get("authorization")):
        em.stats.unauthenticated += 1
        em.stats.by_status[401] += 1
        return JSONResponse(
            UNAUTHENTICATED_BODY, 401, headers={"WWW-Authenticate": 'Basic realm="Web Password"'}
        )
    decision = em.limiter.take()
    if not decision.allowed:
        em.stats.by_status[429] += 1
        return PlainTextResponse(RATE_LIMITED_TEXT, 429, headers=decision.headers())
    await em.faults.delay()
    fault = em.faults.draw(request.method)
    if fault == "error_5xx":
        response: Response = JSONResponse(
            {"error": "ServiceUnavailable", "description": "Sandbox fault: injected 503"}, 503
        )
    elif fault == "timeout":
        await em.faults.stall()
        response = JSONResponse(
            {"error": "GatewayTimeout", "description": "Sandbox fault: injected timeout"}, 504
        )
    else:
        response = await call_next(request)
        if fault == "lost_response":
            # The write is applied; the answer arrives too late for the client to see it.
            await em.faults.stall()
    route = request.scope.get("route")
    em.stats.by_route[f"{request.method} {getattr(route, 'path', request.url.path)}"] += 1
    em.stats.by_status[response.status_code] += 1
    response.headers.update(decision.headers())
    return response


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ZendeskApiError)
    return JSONResponse(exc.body, exc.status)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 404:
        error = invalid_endpoint()
        return JSONResponse(error.body, error.status)
    return JSONResponse(
        {"error": "InvalidEndpoint", "description": str(exc.detail)}, exc.status_code
    )


def create_app(
    state: ZendeskState | None = None,
    *,
    subdomain: str = "syncwright",
    email: str = "agent@example.com",
    api_token: str = DEFAULT_API_TOKEN,
    oauth_tokens: Sequence[str] = (),
    requests_per_minute: int = 700,
    rate_window_seconds: float = 60.0,
    faults: FaultInjector | None = None,
    webhook_timeout_seconds: float = 12.0,
    webhook_retry_delays: Sequence[float] = (1.0, 2.0, 4.0, 8.0, 16.0),
) -> FastAPI:
    """A Zendesk Support account at ``/api/v2`` plus the sandbox admin API at ``/_sandbox``.

    ``requests_per_minute`` is the account limit (700: Enterprise); ``rate_window_seconds``
    shortens the minute for tests. ``webhook_retry_delays`` are the pauses between delivery
    retries (Zendesk does not document them).
    """
    state = state or ZendeskState()
    state.seed_agent(email)
    dispatcher = WebhookDispatcher(
        state, timeout_seconds=webhook_timeout_seconds, retry_delays=webhook_retry_delays
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        em = emulator_of(app)
        em.dispatcher.start()
        try:
            yield
        finally:
            em.dispatcher.stop()

    app = FastAPI(
        title="Zendesk Support (syncwright sandbox)",
        lifespan=lifespan,
        docs_url="/_sandbox/docs",
        openapi_url="/_sandbox/openapi.json",
        redoc_url=None,
    )
    app.state.zendesk = ZendeskEmulator(
        state=state,
        subdomain=subdomain,
        credentials=Credentials(email=email, api_token=api_token, oauth_tokens=oauth_tokens),
        limiter=RateLimiter(requests_per_minute, window_seconds=rate_window_seconds),
        faults=faults or FaultInjector(),
        dispatcher=dispatcher,
    )
    app.add_exception_handler(ZendeskApiError, _api_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.include_router(_routes_admin.router)
    app.include_router(_routes_webhooks.router)
    app.include_router(_routes_support.router)
    app.add_middleware(BaseHTTPMiddleware, dispatch=_gate)
    app.add_middleware(_StripJsonSuffix)
    return app
