"""The ASGI app: Chargebee API v2 under ``/api/v2`` plus ``/_sandbox`` switches.

Every ``/api/v2`` request passes, in order: HTTP basic authentication with the API key as user
name (401 ``api_authentication_failed``), the site's rate limit (429
``api_request_limit_exceeded`` with ``Retry-After``), form decoding, idempotency on POST
(``chargebee-idempotency-key``: the same key and request replay the saved answer with
``chargebee-idempotency-replayed: true``; another request under that key is 422
``unable_to_process_request``), then the shared :class:`~syncwright.sandbox.FaultPlan`.
Docs: https://apidocs.chargebee.com/docs/api/auth, .../docs/api/error_handling,
.../docs/api/idempotency, https://www.chargebee.com/docs/2.0/api-limits.html (limits).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import math
import threading
import time
from collections import deque
from urllib.parse import parse_qsl

from fastapi import FastAPI, Request, Response

from syncwright.sandbox._faults import FaultInjector

from . import _forms as forms
from ._admin import router as admin_router
from ._objects import JSON, ChargebeeAPIError, api_error
from ._routes import ROUTES, Route
from ._state import ChargebeeState

IDEMPOTENCY_HEADER = "chargebee-idempotency-key"
REPLAYED_HEADER = "chargebee-idempotency-replayed"


class RateLimit:
    """At most ``limit`` requests in any ``window_seconds`` (Chargebee counts per minute)."""

    def __init__(self, limit: int, window_seconds: float = 60.0) -> None:
        self.limit = limit
        self.window = window_seconds
        self._starts: deque[float] = deque()
        self._lock = threading.Lock()

    def wait_seconds(self) -> float | None:
        """None when the request may go, else seconds until a slot frees."""
        with self._lock:
            now = time.monotonic()
            while self._starts and now - self._starts[0] >= self.window:
                self._starts.popleft()
            if len(self._starts) >= self.limit:
                return self.window - (now - self._starts[0])
            self._starts.append(now)
            return None


class Gateway:
    def __init__(self, state: ChargebeeState, api_key: str, faults: FaultInjector) -> None:
        self.state = state
        self.api_key = api_key
        self.faults = faults
        self.rate: RateLimit | None = None

    def set_rate_limit(self, limit: int | None, window_seconds: float = 60.0) -> None:
        self.rate = RateLimit(limit, window_seconds) if limit else None


def _json(body: JSON, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(body), status, headers=headers, media_type="application/json")


def _presented_key(request: Request) -> str | None:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic" or not value.strip():
        return None
    try:
        return base64.b64decode(value.strip(), validate=True).decode().partition(":")[0]
    except (binascii.Error, UnicodeDecodeError):
        return None


def _fingerprint(method: str, path: str, pairs: list[tuple[str, str]]) -> str:
    digest = hashlib.sha256(f"{method} {path}".encode())
    for key, value in sorted(pairs):
        digest.update(f"\x00{key}={value}".encode())
    return digest.hexdigest()


def create_app(
    state: ChargebeeState | None = None,
    *,
    api_key: str = "test_sandbox_chargebee_key",
    faults: FaultInjector | None = None,
    rate_limit_per_minute: int | None = None,
) -> FastAPI:
    """The emulator for one Chargebee site; ``api_key`` is the only key it accepts."""
    gateway = Gateway(state or ChargebeeState(), api_key, faults or FaultInjector())
    gateway.set_rate_limit(rate_limit_per_minute)
    app = FastAPI(title="Chargebee API v2 (syncwright sandbox)")
    app.state.gateway = gateway
    app.include_router(admin_router)

    async def handle(request: Request, route: Route, match: dict[str, str]) -> Response:
        key = _presented_key(request)
        if key != gateway.api_key:
            # https://apidocs.chargebee.com/docs/api/auth -- no "type" on this error.
            return _json(
                api_error(
                    401,
                    "api_authentication_failed",
                    "Sorry, authentication failed. Invalid api key",
                    error_type=None,
                ),
                401,
            )
        if gateway.rate is not None:
            wait = gateway.rate.wait_seconds()
            if wait is not None:
                body = api_error(
                    429,
                    "api_request_limit_exceeded",
                    "Sorry, access has been blocked temporarily due to request count "
                    "exceeding acceptable limits. Please try after some time.",
                    error_type="operation_failed",
                )
                return _json(body, 429, {"Retry-After": str(max(1, math.ceil(wait)))})
        pairs = parse_qsl(request.url.query, keep_blank_values=True)
        if request.method == "POST":
            pairs += parse_qsl((await request.body()).decode(), keep_blank_values=True)
        idem = request.headers.get(IDEMPOTENCY_HEADER) if request.method == "POST" else None
        fingerprint = _fingerprint(request.method, request.url.path, pairs)
        if idem:
            with gateway.state.lock:
                saved = gateway.state.idempotency.get(idem)
            if saved is not None:
                if saved[0] != fingerprint:
                    return _json(
                        api_error(
                            422,
                            "unable_to_process_request",
                            "The idempotency key was used with a different request payload",
                        ),
                        422,
                    )
                return _json(saved[2], saved[1], {REPLAYED_HEADER: "true"})
        await gateway.faults.delay()
        fault = gateway.faults.draw(request.method)
        if fault == "error_5xx":
            return _json(
                api_error(
                    503,
                    "internal_temporary_error",
                    "Sorry, a temporary error occurred. Please retry.",
                    error_type="operation_failed",
                ),
                503,
            )
        if fault == "timeout":
            await gateway.faults.stall()
        try:
            with gateway.state.lock:
                params = forms.decode(pairs)
                body = route.handler(gateway.state, match, params)
                if request.method == "POST":
                    gateway.state.writes += 1
                    if idem:
                        gateway.state.idempotency[idem] = (fingerprint, 200, body)
        except ChargebeeAPIError as exc:
            return _json(exc.body, exc.status, exc.headers)
        if fault == "lost_response":
            await gateway.faults.stall()
        return _json(body)

    @app.api_route("/api/v2/{path:path}", methods=["GET", "POST"])
    async def dispatch(request: Request, path: str) -> Response:
        for route in ROUTES:
            match = route.match(request.method, path)
            if match is not None:
                return await handle(request, route, match)
        if any(route.match(m, path) is not None for route in ROUTES for m in ("GET", "POST")):
            return _json(
                api_error(
                    405,
                    "http_method_not_supported",
                    f"{request.method} is not supported for this resource",
                ),
                405,
            )
        return _json(api_error(404, "resource_not_found", f"No such API path /api/v2/{path}"), 404)

    return app
