"""The ASGI app: a gateway in front of the routes doing what Stripe's edge does.

In order, for every ``/v1/...`` request: authentication (``Authorization: Bearer sk_...`` or HTTP
basic with the key as user name), the rate limiter (429 ``rate_limit_error``), form decoding,
idempotency (replay the saved result for the same key and parameters; 400
``idempotency_error`` for different ones; 409 while the first is still running), then the
generic :class:`~syncwright.sandbox._faults.FaultPlan` (latency, 5xx before applying, stall,
apply-then-lose-the-response).

Docs: https://docs.stripe.com/api/authentication, https://docs.stripe.com/rate-limits,
https://docs.stripe.com/api/idempotent_requests, https://docs.stripe.com/api/errors.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import parse_qsl

from fastapi import FastAPI, Request, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from syncwright.sandbox._faults import FaultInjector

from . import _objects as ob
from ._admin import router as admin_router
from ._errors import StripeAPIError
from ._forms import Params, decode_form
from ._refunds import router as refunds_router
from ._routes_core import router as core_router
from ._routes_events import router as events_router
from ._routes_invoices import router as invoices_router
from ._routes_payments import router as payments_router
from ._routes_subscriptions import router as subscriptions_router
from ._routing import Call, json_response
from ._state import IdempotencyRecord, RequestContext, StripeState

log = logging.getLogger("syncwright.sandbox.stripe")

IDEMPOTENCY_TTL_SECONDS = 24 * 3600
MAX_IDEMPOTENCY_KEY_LENGTH = 255


class RateLimiter:
    """A token bucket: ``per_second`` tokens a second, bursts of up to one second's worth."""

    def __init__(self, per_second: float) -> None:
        self.per_second = per_second
        self.capacity = max(per_second, 1.0)
        self._tokens = self.capacity
        self._last = time.monotonic()
        self._lock = threading.Lock()

    def take(self) -> bool:
        with self._lock:
            now = time.monotonic()
            self._tokens = min(self.capacity, self._tokens + (now - self._last) * self.per_second)
            self._last = now
            if self._tokens >= 1.0:
                self._tokens -= 1.0
                return True
            return False


class Gateway:
    """The switches ``create_app`` was given, mutable at run time through ``/_sandbox``."""

    def __init__(
        self,
        state: StripeState,
        api_key: str,
        rate_limit_per_second: float | None,
        faults: FaultInjector,
    ) -> None:
        self.state = state
        self.api_key = api_key
        self.faults = faults
        self.limiter: RateLimiter | None = None
        self.set_rate_limit(rate_limit_per_second)

    def set_rate_limit(self, per_second: float | None) -> None:
        self.limiter = RateLimiter(per_second) if per_second else None


def _redact(key: str) -> str:
    head = key[: key.find("_", key.find("_") + 1) + 1] if key.count("_") >= 2 else key[:3]
    return f"{head}{'*' * max(len(key) - len(head) - 4, 4)}{key[-4:]}"


