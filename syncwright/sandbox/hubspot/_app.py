"""The emulator's ASGI app: bearer auth, rate limits and faults in front of the routers."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.base import BaseHTTPMiddleware

from syncwright.sandbox._faults import FaultInjector
from syncwright.sandbox.hubspot import _errors as err
from syncwright.sandbox.hubspot import _oauth, _routes_admin, _routes_crm, _routes_webhooks
from syncwright.sandbox.hubspot._context import HubSpotEmulator, emulator, emulator_of
from syncwright.sandbox.hubspot._oauth import OAuthApp, accepted
from syncwright.sandbox.hubspot._ratelimit import RateLimiter
from syncwright.sandbox.hubspot._state import HubSpotState
from syncwright.sandbox.hubspot._webhooks import WebhookDispatcher

DEFAULT_ACCESS_TOKEN = "pat-na1-sandbox-0000-0000-000000000000"  # noqa: S105 -- a local fake
DEFAULT_CLIENT_SECRET = "sandbox-hubspot-client-secret"  # noqa: S105
DEFAULT_DEVELOPER_API_KEY = "sandbox-hubspot-developer-key"
DEFAULT_APP_ID = 54321
DEFAULT_OAUTH_CLIENT_ID = "sandbox-hubspot-client-id"
DEFAULT_REFRESH_TOKEN = "sandbox-hubspot-refresh-token"  # noqa: S105


async def _gate(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
    """Authenticate (private-app or OAuth bearer token), rate-limit and inject faults."""
    path = request.url.path
    if not path.startswith("/crm/"):
        return await call_next(request)
    em = emulator(request)
    em.stats.requests += 1
    auth = request.headers.get("authorization", "")
    scheme, _, token = auth.partition(" ")
    refused = (
        accepted(em.access_tokens, em.oauth, token.strip()) if scheme.lower() == "bearer" else 0.0
    )
    if refused is not None:
        em.stats.unauthenticated += 1
        em.stats.by_status[401] += 1
        error = err.expired(refused) if refused > 0 else err.unauthorized()
        return JSONResponse(error.body, error.status)
    decision = em.limiter.take(search=path.endswith("/search"))
    if decision.policy is not None:
        em.stats.by_status[429] += 1
        error = err.rate_limited(decision.policy)
        return JSONResponse(error.body, 429, headers=decision.headers)
    await em.faults.delay()
    fault = em.faults.draw(request.method)
    if fault == "error_5xx":
        error = err.server_error()
        response: Response = JSONResponse(error.body, error.status)
    elif fault == "timeout":
        await em.faults.stall()
        response = JSONResponse(err.error_body("gateway timeout", "INTERNAL_ERROR"), 504)
    else:
        response = await call_next(request)
        if fault == "lost_response":
            await em.faults.stall()  # applied; the answer comes too late for the client
    route = request.scope.get("route")
    em.stats.by_route[f"{request.method} {getattr(route, 'path', path)}"] += 1
    em.stats.by_status[response.status_code] += 1
    response.headers.update(decision.headers)
    return response


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, err.HubSpotApiError)
    return JSONResponse(exc.body, exc.status)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    category = "OBJECT_NOT_FOUND" if exc.status_code == 404 else "VALIDATION_ERROR"
    return JSONResponse(err.error_body(str(exc.detail), category), exc.status_code)


def create_app(
    state: HubSpotState | None = None,
    *,
    access_tokens: Sequence[str] = (DEFAULT_ACCESS_TOKEN,),
    client_secret: str = DEFAULT_CLIENT_SECRET,
    developer_api_key: str = DEFAULT_DEVELOPER_API_KEY,
    app_id: int = DEFAULT_APP_ID,
    oauth_client_id: str = DEFAULT_OAUTH_CLIENT_ID,
    refresh_tokens: Sequence[str] = (DEFAULT_REFRESH_TOKEN,),
    oauth_token_seconds: float = 1800.0,
    per_interval: int = 190,
    interval_seconds: float = 10.0,
    daily: int = 650_000,
    search_per_second: int = 5,
    faults: FaultInjector | None = None,
    webhook_retry_delays: Sequence[float] = (1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 60.0),
) -> FastAPI:
    """A HubSpot portal's CRM API, its app's Webhooks API, and the admin API at ``/_sandbox``.

    ``access_tokens`` are the private-app tokens accepted; the public app (``oauth_client_id``,
    ``client_secret``) swaps ``refresh_tokens`` for access tokens valid ``oauth_token_seconds``
    at ``/oauth/v1/token``; ``client_secret`` also signs webhooks. Limits default to a
    Professional private app (190 per 10 s, 650,000 a day).
    """
    state = state or HubSpotState()
    dispatcher = WebhookDispatcher(
        state, app_id, client_secret, retry_delays=tuple(webhook_retry_delays)
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        em = emulator_of(app)
        em.webhooks.start()
        try:
            yield
        finally:
            em.webhooks.stop()

    app = FastAPI(
        title="HubSpot CRM (syncwright sandbox)",
        lifespan=lifespan,
        docs_url="/_sandbox/docs",
        openapi_url="/_sandbox/openapi.json",
        redoc_url=None,
    )
    app.state.hubspot = HubSpotEmulator(
        state=state,
        access_tokens=frozenset(access_tokens),
        developer_api_key=developer_api_key,
        limiter=RateLimiter(
            per_interval,
            interval_seconds=interval_seconds,
            daily=daily,
            search_per_second=search_per_second,
        ),
        faults=faults or FaultInjector(),
        webhooks=dispatcher,
        oauth=OAuthApp(
            oauth_client_id, client_secret, frozenset(refresh_tokens), oauth_token_seconds
        ),
    )
    app.add_exception_handler(err.HubSpotApiError, _api_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.include_router(_oauth.router)
    app.include_router(_routes_admin.router)
    app.include_router(_routes_webhooks.router)
    app.include_router(_routes_crm.router)
    app.add_middleware(BaseHTTPMiddleware, dispatch=_gate)
    return app
