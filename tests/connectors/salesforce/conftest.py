"""Fixtures for the Salesforce connector tests: the HTTPS Salesforce emulator (one per session,
reset before each test; a fresh one for tests that declare custom fields, which a reset keeps),
and a real Runtime (SQLite in tmp) whose Salesforce connection talks to it."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from simple_salesforce import Salesforce

from syncwright.config import load_settings
from syncwright.runtime import Runtime
from syncwright.sandbox import FaultInjector, FaultPlan, ServerThread
from syncwright.sandbox._tls import make_self_signed_cert
from syncwright.sandbox.salesforce import SalesforceState, create_app
from syncwright.sandbox.salesforce._pubsub import PubSubServer
from tests.connectors.salesforce._support import (
    API_VERSION,
    Clock,
    Org,
    World,
    stop_server,
    write_sf_config,
)

DAILY_LIMIT = 100_000


def _start(directory: Path) -> tuple[ServerThread, Org]:
    certfile, keyfile = make_self_signed_cert(directory)
    clock = Clock()
    state = SalesforceState(clock=clock)
    faults = FaultInjector()
    app = create_app(state, api_version=API_VERSION, faults=faults, daily_api_limit=DAILY_LIMIT)
    server = ServerThread(app, certfile=certfile, keyfile=keyfile).start()
    return server, Org(server.url, certfile, state, faults, clock)


@pytest.fixture(scope="session")
def _shared_org(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Org]:
    server, org = _start(tmp_path_factory.mktemp("sf-connector-tls"))
    try:
        yield org
    finally:
        org.state.pusher.stop()
        stop_server(server)


@pytest.fixture
def org(_shared_org: Org) -> Iterator[Org]:
    _shared_org.clock.pinned = None
    _shared_org.faults.configure(FaultPlan())
    _shared_org.state.reset()
    _shared_org.state.reset_api_usage(0, DAILY_LIMIT)
    yield _shared_org
    _shared_org.faults.configure(FaultPlan())


@pytest.fixture
def fresh_org(tmp_path: Path) -> Iterator[Org]:
    """An org of its own, for tests that declare custom fields (a reset keeps those)."""
    server, org = _start(tmp_path / "tls")
    try:
        yield org
    finally:
        stop_server(server)


@pytest.fixture
def sf(org: Org) -> Salesforce:
    return org.sdk()


WorldFactory = Callable[..., World]


@pytest.fixture
def make_world(tmp_path: Path) -> Iterator[WorldFactory]:
    made: list[Runtime] = []
    numbers = itertools.count()

    def make(target: Org, **kwargs: Any) -> World:
        directory = tmp_path / f"rt{next(numbers)}"
        directory.mkdir()
        runtime = Runtime(
            load_settings(
                write_sf_config(directory, url=target.url, certfile=target.certfile, **kwargs)
            )
        )
        made.append(runtime)
        return World(runtime, target)

    yield make
    for runtime in made:
        runtime.close()


@pytest.fixture
def world(make_world: WorldFactory, org: Org) -> World:
    return make_world(org)


@pytest.fixture(scope="module")
def pubsub(_shared_org: Org) -> Iterator[PubSubServer]:
    # A short keepalive: a poll that has caught up ends when it arrives.
    server = PubSubServer(
        _shared_org.state,
        certfile=_shared_org.certfile,
        keyfile=Path(_shared_org.certfile).with_name("key.pem"),
        keepalive_seconds=0.2,
    ).start()
    yield server
    server.stop()
