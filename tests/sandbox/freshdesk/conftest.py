"""One Freshdesk emulator per test session (reset before each test), python-freshdesk pointed at
it, and a webhook receiver for automation rules."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request, Response
from freshdesk.v2.api import API

from syncwright.sandbox import ServerThread
from syncwright.sandbox.freshdesk import FreshdeskEmulator, create_app, emulator_of

API_KEY = "fd-sdk-test-api-key"
DOMAIN = "syncwright.freshdesk.com"


@dataclass
class FreshdeskEnv:
    url: str
    emulator: FreshdeskEmulator

    def sdk(self, *, api_key: str = API_KEY) -> API:
        """python-freshdesk refuses domains other than ``*.freshdesk.com`` and builds its URLs
        from ``_api_prefix``: the real constructor runs, then only the prefix is pointed here
        (see ../shared/DESIGN.md, section 5)."""
        api = API(DOMAIN, api_key)
        api._api_prefix = f"{self.url}/api/v2/"
        api._session.trust_env = False
        return api

    def http(self, *, api_key: str = API_KEY) -> httpx.Client:
        return httpx.Client(
            base_url=f"{self.url}/api/v2", auth=(api_key, "X"), timeout=10.0, trust_env=False
        )

    def admin(self) -> httpx.Client:
        return httpx.Client(base_url=f"{self.url}/_sandbox", timeout=10.0, trust_env=False)

    def seed_fields(self) -> None:
        with self.admin() as admin:
            for body in (
                {"name": "syncwright_id", "label": "Syncwright ID"},
                {"name": "entitlement_tier", "choices": ["standard", "premium", "none"]},
            ):
                admin.post("/company_fields", json=body).raise_for_status()


def start_emulator(**kwargs: Any) -> tuple[ServerThread, FreshdeskEnv]:
    kwargs.setdefault("requests_per_minute", 100_000)
    kwargs.setdefault("webhook_retry_delays", (0.05, 0.1))
    kwargs.setdefault("webhook_timeout_seconds", 2.0)
    app = create_app(api_key=API_KEY, domain=DOMAIN, **kwargs)
    server = ServerThread(app).start()
    return server, FreshdeskEnv(server.url, emulator_of(app))


@pytest.fixture(scope="session")
def _freshdesk_server() -> Iterator[FreshdeskEnv]:
    server, env = start_emulator()
    try:
        yield env
    finally:
        server.stop()


@pytest.fixture
def freshdesk(_freshdesk_server: FreshdeskEnv) -> FreshdeskEnv:
    with _freshdesk_server.admin() as admin:
        admin.post("/reset").raise_for_status()
    return _freshdesk_server


@pytest.fixture
def extra_freshdesk() -> Iterator[Callable[..., FreshdeskEnv]]:
    servers: list[ServerThread] = []

    def start(**kwargs: Any) -> FreshdeskEnv:
        server, env = start_emulator(**kwargs)
        servers.append(server)
        return env

    yield start
    for server in servers:
        server.stop()


@dataclass
class Receiver:
    """A webhook endpoint on 127.0.0.1 that records requests; ``fail_first`` answers 500."""

    url: str
    received: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    fail_first: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)


@pytest.fixture(scope="session")
def _receiver() -> Iterator[Receiver]:
    app = FastAPI()
    holder: list[Receiver] = []

    @app.post("/hook")
    async def hook(request: Request) -> Response:
        receiver = holder[0]
        body = await request.body()
        with receiver._lock:
            if receiver.fail_first > 0:
                receiver.fail_first -= 1
                return Response(status_code=500)
            receiver.received.append((dict(request.headers), body))
        return Response(status_code=200)

    server = ServerThread(app).start()
    holder.append(Receiver(f"{server.url}/hook"))
    try:
        yield holder[0]
    finally:
        server.stop()


@pytest.fixture
def receiver(_receiver: Receiver) -> Receiver:
    _receiver.received.clear()
    _receiver.fail_first = 0
    return _receiver
