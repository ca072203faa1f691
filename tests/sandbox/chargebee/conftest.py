"""Fixtures for the Chargebee emulator tests: one emulator per module on a loopback port,
Chargebee's SDK pointed at it by its API endpoint only, and a webhook receiver."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import chargebee
import pytest
from fastapi import FastAPI, Request, Response

from syncwright.sandbox import FaultInjector, ServerThread
from syncwright.sandbox.chargebee import ChargebeeState, create_app
from tests.connectors.chargebee._support import API_KEY, make_catalog, sdk_for


@dataclass
class Emulator:
    state: ChargebeeState
    faults: FaultInjector
    server: ServerThread
    sdk: chargebee.Chargebee

    @property
    def url(self) -> str:
        return self.server.url


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    state, faults = ChargebeeState(), FaultInjector()
    server = ServerThread(create_app(state, api_key=API_KEY, faults=faults)).start()
    sdk = sdk_for(server.url)
    make_catalog(sdk)
    yield Emulator(state, faults, server, sdk)
    server.stop()
    state.close()


@dataclass
class Receiver:
    """A webhook endpoint that records each delivery (body and Authorization header) and
    answers ``fail_next`` deliveries with 500."""

    url: str = ""
    received: list[tuple[dict[str, Any], str | None]] = field(default_factory=list)
    fail_next: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def events(self) -> list[dict[str, Any]]:
        with self.lock:
            return [body for body, _ in self.received]


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    found = Receiver()
    app = FastAPI()

    @app.post("/hooks")
    async def hook(request: Request) -> Response:
        with found.lock:
            if found.fail_next > 0:
                found.fail_next -= 1
                return Response(status_code=500)
            found.received.append(
                (json.loads(await request.body()), request.headers.get("authorization"))
            )
        return Response(status_code=200)

    server = ServerThread(app).start()
    found.url = f"{server.url}/hooks"
    yield found
    server.stop()


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
