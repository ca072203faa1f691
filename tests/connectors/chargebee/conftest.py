"""Fixtures for the Chargebee connector tests: the emulator on a loopback port, Chargebee's SDK
pointed at it, and real Runtimes (SQLite) whose connection talks to the emulator."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import chargebee
import pytest

from syncwright.config import load_settings
from syncwright.runtime import Runtime
from syncwright.sandbox import FaultInjector, ServerThread
from syncwright.sandbox.chargebee import ChargebeeState, create_app
from tests.connectors.chargebee._support import (
    API_KEY,
    RuntimeFactory,
    make_catalog,
    sdk_for,
    write_config,
)


@pytest.fixture
def cb_state() -> Iterator[ChargebeeState]:
    state = ChargebeeState()
    yield state
    state.close()


@pytest.fixture
def cb_faults() -> FaultInjector:
    return FaultInjector()


@pytest.fixture
def cb_server(cb_state: ChargebeeState, cb_faults: FaultInjector) -> Iterator[ServerThread]:
    server = ServerThread(create_app(cb_state, api_key=API_KEY, faults=cb_faults)).start()
    yield server
    server.stop()


@pytest.fixture
def cb_sdk(cb_server: ServerThread) -> chargebee.Chargebee:
    sdk = sdk_for(cb_server.url)
    make_catalog(sdk)
    return sdk


@pytest.fixture
def make_runtime(tmp_path: Path, cb_server: ServerThread) -> Iterator[RuntimeFactory]:
    made: list[Runtime] = []

    def make(**kwargs: Any) -> Runtime:
        directory = tmp_path / f"rt{len(made)}"
        directory.mkdir()
        kwargs.setdefault("base_url", cb_server.url)
        runtime = Runtime(load_settings(write_config(directory, **kwargs)))
        made.append(runtime)
        return runtime

    yield make
    for runtime in made:
        runtime.close()
