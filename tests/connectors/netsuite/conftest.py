"""Our NetSuite client against the NetSuite emulator (one server per session, reset per test)."""

from __future__ import annotations

import itertools
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from syncwright.config import load_settings
from syncwright.connectors.netsuite.client import NetSuiteClient, TbaCredentials
from syncwright.connectors.netsuite.connector import NetSuiteConnector
from syncwright.engine import StepContext
from syncwright.runtime import Runtime
from syncwright.runtime_hooks import LedgerHooks
from syncwright.sandbox import ServerThread
from syncwright.sandbox.netsuite import NetSuiteSandbox, create_app, sandbox_of
from tests.connectors._canonical import CanonicalBuilders

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


# -- the NetSuite connector over a real Runtime (test_ns_connector_*) -----------------------

CONNECTION = "netsuite"
_SEQ = itertools.count(1)


def write_ns_config(
    directory: Path,
    *,
    url: str,
    credentials: TbaCredentials,
    jpy_currency: str,
    jp_subsidiary: str,
    concurrency: int = 5,
    timeout_seconds: float = 5.0,
    extra_options: str = "",
    database_url: str | None = None,
    limits_scope: str = "process",
) -> Path:
    """A syncwright.yaml with one ``netsuite`` connection; TBA secrets as ``file:`` references."""
    secrets_dir = directory / "secrets"
    secrets_dir.mkdir(parents=True, exist_ok=True)
    for key in ("consumer_key", "consumer_secret", "token_id", "token_secret"):
        (secrets_dir / f"ns_{key}").write_text(getattr(credentials, key))
    path = directory / "syncwright.yaml"
    path.write_text(
        f"""\
database:
  url: {database_url or f"sqlite:///{directory / 'syncwright.db'}"}
connections:
  {CONNECTION}:
    vendor: netsuite
    base_url: {url}
    credentials:
      consumer_key: "file:secrets/ns_consumer_key"
      consumer_secret: "file:secrets/ns_consumer_secret"
      token_id: "file:secrets/ns_token_id"
      token_secret: "file:secrets/ns_token_secret"
    limits:
      concurrency: {concurrency}
      timeout_seconds: {timeout_seconds}
      scope: {limits_scope}
    options:
      role: erp
      account: {ACCOUNT}
      subsidiaries:
        Parent Company: 1
        Syncwright UK Ltd: 2
        Syncwright GmbH: 3
        Syncwright KK: "{jp_subsidiary}"
      currencies: {{USD: 1, GBP: 2, EUR: 3, JPY: "{jpy_currency}"}}
      items:
        price_std: 98
        price_pro: "100"
        price_seat: 102
        prod_onboarding: 101
        price_1StripeSeat: 102
      tax_codes:
        Syncwright UK Ltd: 5
        Syncwright GmbH: 7
{extra_options}"""
    )
    return path


@dataclass
class NsWorld(CanonicalBuilders):
    """A Runtime wired to the emulator, step contexts, and canonical entity builders."""

    runtime: Runtime
    emulator: Emulator
    jpy_currency: str
    jp_subsidiary: str
    contexts: list[StepContext] = field(default_factory=list)

    @property
    def connector(self) -> NetSuiteConnector:
        connector = self.runtime.connection(CONNECTION)
        assert isinstance(connector, NetSuiteConnector)
        return connector

    @property
    def state(self) -> Any:
        return self.emulator.sandbox.state

    def record_audit(self) -> None:
        """What the engine does when an attempt ends: the runtime hook records the writes
        each step declared (steps are called directly here, one after another)."""
        hooks = LedgerHooks(self.runtime.ledger, self.runtime.exceptions, audit=self.runtime.audit)
        for ctx in self.contexts:
            hooks.record_writes(ctx)

    def ctx(self, step: str = "netsuite.step", *, workflow_id: str | None = None) -> StepContext:
        self.record_audit()  # the step before this one has ended
        n = next(_SEQ)
        ctx = StepContext(
            workflow_id=workflow_id or f"wf-{n}",
            workflow="test.netsuite",
            step=step,
            attempt=1,
            correlation_id=f"cor-{n}",
            entity_key=f"test:{n}",
            timeout_seconds=5,
            services=self.runtime,
        )
        self.contexts.append(ctx)
        return ctx


def make_ns_world(emulator: Emulator, directory: Path, **config: Any) -> NsWorld:
    """Seed a JPY currency and a Japanese subsidiary, write the config, build the Runtime."""
    state = emulator.sandbox.state
    jpy = state.create("currency", {"name": "Yen", "symbol": "JPY", "exchangeRate": "0.0067"})
    jp = state.create(
        "subsidiary", {"name": "Syncwright KK", "country": "JP", "currency": {"id": jpy}}
    )
    path = write_ns_config(
        directory,
        url=emulator.url,
        credentials=emulator.credentials,
        jpy_currency=jpy,
        jp_subsidiary=jp,
        **config,
    )
    return NsWorld(Runtime(load_settings(path)), emulator, jpy, jp)


@pytest.fixture
def ns_world(emulator: Emulator, tmp_path: Path) -> Iterator[NsWorld]:
    world = make_ns_world(emulator, tmp_path)
    try:
        yield world
    finally:
        world.runtime.close()
