"""Validation over the real NetSuite emulator and a real Runtime (one server per session, a
fresh account, config and Runtime per test)."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from syncwright.config import load_settings
from syncwright.connectors.netsuite.client import TbaCredentials
from syncwright.runtime import Runtime
from syncwright.sandbox import ServerThread
from syncwright.sandbox.netsuite import NetSuiteSandbox, NetSuiteState, create_app, sandbox_of
from syncwright.validation import ValidationService

ACCOUNT = "TSTDRV1"
CONNECTION = "netsuite"


@dataclass
class Emulator:
    url: str
    credentials: TbaCredentials
    sandbox: NetSuiteSandbox


@dataclass
class World:
    """A Runtime wired to the emulator, its ValidationService, and subject builders."""

    runtime: Runtime
    service: ValidationService
    emulator: Emulator
    fr_subsidiary: str

    @property
    def sandbox(self) -> NetSuiteSandbox:
        return self.emulator.sandbox

    @property
    def state(self) -> NetSuiteState:
        return self.emulator.sandbox.state

    @property
    def requests(self) -> int:
        """Requests NetSuite has received (the emulator counts every REST call)."""
        return self.emulator.sandbox.requests

    def customer(self, gid: str, subsidiary: str = "2", **fields: Any) -> str:
        """A NetSuite customer with external id ``gid``, written straight into the emulator."""
        body = {"companyName": f"Client {gid} Ltd", "subsidiary": {"id": subsidiary}, **fields}
        return self.state.upsert("customer", gid, body)[0]

    def invoice(self, customer_id: str, amount: str) -> str:
        return self.state.create(
            "invoice",
            {
                "entity": {"id": customer_id},
                "item": {"items": [{"item": {"id": "98"}, "amount": amount}]},
            },
        )

    @staticmethod
    def account(
        gid: str,
        *,
        subsidiary: str | None = "Syncwright UK Ltd",
        currency: str | None = "GBP",
        country: str | None = "GB",
        nexus: list[str] | None = None,
    ) -> dict[str, Any]:
        account: dict[str, Any] = {
            "global_id": gid,
            "name": f"Client {gid}",
            "legal_name": f"Client {gid} Ltd",
            "subsidiary": subsidiary,
            "currency": currency,
        }
        if country is not None:
            account["bill_to"] = {"line1": "1 High Street", "city": "London", "country": country}
        if nexus is not None:
            account["tax_nexus"] = [{"country": c} for c in nexus]
        return account

    @staticmethod
    def deal(
        gid: str,
        account_id: str,
        lines: list[tuple[str, str | None, int, int]],
        *,
        currency: str = "GBP",
    ) -> dict[str, Any]:
        """``lines``: (product id, price id, quantity, unit amount in minor units)."""
        return {
            "global_id": gid,
            "account_id": account_id,
            "name": f"Deal {gid}",
            "stage": "open",
            "currency": currency,
            "lines": [
                {
                    "global_id": f"{gid}-{i}",
                    "product_id": product,
                    "price_id": price,
                    "description": f"{product} line",
                    "quantity": quantity,
                    "unit_amount": {"amount_minor": unit, "currency": currency},
                }
                for i, (product, price, quantity, unit) in enumerate(lines)
            ],
        }

    def close(self) -> None:
        self.service.close()
        self.runtime.close()


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


def write_config(directory: Path, emulator: Emulator, fr_subsidiary: str, validation: str) -> Path:
    secrets_dir = directory / "secrets"
    secrets_dir.mkdir(parents=True, exist_ok=True)
    for key in ("consumer_key", "consumer_secret", "token_id", "token_secret"):
        (secrets_dir / f"ns_{key}").write_text(getattr(emulator.credentials, key))
    path = directory / "syncwright.yaml"
    path.write_text(
        f"""\
database:
  url: sqlite:///{directory / "syncwright.db"}
connections:
  {CONNECTION}:
    vendor: netsuite
    base_url: {emulator.url}
    credentials:
      consumer_key: "file:secrets/ns_consumer_key"
      consumer_secret: "file:secrets/ns_consumer_secret"
      token_id: "file:secrets/ns_token_id"
      token_secret: "file:secrets/ns_token_secret"
    limits: {{concurrency: 5, timeout_seconds: 5}}
    options:
      role: erp
      account: {ACCOUNT}
      subsidiaries:
        Parent Company: 1
        Syncwright UK Ltd: 2
        Syncwright GmbH: 3
        Syncwright France: "{fr_subsidiary}"
        Syncwright Ghost: 999
      currencies: {{USD: 1, GBP: 2, EUR: 3}}
      items:
        price_std: 98
        price_pro: 100
        prod_onboarding: 101
        price_gone: 999
      tax_codes:
        Syncwright UK Ltd: 5
        Syncwright GmbH: 7
        Syncwright France: 5
{validation}"""
    )
    return path


MakeWorld = Callable[..., World]


@pytest.fixture
def make_world(_emulator: Emulator, tmp_path: Path) -> Iterator[MakeWorld]:
    """``make_world(validation="      validation: {...}\\n", **service_kwargs)``."""
    worlds: list[World] = []

    def make(validation: str = "", **service_kwargs: Any) -> World:
        _emulator.sandbox.reset()
        _emulator.sandbox.set_concurrency_limit(5)
        fr = _emulator.sandbox.state.create(
            "subsidiary", {"name": "Syncwright France", "country": "FR", "currency": {"id": "3"}}
        )
        directory = tmp_path / f"world{len(worlds)}"
        directory.mkdir()
        runtime = Runtime(load_settings(write_config(directory, _emulator, fr, validation)))
        try:
            service = ValidationService(runtime, **service_kwargs)
        except Exception:
            runtime.close()
            raise
        world = World(runtime, service, _emulator, fr)
        worlds.append(world)
        return world

    try:
        yield make
    finally:
        for world in worlds:
            world.close()
        _emulator.sandbox.reset()


@pytest.fixture
def world(make_world: MakeWorld) -> World:
    return make_world()
