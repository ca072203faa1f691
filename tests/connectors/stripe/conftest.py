"""Fixtures for the Stripe connector tests: the Stripe emulator on a loopback port, the official
SDK pointed at it, and a real Runtime (SQLite) whose Stripe connection talks to the emulator."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import stripe

from syncwright.config import load_settings
from syncwright.connectors.stripe.connector import StripeConnector
from syncwright.runtime import Runtime
from syncwright.sandbox import FaultInjector, ServerThread
from syncwright.sandbox.stripe import StripeState, create_app
from tests.connectors.stripe._support import (
    API_KEY,
    CONNECTION,
    RuntimeFactory,
    write_stripe_config,
)


@pytest.fixture
def stripe_state() -> Iterator[StripeState]:
    state = StripeState(webhook_retry_base_seconds=0.05, webhook_max_attempts=3)
    yield state
    state.close()


@pytest.fixture
def stripe_faults() -> FaultInjector:
    return FaultInjector()


@pytest.fixture
def stripe_server(
    stripe_state: StripeState, stripe_faults: FaultInjector
) -> Iterator[ServerThread]:
    server = ServerThread(create_app(stripe_state, api_key=API_KEY, faults=stripe_faults)).start()
    yield server
    server.stop()


@pytest.fixture
def sdk(stripe_server: ServerThread) -> stripe.StripeClient:
    # Base URL only: everything else is the SDK's default behaviour.
    return stripe.StripeClient(
        API_KEY, base_addresses={"api": stripe_server.url}, max_network_retries=0
    )


@pytest.fixture
def make_runtime(tmp_path: Path, stripe_server: ServerThread) -> Iterator[RuntimeFactory]:
    """Build a real Runtime from a syncwright.yaml written for the emulator."""
    made: list[Runtime] = []

    def make(**kwargs: Any) -> Runtime:
        directory = tmp_path / f"rt{len(made)}"
        directory.mkdir()
        kwargs.setdefault("base_url", stripe_server.url)
        runtime = Runtime(load_settings(write_stripe_config(directory, **kwargs)))
        made.append(runtime)
        return runtime

    yield make
    for runtime in made:
        runtime.close()


@pytest.fixture
def runtime(make_runtime: RuntimeFactory) -> Runtime:
    return make_runtime(webhook_secrets=["whsec_connector_test_secret"])


@pytest.fixture
def connector(runtime: Runtime) -> StripeConnector:
    found = runtime.connection(CONNECTION)
    assert isinstance(found, StripeConnector)
    return found
