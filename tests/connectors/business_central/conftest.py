"""Our Business Central connector over a real Runtime against the emulator (TLS, one server per
session, reset per test), with canonical entity builders shared with the contract test."""

from __future__ import annotations

import itertools
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from syncwright.config import load_settings
from syncwright.connectors.business_central.connector import BusinessCentralConnector
from syncwright.engine import StepContext
from syncwright.runtime import Runtime
from syncwright.sandbox import ServerThread
from syncwright.sandbox._tls import make_self_signed_cert
from syncwright.sandbox.business_central import (
    COMPANY_ID,
    BusinessCentralSandbox,
    create_app,
    sandbox_of,
)
from tests.connectors._canonical import CanonicalBuilders

CONNECTION = "bc"
TENANT = "contoso.onmicrosoft.com"
WEBHOOK_SECRET = "bc-client-state-" + "x" * 16
_SEQ = itertools.count(1)


@dataclass
class BcEmulator:
    url: str
    certfile: str
    client_id: str
    client_secret: str
    sandbox: BusinessCentralSandbox


@pytest.fixture(scope="session")
def _bc_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BcEmulator]:
    certfile, keyfile = make_self_signed_cert(tmp_path_factory.mktemp("bc-conn-tls"))
    client_id, client_secret = secrets.token_hex(16), secrets.token_urlsafe(24)
    app = create_app(tenant=TENANT, client_id=client_id, client_secret=client_secret, page_size=50)
    with ServerThread(app, certfile=certfile, keyfile=keyfile) as server:
        yield BcEmulator(server.url, certfile, client_id, client_secret, sandbox_of(app))


@pytest.fixture
def bc_emulator(_bc_emulator: BcEmulator) -> BcEmulator:
    _bc_emulator.sandbox.reset()
    return _bc_emulator


def bc_connection_yaml(
    emulator: BcEmulator,
    *,
    indent: str = "  ",
    name: str = CONNECTION,
    options: dict[str, str] | None = None,
) -> str:
    """The ``connections:`` entry of a Business Central connection to ``emulator``
    (credentials as ``file:`` references under ``secrets/``); ``options`` adds options."""
    lines = f"""\
{name}:
  vendor: business_central
  base_url: {emulator.url}
  credentials:
    client_id: "file:secrets/bc_client_id"
    client_secret: "file:secrets/bc_client_secret"
  webhook:
    secrets: ["file:secrets/bc_webhook"]
  limits:
    timeout_seconds: 5
  options:
    role: erp
    tenant: {TENANT}
    company_id: {COMPANY_ID}
    login_url: {emulator.url}
    ca_file: {emulator.certfile}
    items: {{price_std: SW-STD, price_pro: SW-PRO, price_seat: SW-SEAT, prod_std: SW-STD}}
    tax_areas: {{Syncwright UK Ltd: UK-STD, default: UK-ZERO}}
""" + "".join(f"    {key}: {value}\n" for key, value in (options or {}).items())
    return "".join(indent + line + "\n" for line in lines.splitlines())


def bc_secrets(emulator: BcEmulator) -> dict[str, str]:
    return {
        "bc_client_id": emulator.client_id,
        "bc_client_secret": emulator.client_secret,
        "bc_webhook": WEBHOOK_SECRET,
    }


@dataclass
class BcWorld(CanonicalBuilders):
    runtime: Runtime
    emulator: BcEmulator

    @property
    def connector(self) -> BusinessCentralConnector:
        connector = self.runtime.connection(CONNECTION)
        assert isinstance(connector, BusinessCentralConnector)
        return connector

    def ctx(self, step: str = "bc.step") -> StepContext:
        n = next(_SEQ)
        return StepContext(
            workflow_id=f"wf-bc-{n}",
            workflow="test.business_central",
            step=step,
            attempt=1,
            correlation_id=f"cor-bc-{n}",
            entity_key=f"test:{n}",
            timeout_seconds=5,
            services=self.runtime,
        )


def make_bc_world(
    emulator: BcEmulator, directory: Path, options: dict[str, str] | None = None
) -> BcWorld:
    folder = directory / "secrets"
    folder.mkdir(parents=True, exist_ok=True)
    for key, value in bc_secrets(emulator).items():
        (folder / key).write_text(value)
    config = directory / "syncwright.yaml"
    config.write_text(
        f"database:\n  url: sqlite:///{directory / 'bc.db'}\n"
        f"connections:\n{bc_connection_yaml(emulator, options=options)}"
    )
    return BcWorld(Runtime(load_settings(config)), emulator)


@pytest.fixture
def bc_world(bc_emulator: BcEmulator, tmp_path: Path) -> Iterator[BcWorld]:
    world = make_bc_world(bc_emulator, tmp_path)
    yield world
    world.runtime.close()
