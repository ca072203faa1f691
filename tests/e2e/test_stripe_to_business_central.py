"""Stripe Billing -> Dynamics 365 Business Central end to end: the billing-to-ERP workflows,
unchanged, with Business Central as the ERP. Both emulators on real HTTP (Business Central over
TLS with Entra ID tokens), Stripe's signed webhooks into syncwright's intake, the engine,
dispatcher and poller running; a quarter of Business Central writes fail or lose their
response (seeded).
Business Central ends with the customer, its sales order, the posted invoice, the payment
applied to it and the posted credit memo -- once each, read back from the emulator -- and
reconciliation finds the two systems agreeing, then finds a drift made behind its back."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import stripe

from syncwright.api import create_api
from syncwright.config import load_settings
from syncwright.connectors.business_central.connector import BusinessCentralConnector
from syncwright.engine import Engine
from syncwright.intake.dispatcher import Dispatcher
from syncwright.intake.poller import Poller
from syncwright.reconcile import Reconciler
from syncwright.runtime import Runtime
from syncwright.sandbox import FaultInjector, FaultPlan, ServerThread
from syncwright.sandbox._server import free_port
from syncwright.sandbox._tls import make_self_signed_cert
from syncwright.sandbox.business_central import COMPANY_ID, BusinessCentralSandbox, sandbox_of
from syncwright.sandbox.business_central import create_app as create_bc
from syncwright.sandbox.stripe import StripeState
from syncwright.sandbox.stripe import create_app as create_stripe

TENANT = "contoso.onmicrosoft.com"


@dataclass
class World:
    stripe_state: StripeState
    stripe: stripe.StripeClient
    bc: BusinessCentralSandbox
    runtime: Runtime
    engine: Engine

    def rows(self, entity_set: str) -> list[dict[str, Any]]:
        return self.bc.state.rows(self.bc.company_id, entity_set)

    def settled(self) -> bool:
        return self.runtime.inbox.count("pending") == 0 and not self.engine.unfinished()

    def wait_settled(self, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        quiet = 0
        while quiet < 3:  # three quiet checks in a row: webhooks may still be on their way
            self.stripe_state.drain_webhooks(5)
            quiet = quiet + 1 if self.settled() else 0
            if time.monotonic() > deadline:
                raise TimeoutError(f"did not settle: {self.engine.statuses()}")
            time.sleep(0.3)


@contextmanager
def open_world(
    tmp_path: Path,
    *,
    faults: FaultPlan | None = None,
    bc_options: str = "",
    bc_poll_seconds: int = 3600,
    sections: str = "",
) -> Iterator[World]:
    """Stripe and Business Central emulators with syncwright between them; ``bc_options`` adds
    lines under the Business Central connection's options, ``sections`` top-level config."""
    stripe_key = "sk_test_" + secrets.token_hex(12)
    stripe_state = StripeState(webhook_retry_base_seconds=0.2, webhook_max_attempts=8)
    client_id, client_secret = secrets.token_hex(16), secrets.token_urlsafe(24)
    certfile, keyfile = make_self_signed_cert(tmp_path / "tls")
    faults = FaultInjector(faults or FaultPlan())
    bc_app = create_bc(
        tenant=TENANT, client_id=client_id, client_secret=client_secret, faults=faults
    )
    api_port = free_port()
    with (
        ServerThread(create_stripe(stripe_state, api_key=stripe_key)) as stripe_server,
        ServerThread(bc_app, certfile=certfile, keyfile=keyfile) as bc_server,
    ):
        client = stripe.StripeClient(stripe_key, base_addresses={"api": stripe_server.url})
        endpoint = client.v1.webhook_endpoints.create(
            {"url": f"http://127.0.0.1:{api_port}/hooks/stripe", "enabled_events": ["*"]}
        )
        folder = tmp_path / "secrets"
        folder.mkdir()
        for name, value in {
            "stripe_key": stripe_key,
            "stripe_webhook": str(endpoint.secret),
            "bc_client_id": client_id,
            "bc_client_secret": client_secret,
            "bc_webhook": secrets.token_hex(16),
        }.items():
            (folder / name).write_text(value)
        config = tmp_path / "syncwright.yaml"
        config.write_text(
            f"""\
database: {{url: "sqlite:///{tmp_path / "sync.db"}"}}
engine: {{workers: 8}}
connections:
  stripe:
    vendor: stripe
    base_url: {stripe_server.url}
    credentials: {{api_key: "file:secrets/stripe_key"}}
    webhook: {{secrets: ["file:secrets/stripe_webhook"]}}
    options: {{role: billing, poll_interval_seconds: 1}}
  bc:
    vendor: business_central
    base_url: {bc_server.url}
    credentials:
      client_id: "file:secrets/bc_client_id"
      client_secret: "file:secrets/bc_client_secret"
    webhook: {{secrets: ["file:secrets/bc_webhook"]}}
    limits: {{timeout_seconds: 2}}
    options:
      role: erp
      tenant: {TENANT}
      company_id: {COMPANY_ID}
      login_url: {bc_server.url}
      ca_file: {certfile}
      default_item: SW-PRO
      tax_areas: {{default: UK-ZERO}}
      poll_interval_seconds: {bc_poll_seconds}
{bc_options}{sections}reconciliation:
  - {{name: invoices, check: invoices, schedule: 1h, compare: [stripe, bc]}}
  - {{name: contracts, check: subscriptions, schedule: 1h, compare: [stripe, bc]}}
"""
        )
        runtime = Runtime(load_settings(config))
        engine = runtime.start_engine()
        dispatcher, poller = Dispatcher(runtime), Poller(runtime)
        dispatcher.start()
        poller.start()
        api = ServerThread(create_api(runtime, engine), port=api_port).start()
        try:
            yield World(stripe_state, client, sandbox_of(bc_app), runtime, engine)
        finally:
            poller.stop()
            dispatcher.stop()
            api.stop()
            runtime.close()
            stripe_state.close()


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    plan = FaultPlan(error_5xx_rate=0.15, lost_response_rate=0.1, stall_seconds=3.0, seed=5)
    with open_world(tmp_path, faults=plan) as opened:
        yield opened


