"""Our NetSuite client against the NetSuite emulator (one server per session, reset per test)."""

from __future__ import annotations

import datetime as _dt
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
class NsWorld:
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

    # canonical entities, as steps receive them (model_dump(mode="json") form)

    @staticmethod
    def money(minor: int, currency: str = "USD") -> dict[str, Any]:
        return {"amount_minor": minor, "currency": currency}

    def account(
        self, gid: str, *, subsidiary: str | None = "Syncwright UK Ltd", currency: str = "GBP"
    ) -> dict[str, Any]:
        return {
            "global_id": gid,
            "name": f"Client {gid}",
            "legal_name": f"Client {gid} Ltd",
            "subsidiary": subsidiary,
            "currency": currency,
            "billing_email": f"ap@{gid}.test",
            "bill_to": {
                "line1": "1 High Street",
                "city": "London",
                "postal_code": "EC1A 1AA",
                "country": "GB",
            },
            "tax_ids": [{"kind": "gb_vat", "value": "GB123456789"}],
        }

    def subscription(
        self,
        gid: str,
        account_id: str,
        items: list[tuple[str, int, int]],
        *,
        currency: str = "GBP",
        term_start: str = "2026-01-01",
        term_end: str | None = "2027-01-01",
    ) -> dict[str, Any]:
        return {
            "global_id": gid,
            "account_id": account_id,
            "plan_id": "prod_plan",
            "status": "active",
            "currency": currency,
            "term_start": term_start,
            "term_end": term_end,
            "billing_frequency": "monthly",
            "items": [
                {
                    "global_id": f"{gid}-item-{i}",
                    "price_id": price,
                    "quantity": quantity,
                    "unit_amount": self.money(unit, currency),
                }
                for i, (price, quantity, unit) in enumerate(items)
            ],
        }

    def invoice(
        self,
        gid: str,
        account_id: str,
        lines: list[tuple[str, int, int]],
        *,
        currency: str = "GBP",
        tax_minor: int = 0,
        subscription_id: str | None = None,
        status: str = "open",
        paid: bool = False,
    ) -> dict[str, Any]:
        subtotal = sum(quantity * unit for _, quantity, unit in lines)
        total = subtotal + tax_minor
        return {
            "global_id": gid,
            "account_id": account_id,
            "subscription_id": subscription_id,
            "number": f"INV-{gid}",
            "status": "paid" if paid else status,
            "currency": currency,
            "lines": [
                {
                    "global_id": f"{gid}-line-{i}",
                    "description": f"{price} x {quantity}",
                    "price_id": price,
                    "quantity": quantity,
                    "unit_amount": self.money(unit, currency),
                    "amount": self.money(quantity * unit, currency),
                }
                for i, (price, quantity, unit) in enumerate(lines)
            ],
            "subtotal": self.money(subtotal, currency),
            "discount_total": self.money(0, currency),
            "tax_total": self.money(tax_minor, currency),
            "total": self.money(total, currency),
            "amount_paid": self.money(total if paid else 0, currency),
            "issue_date": "2026-02-01",
            "due_date": "2026-03-03",
            "paid_at": "2026-02-05T10:00:00+00:00" if paid else None,
        }

    def payment(
        self, gid: str, account_id: str, minor: int, invoice_id: str, *, currency: str = "GBP"
    ) -> dict[str, Any]:
        return {
            "global_id": gid,
            "account_id": account_id,
            "amount": self.money(minor, currency),
            "status": "succeeded",
            "method": "card",
            "received_at": "2026-02-05T10:00:00+00:00",
            "reference": "ch_123",
            "applied_to": [{"invoice_id": invoice_id, "amount": self.money(minor, currency)}],
        }

    def credit_note(
        self, gid: str, account_id: str, invoice_id: str, minor: int, *, currency: str = "GBP"
    ) -> dict[str, Any]:
        return {
            "global_id": gid,
            "account_id": account_id,
            "invoice_id": invoice_id,
            "number": f"CN-{gid}",
            "reason": "goodwill",
            "currency": currency,
            "lines": [
                {
                    "global_id": f"{gid}-line-0",
                    "description": "Goodwill credit",
                    "price_id": "price_std",
                    "quantity": 1,
                    "amount": self.money(minor, currency),
                }
            ],
            "subtotal": self.money(minor, currency),
            "discount_total": self.money(0, currency),
            "tax_total": self.money(0, currency),
            "total": self.money(minor, currency),
            "issue_date": _dt.date(2026, 2, 10).isoformat(),
        }


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
