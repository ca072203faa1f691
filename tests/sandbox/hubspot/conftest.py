"""One HubSpot emulator per test module (reset before each test), the official SDK
(``hubspot-api-client``) pointed at it with ``host=``, and a webhook receiver."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request, Response
from hubspot import HubSpot

from syncwright.sandbox import ServerThread
from syncwright.sandbox.hubspot import (
    DEFAULT_ACCESS_TOKEN,
    HubSpotEmulator,
    create_app,
    emulator_of,
)


@dataclass
class HubSpotEnv:
    url: str
    emulator: HubSpotEmulator

    def sdk(self, token: str = DEFAULT_ACCESS_TOKEN, **kwargs: Any) -> HubSpot:
        return HubSpot(access_token=token, host=self.url, **kwargs)

    def admin(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=10.0, trust_env=False)


@pytest.fixture(scope="module")
def _hubspot_server() -> Iterator[HubSpotEnv]:
    app = create_app(per_interval=100_000, webhook_retry_delays=(0.05, 0.1, 0.1))
    with ServerThread(app) as server:
        yield HubSpotEnv(server.url, emulator_of(app))


@pytest.fixture
def hubspot(_hubspot_server: HubSpotEnv) -> HubSpotEnv:
    with _hubspot_server.admin() as admin:
        admin.post("/_sandbox/reset").raise_for_status()
    _hubspot_server.emulator.webhooks.subscriptions.clear()
    _hubspot_server.emulator.webhooks.target_url = None
    return _hubspot_server


@pytest.fixture
def sdk(hubspot: HubSpotEnv) -> HubSpot:
    return hubspot.sdk()


@dataclass
class Received:
    body: bytes
    headers: dict[str, str]
    url: str


@dataclass
class Receiver:
    """Records every delivery; answers from ``script`` first, then 204."""

    url: str = ""
    received: list[Received] = field(default_factory=list)
    script: list[int] = field(default_factory=list)
    arrived: threading.Condition = field(default_factory=threading.Condition)

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        with self.arrived:
            self.arrived.wait_for(lambda: len(self.received) >= count, timeout)
            return list(self.received)


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    receiver = Receiver()
    app = FastAPI()

    @app.post("/hooks/hubspot")
    async def hook(request: Request) -> Response:
        body = await request.body()
        with receiver.arrived:
            receiver.received.append(Received(body, dict(request.headers), str(request.url)))
            receiver.arrived.notify_all()
            status = receiver.script.pop(0) if receiver.script else 204
        return Response(status_code=status)

    with ServerThread(app) as server:
        receiver.url = f"{server.url}/hooks/hubspot"
        yield receiver