def test_billing_lands_in_business_central_once(world: World) -> None:
    v1 = world.stripe.v1
    product = v1.products.create({"name": "Syncwright Cloud"})
    price = v1.prices.create(
        {
            "product": product.id,
            "unit_amount": 3900,
            "currency": "gbp",
            "recurring": {"interval": "month"},
        }
    )
    customer = v1.customers.create(
        {
            "name": "Fabrikam Ltd",
            "email": "ap@fabrikam.example",
            "payment_method": "pm_card_visa",
            "invoice_settings": {"default_payment_method": "pm_card_visa"},
        }
    )
    sub = v1.subscriptions.create(
        {
            "customer": customer.id,
            "items": [{"price": price.id, "quantity": 2}],
            "expand": ["latest_invoice"],
        }
    )
    latest = sub.latest_invoice
    assert latest is not None
    invoice_id = latest if isinstance(latest, str) else latest.id
    v1.credit_notes.create({"invoice": invoice_id, "amount": 1000, "memo": "Service credit"})
    world.wait_settled()
    world.bc.faults.configure(FaultPlan())  # read back without injected faults

    assert world.runtime.exceptions.count_open() == 0
    customers = [c for c in world.rows("customers") if c["displayName"] == "Fabrikam Ltd"]
    assert len(customers) == 1 and customers[0]["currencyCode"] == "GBP"
    [order] = world.rows("salesOrders")
    assert order["customerId"] == customers[0]["id"] and order["totalAmountExcludingTax"] == 78
    [invoice] = world.rows("salesInvoices")
    assert invoice["status"] == "Paid" and invoice["totalAmountIncludingTax"] == 78
    # the payment journal line was posted: it left the journal and settled the invoice
    assert world.rows("customerPayments") == []
    [payment] = world.rows("_postedPayments")
    assert payment["amount"] == 78 and payment["appliesToInvoiceId"] == invoice["id"]
    [memo] = world.rows("salesCreditMemos")
    assert memo["status"] in ("Open", "Paid") and memo["totalAmountIncludingTax"] == 10
    assert invoice["remainingAmount"] == 0
    assert (
        world.bc.stats()["faults"]["error_5xx"] + world.bc.stats()["faults"]["lost_response"] >= 0
    )

    # Reconciliation reads both systems and finds them agreeing; an order whose lines were
    # closed in Business Central while the subscription lives on in Stripe is drift.
    reconciler = Reconciler(world.runtime)
    for rule in ("invoices", "contracts"):
        clean = reconciler.run(rule)
        assert clean is not None and clean.status == "clean", clean.report if clean else None
        assert clean.report["counts"]["source"] > 0
    connector = world.runtime.connection("bc")
    assert isinstance(connector, BusinessCentralConnector)
    client = connector.client
    for line in client.get("salesOrders", order["id"], expand="salesOrderLines")["salesOrderLines"]:
        client.update_line(
            "salesOrders",
            order["id"],
            "salesOrderLines",
            line,
            {"shipQuantity": 0, "invoiceQuantity": 0},
        )
    drift = reconciler.run("contracts")
    assert drift is not None and drift.status == "drift"
    assert drift.report["counts"]["drift"] == 1
