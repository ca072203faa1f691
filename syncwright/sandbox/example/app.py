"""The example ERP: customers upserted by external id."""

from __future__ import annotations

import hashlib
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse

from syncwright.sandbox._faults import FaultInjector, FaultPlan


@dataclass
class ExampleErpState:
    token: str = "erp-sandbox-token"  # noqa: S105 - the sandbox's published test token
    subsidiaries: set[str] = field(default_factory=lambda: {"US", "UK"})
    customers: dict[str, dict[str, Any]] = field(default_factory=dict)
    idempotency: dict[str, tuple[str, int, dict[str, Any]]] = field(default_factory=dict)
    applied_by_key: dict[str, int] = field(default_factory=dict)
    replays: int = 0
    deleted: list[str] = field(default_factory=list)
    write_log: list[dict[str, Any]] = field(default_factory=list)
    # Change events, oldest first: one per applied write, listed by GET /api/events.
    events: list[dict[str, Any]] = field(default_factory=list)
    requests_per_second: float | None = None
    in_flight: int = 0
    max_in_flight: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    _window: list[float] = field(default_factory=list)

    def allow_request(self) -> float | None:
        """None when allowed, else seconds until a slot frees (for Retry-After)."""
        if self.requests_per_second is None:
            return None
        now = time.monotonic()
        with self.lock:
            self._window = [t for t in self._window if now - t < 1.0]
            if len(self._window) >= self.requests_per_second:
                return max(0.0, 1.0 - (now - self._window[0]))
            self._window.append(now)
        return None


def _error(status: int, code: str, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse(
        status_code=status, content={"error": {"code": code, "message": message, **extra}}
    )


def _digest(body: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def create_app(
    state: ExampleErpState | None = None, *, faults: FaultInjector | None = None
) -> FastAPI:
    state = state or ExampleErpState()
    faults = faults or FaultInjector()
    app = FastAPI(title="Example ERP (syncwright sandbox)")
    app.state.erp = state
    app.state.faults = faults

    def authorised(request: Request) -> bool:
        return request.headers.get("authorization") == f"Bearer {state.token}"

    @app.put("/api/customers/{external_id}")
    async def upsert_customer(external_id: str, request: Request) -> Response:
        if not authorised(request):
            return _error(401, "UNAUTHORIZED", "bearer token missing or wrong")
        wait = state.allow_request()
        if wait is not None:
            response = _error(429, "RATE_LIMITED", "too many requests")
            response.headers["Retry-After"] = f"{max(wait, 0.05):.2f}"
            return response
        key = request.headers.get("idempotency-key")
        if not key:
            return _error(400, "IDEMPOTENCY_KEY_REQUIRED", "send an Idempotency-Key header")
        body = await request.json()
        with state.lock:
            state.in_flight += 1
            state.max_in_flight = max(state.max_in_flight, state.in_flight)
        try:
            await faults.delay()
            fault = faults.draw("PUT")
            if fault == "error_5xx":
                return _error(503, "UNAVAILABLE", "injected outage")
            if fault == "timeout":
                await faults.stall()
            return await _apply(external_id, key, body, fault == "lost_response")
        finally:
            with state.lock:
                state.in_flight -= 1

    async def _apply(external_id: str, key: str, body: dict[str, Any], lose: bool) -> Response:
        digest = _digest({"external_id": external_id, **body})
        with state.lock:
            replay = state.idempotency.get(key)
            if replay is not None:
                if replay[0] != digest:
                    return _error(
                        409, "IDEMPOTENCY_CONFLICT", "key reused with a different request body"
                    )
                state.replays += 1
                return JSONResponse(
                    status_code=replay[1],
                    content=replay[2],
                    headers={"Idempotent-Replayed": "true"},
                )
            problem = _validate(body)
            if problem is not None:
                return problem
            existing = state.customers.get(external_id)
            record = {
                "id": existing["id"] if existing else f"C{len(state.customers) + 1:06d}",
                "external_id": external_id,
                "name": body["name"],
                "email": body.get("email"),
                "currency": body["currency"],
                "subsidiary": body["subsidiary"],
                "version": (existing["version"] + 1) if existing else 1,
            }
            state.customers[external_id] = record
            status = 200 if existing else 201
            state.idempotency[key] = (digest, status, record)
            state.applied_by_key[key] = state.applied_by_key.get(key, 0) + 1
            state.write_log.append({"key": key, "external_id": external_id, **body})
            state.events.append(
                {
                    "id": f"evt_{len(state.events) + 1:08d}",  # sortable: the list's cursor
                    "type": "customer.updated",
                    "created": int(time.time()),
                    "data": {"customer": {**record, "id": external_id}},
                }
            )
        if lose:
            await faults.stall()
        return JSONResponse(status_code=status, content=record)

    def _validate(body: dict[str, Any]) -> JSONResponse | None:
        if not body.get("name"):
            return _error(422, "MISSING_FIELD", "name is required", field="name")
        if not body.get("currency"):
            return _error(422, "MISSING_FIELD", "currency is required", field="currency")
        if body.get("subsidiary") not in state.subsidiaries:
            return _error(
                422,
                "UNKNOWN_SUBSIDIARY",
                f"subsidiary {body.get('subsidiary')!r} does not exist",
                field="subsidiary",
            )
        return None

    @app.get("/api/customers/{external_id}")
    async def get_customer(external_id: str, request: Request) -> Response:
        if not authorised(request):
            return _error(401, "UNAUTHORIZED", "bearer token missing or wrong")
        with state.lock:
            record = state.customers.get(external_id)
        if record is None:
            return _error(404, "NOT_FOUND", f"no customer with external id {external_id}")
        return JSONResponse(status_code=200, content=record)

    @app.get("/api/events")
    async def list_events(request: Request, after: str = "", limit: int = 50) -> Response:
        """Change events after the event id ``after``, oldest first (cursor pagination)."""
        if not authorised(request):
            return _error(401, "UNAUTHORIZED", "bearer token missing or wrong")
        if not 1 <= limit <= 100:
            return _error(400, "INVALID_LIMIT", "limit must be between 1 and 100", field="limit")
        with state.lock:
            newer = [e for e in state.events if e["id"] > after]
        return JSONResponse({"data": newer[:limit], "has_more": len(newer) > limit})

    @app.delete("/api/customers/{external_id}")
    async def delete_customer(external_id: str, request: Request) -> Response:
        if not authorised(request):
            return _error(401, "UNAUTHORIZED", "bearer token missing or wrong")
        with state.lock:
            if state.customers.pop(external_id, None) is None:
                return _error(404, "NOT_FOUND", f"no customer with external id {external_id}")
            state.deleted.append(external_id)
        return Response(status_code=204)

    # -- sandbox controls (tests, demo) ---------------------------------------------------
    @app.get("/_sandbox/stats")
    async def stats() -> dict[str, Any]:
        with state.lock:
            return {
                "customers": len(state.customers),
                "applied_by_key": dict(state.applied_by_key),
                "write_log": list(state.write_log),
                "max_in_flight": state.max_in_flight,
                "replays": state.replays,
                "deleted": list(state.deleted),
                "faults_injected": dict(faults.injected),
            }

    @app.post("/_sandbox/subsidiaries/{name}")
    async def add_subsidiary(name: str) -> dict[str, Any]:
        with state.lock:
            state.subsidiaries.add(name)
            return {"subsidiaries": sorted(state.subsidiaries)}

    @app.post("/_sandbox/faults")
    async def set_faults(request: Request) -> dict[str, Any]:
        body = await request.json()
        faults.configure(FaultPlan(**body))
        return {"ok": True}

    return app