def _presented_key(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    if scheme.lower() == "basic" and value.strip():
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return ""
        return decoded.partition(":")[0]
    return None


def _error(err: StripeAPIError, request_id: str) -> Response:
    return json_response(err.body(request_id), err.status, headers=err.headers)


def _fingerprint(method: str, path: str, pairs: list[tuple[str, str]]) -> str:
    digest = hashlib.sha256(f"{method} {path}".encode())
    for key, value in sorted(pairs):
        digest.update(b"\x00" + key.encode() + b"=" + value.encode())
    return digest.hexdigest()


def create_app(
    state: StripeState | None = None,
    *,
    api_key: str = "sk_test_sandbox",
    rate_limit_per_second: float | None = None,
    faults: FaultInjector | None = None,
) -> FastAPI:
    """A Stripe Billing emulator as an ASGI app (serve it with ``ServerThread(app).start()``)."""
    st = state or StripeState()
    gateway = Gateway(st, api_key, rate_limit_per_second, faults or FaultInjector())

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        # Stop the delivery thread with the server; it restarts on the next event.
        st.webhooks.stop()

    app = FastAPI(
        title="Syncwright Stripe sandbox",
        description="An emulator of the Stripe Billing API for offline integration tests.",
        lifespan=lifespan,
    )
    app.state.stripe = st
    app.state.gateway = gateway

    @app.exception_handler(StripeAPIError)
    async def stripe_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StripeAPIError)
        request.state.idempotent_save = exc.saved
        call: Call | None = getattr(request.state, "stripe_call", None)
        return _error(exc, call.request_id if call else "")

    @app.exception_handler(StarletteHTTPException)
    async def not_found(request: Request, exc: Exception) -> Response:
        request.state.idempotent_save = False
        status = exc.status_code if isinstance(exc, StarletteHTTPException) else 500
        if status in (404, 405):
            message = (
                f"Unrecognized request URL ({request.method}: {request.url.path}). Please see "
                "https://docs.stripe.com or we can help at https://support.stripe.com/."
            )
            return json_response(
                {"error": {"message": message, "type": "invalid_request_error"}}, 404
            )
        return json_response(
            {"error": {"message": str(getattr(exc, "detail", "")), "type": "api_error"}}, status
        )

    @app.middleware("http")
    async def stripe_gateway(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        if not request.url.path.startswith("/v1/"):
            return await call_next(request)
        return await _handle(gateway, request, call_next)

    app.include_router(core_router)
    app.include_router(subscriptions_router)
    app.include_router(invoices_router)
    app.include_router(payments_router)
    app.include_router(refunds_router)
    app.include_router(events_router)
    app.include_router(admin_router)
    return app


async def _handle(
    gateway: Gateway, request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    st = gateway.state
    request_id = ob.new_id("req")
    base_headers = {"Request-Id": request_id, "Stripe-Version": st.api_version}
    response = await _dispatch(gateway, request, call_next, request_id)
    for key, value in base_headers.items():
        response.headers.setdefault(key, value)
    return response


async def _dispatch(
    gateway: Gateway,
    request: Request,
    call_next: Callable[[Request], Awaitable[Response]],
    request_id: str,
) -> Response:
    st, faults = gateway.state, gateway.faults
    key = _presented_key(request)
    if key is None:
        return _error(
            StripeAPIError(
                401,
                "You did not provide an API key. You need to provide your API key in the "
                "Authorization header, using Bearer auth (e.g. 'Authorization: Bearer "
                "YOUR_SECRET_KEY'). See https://docs.stripe.com/api#authentication for details, "
                "or we can help at https://support.stripe.com/.",
            ),
            request_id,
        )
    if key != gateway.api_key:
        return _error(StripeAPIError(401, f"Invalid API Key provided: {_redact(key)}"), request_id)
    limiter = gateway.limiter
    if limiter is not None and not limiter.take():
        return _error(
            StripeAPIError(
                429,
                "Request rate limit exceeded. Learn more about rate limits here "
                "https://docs.stripe.com/rate-limits.",
                type="rate_limit_error",
                code="rate_limit",
                headers={"Stripe-Rate-Limited-Reason": "global-rate"},
            ),
            request_id,
        )
    method = request.method.upper()
    if method in ("GET", "DELETE"):
        raw = request.url.query
    else:
        raw = (await request.body()).decode("utf-8", "replace")
    pairs = parse_qsl(raw, keep_blank_values=True)
    try:
        data = decode_form(pairs)
    except StripeAPIError as err:
        return _error(err, request_id)
    idem_key = request.headers.get("idempotency-key") if method == "POST" else None
    ctx = RequestContext(request_id=request_id, idempotency_key=idem_key)
    request.state.stripe_call = Call(st, Params(data), ctx)

    scope_key: tuple[str, str] | None = None
    fingerprint = ""
    if idem_key is not None:
        if len(idem_key) > MAX_IDEMPOTENCY_KEY_LENGTH:
            return _error(
                StripeAPIError(
                    400,
                    f"Idempotency keys can be at most {MAX_IDEMPOTENCY_KEY_LENGTH} characters.",
                    type="idempotency_error",
                ),
                request_id,
            )
        fingerprint = _fingerprint(method, request.url.path, pairs)
        scope_key = (key, idem_key)
        with st.lock:
            record = st.idempotency.get(scope_key)
            if record is not None and time.time() - record.created > IDEMPOTENCY_TTL_SECONDS:
                record = None
            if record is not None:
                # A replay never reaches the endpoint, so no fault is drawn for it.
                return _replay(record, fingerprint, idem_key, request_id)

    fault = faults.draw(method)
    if fault in ("error_5xx", "timeout"):
        # Refused before the endpoint ran: nothing applied, nothing saved for the key.
        await faults.delay()
        if fault == "timeout":
            await faults.stall()
        return _error(
            StripeAPIError(500, "An unknown error occurred", type="api_error"), request_id
        )
    if scope_key is not None:
        # No await since the check above: the reservation is atomic for this event loop.
        with st.lock:
            st.idempotency[scope_key] = IdempotencyRecord(fingerprint=fingerprint)
    await faults.delay()
    try:
        response = await call_next(request)
        body = b""
        async for chunk in response.body_iterator:  # type: ignore[attr-defined]
            body += chunk if isinstance(chunk, bytes) else chunk.encode("utf-8")
    except Exception:
        log.exception("stripe sandbox: unhandled error")
        _release(st, scope_key)
        return _error(
            StripeAPIError(500, "An unknown error occurred", type="api_error"), request_id
        )
    save = bool(getattr(request.state, "idempotent_save", True))
    headers = {k: v for k, v in response.headers.items() if k.lower() != "content-length"}
    if scope_key is not None:
        with st.lock:
            if save:
                record = st.idempotency[scope_key]
                record.in_flight = False
                record.status = response.status_code
                record.body = body
                record.request_id = request_id
            else:
                st.idempotency.pop(scope_key, None)
        headers["Idempotency-Key"] = idem_key or ""
    final = Response(body, status_code=response.status_code, headers=headers)
    if fault == "lost_response":
        # The write is committed (and its idempotent result saved); the client never hears.
        await faults.stall()
    return final


def _release(st: StripeState, scope_key: tuple[str, str] | None) -> None:
    if scope_key is not None:
        with st.lock:
            st.idempotency.pop(scope_key, None)


def _replay(
    record: IdempotencyRecord, fingerprint: str, idem_key: str, request_id: str
) -> Response:
    if record.fingerprint != fingerprint:
        return _error(
            StripeAPIError(
                400,
                "Keys for idempotent requests can only be used with the same parameters they "
                f"were first used with. Try using a key other than '{idem_key}' if you meant to "
                "execute a different request.",
                type="idempotency_error",
            ),
            request_id,
        )
    if record.in_flight:
        return _error(
            StripeAPIError(
                409,
                "There is currently another in-progress request using this Idempotent Key (that "
                "probably means you submitted twice, and the other request is still going "
                f"through): {idem_key}. Please try again later.",
                code="idempotency_key_in_use",
            ),
            request_id,
        )
    headers: dict[str, Any] = {
        "Idempotent-Replayed": "true",
        "Original-Request": record.request_id,
        "Idempotency-Key": idem_key,
    }
    return Response(
        record.body, status_code=record.status, media_type="application/json", headers=headers
    )
