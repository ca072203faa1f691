"""What one running emulator holds (``app.state.hubspot``) and helpers the routers share."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

from fastapi import FastAPI, Request

from syncwright.sandbox._faults import FaultInjector
from syncwright.sandbox._stats import RequestStats
from syncwright.sandbox.hubspot import _errors as err
from syncwright.sandbox.hubspot._ratelimit import RateLimiter

if TYPE_CHECKING:
    from syncwright.sandbox.hubspot._oauth import OAuthApp
from syncwright.sandbox.hubspot._schema import object_path
from syncwright.sandbox.hubspot._state import HubSpotState
from syncwright.sandbox.hubspot._webhooks import WebhookDispatcher


@dataclass
class HubSpotEmulator:
    state: HubSpotState
    access_tokens: frozenset[str]
    developer_api_key: str
    limiter: RateLimiter
    faults: FaultInjector
    webhooks: WebhookDispatcher
    oauth: OAuthApp
    stats: RequestStats = field(default_factory=RequestStats)

    def reset(self) -> None:
        self.state.reset()
        self.limiter.reset()
        self.webhooks.reset()
        self.stats = RequestStats()


def emulator_of(app: FastAPI) -> HubSpotEmulator:
    return cast(HubSpotEmulator, app.state.hubspot)


def emulator(request: Request) -> HubSpotEmulator:
    return emulator_of(cast(FastAPI, request.app))


def path_type(name: str) -> str:
    found = object_path(name)
    if found is None:
        raise err.HubSpotApiError(
            400,
            err.error_body(f"Unable to infer object type from: {name}", "VALIDATION_ERROR"),
        )
    return found


async def json_body(request: Request) -> Any:
    raw = await request.body()
    try:
        return json.loads(raw or b"null")
    except ValueError as exc:
        raise err.validation(f"Invalid input JSON on line 1: {exc}") from exc
