"""The emulator's ASGI app: API key auth, the account rate limit and faults in front of the
API routes, plus the sandbox admin API at ``/_sandbox`` (no auth, no limit, no faults):

- ``GET  /_sandbox/stats``            request, rate-limit, fault and webhook counters
- ``PUT  /_sandbox/faults``           fields of ``FaultPlan`` (partial) and/or
  ``{"rate_limit_storm": {"requests": 5, "retry_after": 2}}``
- ``POST /_sandbox/reset``            forget every record, rule and counter; clear faults
- ``POST /_sandbox/company_fields``   ``{"name", "label"?, "choices"?}``: what an admin creates
- ``POST /_sandbox/automations``      an automation rule with a *Trigger webhook* action
- ``GET  /_sandbox/deliveries``       every webhook delivery with its attempts
- ``POST /_sandbox/webhooks/drain``   wait (``?timeout=`` seconds) until deliveries are done
"""

from __future__ import annotations

import asyncio
import base64
import hmac
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass, field, replace
from typing import Any, cast

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.base import BaseHTTPMiddleware

from syncwright.sandbox._faults import FaultInjector, FaultPlan
from syncwright.sandbox.freshdesk._errors import UNAUTHENTICATED_BODY, FreshdeskApiError
from syncwright.sandbox.freshdesk._ratelimit import RateLimiter
from syncwright.sandbox.freshdesk._routes import router
from syncwright.sandbox.freshdesk._state import FreshdeskState
from syncwright.sandbox.freshdesk._webhooks import WebhookDispatcher, rule_spec

API_PREFIX = "/api/v2/"
DEFAULT_API_KEY = "sandbox-freshdesk-api-key"
DEFAULT_DOMAIN = "syncwright.freshdesk.com"
# Freshdesk documents the 429's headers, not its body (see _ratelimit): a short JSON message.
RATE_LIMITED_BODY = {"message": "API rate limit exceeded"}


@dataclass
class FreshdeskEmulator:
    """The parts of one emulator; ``app.state.freshdesk`` holds it (see :func:`emulator_of`)."""

    state: FreshdeskState
    domain: str
    api_key: str
    limiter: RateLimiter
    faults: FaultInjector
    dispatcher: WebhookDispatcher
    stats: Counter[str] = field(default_factory=Counter)

    def wait_for_deliveries(self, timeout: float = 10.0) -> bool:
        return self.dispatcher.wait_idle(timeout)


def emulator_of(app: FastAPI) -> FreshdeskEmulator:
    return cast(FreshdeskEmulator, app.state.freshdesk)


def _emulator(request: Request) -> FreshdeskEmulator:
    return emulator_of(cast(FastAPI, request.app))


def api_key_of(header: str | None) -> str | None:
    """Freshdesk's API key auth: HTTP basic with the key as username, any password ("X")."""
    if not header or not header.lower().startswith("basic "):
        return None
    try:
        pair = base64.b64decode(header[6:].strip(), validate=True).decode()
    except ValueError:
        return None
    return pair.split(":", 1)[0]


async def _gate(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
    if not request.url.path.startswith(API_PREFIX):
        return await call_next(request)
    em = _emulator(request)
    em.stats["requests"] += 1
    em.stats[f"method_{request.method}"] += 1
    # Failed calls count against the limit too, so the limit is taken before auth.
    decision = em.limiter.take()
    if not decision.allowed:
        em.stats["status_429"] += 1
        return JSONResponse(
            RATE_LIMITED_BODY,
            429,
            headers=decision.headers(),
        )
    key = api_key_of(request.headers.get("authorization"))
    if key is None or not hmac.compare_digest(key.encode(), em.api_key.encode()):
        em.stats["status_401"] += 1
        return JSONResponse(UNAUTHENTICATED_BODY, 401, headers=decision.headers())
    await em.faults.delay()
    fault = em.faults.draw(request.method)
    if fault == "error_5xx":
        response: Response = JSONResponse({"message": "Sandbox fault: injected 503"}, 503)
    elif fault == "timeout":
        await em.faults.stall()
        response = JSONResponse({"message": "Sandbox fault: timeout"}, 504)
    else:
        response = await call_next(request)
        if fault == "lost_response":
            await em.faults.stall()  # applied; the answer comes too late to be seen
    em.stats[f"status_{response.status_code}"] += 1
    response.headers.update(decision.headers())
    return response


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, FreshdeskApiError)
    if exc.body is None:
        return Response(status_code=exc.status)
    return JSONResponse(exc.body, exc.status)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    return JSONResponse({"code": "invalid_url", "message": str(exc.detail)}, exc.status_code)


