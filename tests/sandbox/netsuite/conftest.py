"""One NetSuite emulator per test session, reset before each test."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from syncwright.connectors.netsuite._oauth import TbaAuth, TbaCredentials
from syncwright.sandbox import ServerThread
from syncwright.sandbox.netsuite import NetSuiteSandbox, create_app, sandbox_of
from tests._vendor import vendor_json

ACCOUNT = "TSTDRV1"
RECORD = "/services/rest/record/v1"
SUITEQL = "/services/rest/query/v1/suiteql"


@dataclass
class NetSuiteEnv:
    url: str
    account: str
    credentials: TbaCredentials
    sandbox: NetSuiteSandbox

    def client(self, credentials: TbaCredentials | None = None, **kwargs: Any) -> httpx.Client:
        """An httpx client signing with TBA (HMAC-SHA256, realm = account)."""
        auth = TbaAuth(credentials or self.credentials, realm=kwargs.pop("realm", self.account))
        return httpx.Client(base_url=self.url, auth=auth, timeout=kwargs.pop("timeout", 5.0))


def new_credentials() -> TbaCredentials:
    return TbaCredentials(
        consumer_key=secrets.token_hex(32),
        consumer_secret=secrets.token_hex(32),
        token_id=secrets.token_hex(32),
        token_secret=secrets.token_hex(32),
    )


@pytest.fixture(scope="session")
def _ns_server() -> Iterator[tuple[ServerThread, TbaCredentials, NetSuiteSandbox]]:
    credentials = new_credentials()
    app = create_app(account=ACCOUNT, credentials=credentials, concurrency_limit=5)
    with ServerThread(app) as server:
        yield server, credentials, sandbox_of(app)


@pytest.fixture
def ns(_ns_server: tuple[ServerThread, TbaCredentials, NetSuiteSandbox]) -> NetSuiteEnv:
    server, credentials, sandbox = _ns_server
    sandbox.reset()
    sandbox.set_concurrency_limit(5)
    return NetSuiteEnv(server.url, ACCOUNT, credentials, sandbox)


@pytest.fixture
def http(ns: NetSuiteEnv) -> Iterator[httpx.Client]:
    with ns.client() as client:
        yield client


@pytest.fixture(scope="session")
def vendor_errors() -> Any:
    """Oracle's error samples (401 INVALID_LOGIN, 400 INVALID_CONTENT)."""
    return vendor_json("netsuite/errors.oracle-docs-examples.json")


@pytest.fixture(scope="session")
def vendor_tutorials() -> Any:
    """Oracle DevRel's SuiteTalk REST tutorial request/response bodies."""
    return vendor_json("netsuite/netsuite-devo-suitetalk-rest-tutorial-examples.json")
