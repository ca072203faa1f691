"""What one running emulator holds, and small request/response helpers the routers share."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, cast

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from syncwright.sandbox._faults import FaultInjector
from syncwright.sandbox._stats import RequestStats
from syncwright.sandbox.zendesk._auth import Credentials
from syncwright.sandbox.zendesk._errors import bad_request
from syncwright.sandbox.zendesk._ratelimit import RateLimiter
from syncwright.sandbox.zendesk._state import ZendeskState
from syncwright.sandbox.zendesk._webhooks import WebhookDispatcher


@dataclass
class ZendeskEmulator:
    """The parts of one emulator; ``app.state.zendesk`` holds it (see :func:`emulator_of`)."""

    state: ZendeskState
    subdomain: str
    credentials: Credentials
    limiter: RateLimiter
    faults: FaultInjector
    dispatcher: WebhookDispatcher
    stats: RequestStats = field(default_factory=RequestStats)

    def wait_for_deliveries(self, timeout: float = 10.0) -> bool:
        """Block until every queued webhook delivery (and its retries) is done."""
        return self.state.deliveries.wait_idle(timeout)


def emulator_of(app: FastAPI) -> ZendeskEmulator:
    return cast(ZendeskEmulator, app.state.zendesk)


def emulator(request: Request) -> ZendeskEmulator:
    return emulator_of(cast(FastAPI, request.app))


def base_url(request: Request) -> str:
    """Where this server is reached: every ``url`` and pagination link points back here."""
    return str(request.base_url).rstrip("/")


def params(request: Request) -> dict[str, str]:
    return dict(request.query_params)


def respond(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(body, status_code=status, headers=headers)


async def body_object(request: Request, root: str) -> dict[str, Any]:
    """The object under ``root`` in a JSON body, e.g. ``{"organization": {...}}``."""
    raw = await request.body()
    try:
        data = json.loads(raw or b"{}")
    except ValueError as exc:
        raise bad_request("The request body is not valid JSON") from exc
    obj = data.get(root) if isinstance(data, dict) else None
    if not isinstance(obj, dict):
        raise bad_request(f"The request body needs a {root!r} object")
    return obj


def id_list(raw: str | None) -> list[str]:
    return [part.strip() for part in (raw or "").split(",") if part.strip()]
