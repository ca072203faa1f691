"""Our NetSuite client against the NetSuite emulator (one server per session, reset per test)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from syncwright.connectors.netsuite.client import NetSuiteClient, TbaCredentials
from syncwright.sandbox import ServerThread
from syncwright.sandbox.netsuite import NetSuiteSandbox, create_app, sandbox_of

ACCOUNT = "TSTDRV1"


@dataclass
class Emulator:
    url: str
    credentials: TbaCredentials
    sandbox: NetSuiteSandbox

    def client(
        self, *, timeout: float = 5.0, credentials: TbaCredentials | None = None
    ) -> NetSuiteClient:
        return NetSuiteClient(self.url, ACCOUNT, credentials or self.credentials, timeout=timeout)


@pytest.fixture(scope="session")
def _emulator() -> Iterator[Emulator]:
    credentials = TbaCredentials(
        consumer_key=secrets.token_hex(32),
        consumer_secret=secrets.token_hex(32),
        token_id=secrets.token_hex(32),
        token_secret=secrets.token_hex(32),
    )
    app = create_app(account=ACCOUNT, credentials=credentials, concurrency_limit=5)
    with ServerThread(app) as server:
        yield Emulator(server.url, credentials, sandbox_of(app))


@pytest.fixture
def emulator(_emulator: Emulator) -> Emulator:
    _emulator.sandbox.reset()
    _emulator.sandbox.set_concurrency_limit(5)
    return _emulator


@pytest.fixture
def client(emulator: Emulator) -> Iterator[NetSuiteClient]:
    with emulator.client() as netsuite:
        yield netsuite