def _admin(app: FastAPI) -> None:
    @app.get("/_sandbox/stats")
    async def stats(request: Request) -> dict[str, Any]:
        em = _emulator(request)
        state = em.state
        return {
            **em.stats,
            "rate_limited": em.limiter.rejected,
            "faults_injected": dict(em.faults.injected),
            "records": {
                "companies": len(state.companies),
                "contacts": len(state.contacts),
                "tickets": len(state.tickets),
                "sla_policies": len(state.sla_policies),
            },
            "webhook_deliveries": len(em.dispatcher.deliveries),
        }

    @app.put("/_sandbox/faults")
    async def faults(request: Request) -> dict[str, Any]:
        em = _emulator(request)
        changes = dict(await request.json())
        storm = changes.pop("rate_limit_storm", None)
        if "only_methods" in changes:
            changes["only_methods"] = frozenset(m.upper() for m in changes["only_methods"])
        em.faults.configure(replace(em.faults.plan, **changes))
        if storm:
            em.limiter.storm(int(storm["requests"]), int(storm.get("retry_after", 1)))
        plan = asdict(em.faults.plan)
        plan["only_methods"] = sorted(plan["only_methods"])
        return plan

    @app.post("/_sandbox/reset")
    async def reset(request: Request) -> dict[str, bool]:
        em = _emulator(request)
        await asyncio.to_thread(em.dispatcher.reset)
        em.state.reset()
        em.faults.configure(FaultPlan())
        em.faults.injected = {kind: 0 for kind in em.faults.injected}
        em.limiter.reset()
        em.stats.clear()
        return {"reset": True}

    @app.post("/_sandbox/company_fields", status_code=201)
    async def company_field(request: Request) -> dict[str, Any]:
        body = await request.json()
        return _emulator(request).state.add_company_field(
            body["name"], label=body.get("label"), choices=body.get("choices")
        )

    @app.post("/_sandbox/automations", status_code=201)
    async def automation(request: Request) -> Response:
        try:
            rule = _emulator(request).dispatcher.add_rule(**rule_spec(await request.json()))
        except (ValueError, TypeError) as exc:
            return JSONResponse({"message": str(exc)}, 400)
        return JSONResponse(rule.public(), 201)

    @app.get("/_sandbox/deliveries")
    async def deliveries(request: Request) -> list[dict[str, Any]]:
        return [asdict(d) for d in _emulator(request).dispatcher.deliveries]

    @app.post("/_sandbox/webhooks/drain")
    async def drain(request: Request, timeout: float = 10.0) -> dict[str, bool]:
        done = await asyncio.to_thread(_emulator(request).dispatcher.wait_idle, timeout)
        return {"idle": done}


def create_app(
    state: FreshdeskState | None = None,
    *,
    api_key: str = DEFAULT_API_KEY,
    domain: str = DEFAULT_DOMAIN,
    requests_per_minute: int = 700,
    rate_window_seconds: float = 60.0,
    faults: FaultInjector | None = None,
    webhook_timeout_seconds: float = 10.0,
    webhook_retry_delays: Sequence[float] = (1.0, 2.0, 4.0),
) -> FastAPI:
    """A Freshdesk account at ``/api/v2`` plus the sandbox admin API at ``/_sandbox``.

    ``requests_per_minute`` is the account limit (700: the Enterprise plan); a test shortens
    the minute with ``rate_window_seconds``. ``webhook_retry_delays``: pauses between retries of
    a failed webhook delivery (Freshdesk does not document its schedule).
    """
    state = state or FreshdeskState()
    dispatcher = WebhookDispatcher(
        state,
        domain=domain,
        timeout_seconds=webhook_timeout_seconds,
        retry_delays=webhook_retry_delays,
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        dispatcher.start()
        try:
            yield
        finally:
            dispatcher.stop()

    app = FastAPI(
        title="Freshdesk (syncwright sandbox)",
        lifespan=lifespan,
        docs_url="/_sandbox/docs",
        openapi_url="/_sandbox/openapi.json",
        redoc_url=None,
    )
    app.state.freshdesk = FreshdeskEmulator(
        state=state,
        domain=domain,
        api_key=api_key,
        limiter=RateLimiter(requests_per_minute, window_seconds=rate_window_seconds),
        faults=faults or FaultInjector(),
        dispatcher=dispatcher,
    )
    app.add_exception_handler(FreshdeskApiError, _api_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    _admin(app)
    app.include_router(router)
    app.add_middleware(BaseHTTPMiddleware, dispatch=_gate)
    return app
