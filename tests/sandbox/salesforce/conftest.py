"""One HTTPS Salesforce emulator per test session, reset before each test.

simple-salesforce is HTTPS-only, so the server runs with a throwaway self-signed certificate and
every ``requests.Session`` here trusts that file. ``trust_env = False`` matters: CI sets
``REQUESTS_CA_BUNDLE``, which would otherwise override the session's ``verify``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests
from simple_salesforce import Salesforce

from syncwright.sandbox import FaultInjector, FaultPlan, ServerThread
from syncwright.sandbox._tls import make_self_signed_cert
from syncwright.sandbox.salesforce import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_PASSWORD,
    DEFAULT_USERNAME,
    SalesforceState,
    create_app,
)
from tests import _vendor

API_VERSION = "59.0"
DAILY_LIMIT = 100_000


def vendor_json(relative: str) -> Any:
    """An artifact under ``tests/vendor/salesforce``."""
    return _vendor.vendor_json(f"salesforce/{relative}")


class Clock:
    """Real UTC time unless a test pins it (Salesforce keeps date-times to the second)."""

    def __init__(self) -> None:
        self.pinned: dt.datetime | None = None

    def __call__(self) -> dt.datetime:
        return self.pinned or dt.datetime.now(dt.UTC)

    def set(self, moment: dt.datetime) -> None:
        self.pinned = moment

    def advance(self, seconds: float) -> None:
        self.pinned = self() + dt.timedelta(seconds=seconds)


@dataclass
class SalesforceEnv:
    url: str
    certfile: str
    state: SalesforceState
    faults: FaultInjector
    clock: Clock

    def session(self) -> requests.Session:
        session = requests.Session()
        session.verify = self.certfile
        session.trust_env = False
        return session

    def token(self) -> str:
        response = self.session().post(
            f"{self.url}/services/oauth2/token",
            data={
                "grant_type": "password",
                "client_id": DEFAULT_CLIENT_ID,
                "client_secret": DEFAULT_CLIENT_SECRET,
                "username": DEFAULT_USERNAME,
                "password": DEFAULT_PASSWORD,
            },
            timeout=5,
        )
        response.raise_for_status()
        token: str = response.json()["access_token"]
        return token

    def sf(self, version: str = API_VERSION, session: requests.Session | None = None) -> Salesforce:
        """simple-salesforce pointed at the emulator by instance URL only."""
        return Salesforce(
            instance_url=self.url,
            session_id=self.token(),
            session=session or self.session(),
            version=version,
        )

    def api(self, path: str) -> str:
        return f"{self.url}/services/data/v{API_VERSION}{path}"

    def headers(self, **extra: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token()}", **extra}

    def wait_for(
        self, condition: Callable[[], Any], timeout: float = 5.0, interval: float = 0.02
    ) -> Any:
        import time

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = condition()
            if value:
                return value
            time.sleep(interval)
        raise AssertionError(f"condition not met within {timeout}s")


def stop_server(server: ServerThread) -> None:
    """Stop with a short graceful window: with TLS, an idle keep-alive connection keeps
    uvicorn "waiting for connections to close" until the SSL shutdown times out (~30 s), and
    ServerThread.stop gives up after 10 s. Nothing is in flight when a test ends."""
    server._server.config.timeout_graceful_shutdown = 0.3
    server.stop()


@pytest.fixture(scope="session")
def _sf_server(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[ServerThread, str, SalesforceState, FaultInjector, Clock]]:
    certfile, keyfile = make_self_signed_cert(tmp_path_factory.mktemp("sf-tls"))
    clock = Clock()
    state = SalesforceState(clock=clock)
    faults = FaultInjector()
    app = create_app(state, api_version=API_VERSION, faults=faults, daily_api_limit=DAILY_LIMIT)
    server = ServerThread(app, certfile=certfile, keyfile=keyfile).start()
    try:
        yield server, certfile, state, faults, clock
    finally:
        state.pusher.stop()
        stop_server(server)


@pytest.fixture
def env(
    _sf_server: tuple[ServerThread, str, SalesforceState, FaultInjector, Clock],
) -> Iterator[SalesforceEnv]:
    server, certfile, state, faults, clock = _sf_server
    clock.pinned = None
    faults.configure(FaultPlan())
    state.reset()
    state.reset_api_usage(0, DAILY_LIMIT)
    state.pusher.retry_initial, state.pusher.max_attempts = 0.02, 8
    yield SalesforceEnv(server.url, certfile, state, faults, clock)
    state.pusher.stop()
    faults.configure(FaultPlan())


@pytest.fixture
def sf(env: SalesforceEnv) -> Salesforce:
    return env.sf()
