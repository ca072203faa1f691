"""Quote-to-cash with HubSpot as the CRM: a deal moved to Closed Won in the HubSpot emulator
reaches syncwright as a signed webhook batch (the real intake, v3 signature), and the
unchanged onboarding workflow makes a validated NetSuite customer and sales order, a live Stripe
subscription, and writes the billing facts back onto the HubSpot company."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
from hubspot import HubSpot
from hubspot.crm.deals import SimplePublicObjectInput

from syncwright.demo.billing_world import BillingWorld, start_billing_world
from syncwright.sandbox import ServerThread
from syncwright.sandbox.hubspot import (
    DEFAULT_ACCESS_TOKEN,
    DEFAULT_CLIENT_SECRET,
    HubSpotEmulator,
    create_app,
    emulator_of,
)
from syncwright.store.tables import inbox
from tests.connectors.hubspot import _seed

EXTRA = """\
  hubspot:
    vendor: hubspot
    base_url: {url}
    credentials:
      access_token: "file:secrets/hs_token"
    webhook:
      secrets: ["file:secrets/hs_client_secret"]
    limits: {{timeout_seconds: 10, requests_per_second: 100}}
    options:
      role: crm
      webhook_url: {hook}
      default_currency: USD
      default_subsidiary: Parent Company
      poll_interval_seconds: 3600
"""
# Platform 490 + Seats 25 each, per month (the seed's catalog).
MONTHLY = {"Platform": 49_000, "Seats": 2_500}


@dataclass
class HubSpotWorld:
    billing: BillingWorld
    server: ServerThread
    emulator: HubSpotEmulator

    def sdk(self) -> HubSpot:
        return HubSpot(access_token=DEFAULT_ACCESS_TOKEN, host=self.server.url)


@pytest.fixture
def world(tmp_path: Path) -> Iterator[HubSpotWorld]:
    billing = start_billing_world(tmp_path / "q2c", workers=8, ns_timeout=5.0, poll_interval=1)
    app = create_app(per_interval=100_000, webhook_retry_delays=(0.2, 0.5, 1.0))
    server = ServerThread(app).start()
    hook = f"http://127.0.0.1:{billing.api_port}/hooks/hubspot"
    hubspot = emulator_of(app)
    hubspot.webhooks.target_url = hook
    hubspot.webhooks.paused = True  # held until syncwright listens
    for event_type, prop in (
        ("company.creation", None),
        ("company.propertyChange", "name"),
        ("deal.propertyChange", "dealstage"),
    ):
        hubspot.webhooks.subscribe(event_type, prop)
    secrets = billing.workdir / "secrets"
    (secrets / "hs_token").write_text(DEFAULT_ACCESS_TOKEN)
    (secrets / "hs_client_secret").write_text(DEFAULT_CLIENT_SECRET)
    billing.settings_args["tax_codes"] = {"Parent Company": "-7"}
    billing.settings_args["extra_connections"] = EXTRA.format(url=server.url, hook=hook)
    found = HubSpotWorld(billing, server, hubspot)
    try:
        yield found
    finally:
        billing.close()
        server.stop()


def test_a_hubspot_deal_is_onboarded_through_the_unchanged_workflow(world: HubSpotWorld) -> None:
    hs = world.sdk()
    # The catalog: HubSpot products and the Stripe prices they sell as.
    catalog = world.billing.stripe.v1
    prices: dict[str, str] = {}
    seeded = _seed.won_deal(hs, seats=7, stage="contractsent")
    for product, (name, cents) in zip(seeded.products, MONTHLY.items(), strict=True):
        stripe_product = catalog.products.create({"name": name})
        price = catalog.prices.create(
            {
                "product": stripe_product.id,
                "unit_amount": cents,
                "currency": "usd",
                "recurring": {"interval": "month"},
            }
        )
        prices[product] = price.id
    world.billing.settings_args["stripe_prices"] = prices
    runtime = world.billing.start_syncwright()
    world.emulator.webhooks.paused = False
    assert world.emulator.webhooks.wait_idle(30)  # the company's creation, delivered
    hs.crm.deals.basic_api.update(
        seeded.deal, SimplePublicObjectInput(properties={"dealstage": "closedwon"})
    )
    deadline = time.monotonic() + 120
    while runtime.xref.global_id_for("deal", "hubspot", seeded.deal) is None:
        assert time.monotonic() < deadline, "the won deal never reached syncwright"
        time.sleep(0.2)
    world.billing.wait_settled(180)
    assert runtime.exceptions.count_open() == 0, [
        (r.code, r.message) for r in runtime.exceptions.list(status="open")
    ]

    # The won deal came in as a signed webhook batch through the intake (the deals poll may
    # find it too; the policy gate lets one closed-won through, so one sales order below).
    with runtime.db.engine.connect() as conn:
        rows = list(conn.execute(inbox.select().where(inbox.c.connection == "hubspot")))
    assert any(
        r.vendor_event_id.startswith("batch:")
        and any(e.get("propertyValue") == "closedwon" for e in json.loads(r.body))
        for r in rows
    )

    # Every system agrees (read from the emulators).
    account_id = runtime.xref.global_id_for("account", "hubspot", seeded.company)
    deal_id = runtime.xref.global_id_for("deal", "hubspot", seeded.deal)
    assert account_id is not None and deal_id is not None
    with world.billing.netsuite_client() as netsuite:
        customers = {
            r.get("externalid"): r["id"]
            for r in netsuite.suiteql("SELECT id, externalid FROM customer")
        }
        orders = [
            r
            for r in netsuite.suiteql("SELECT id, externalid, recordtype FROM transaction")
            if r["recordtype"] == "salesorder"
        ]
    assert account_id in customers
    assert [o.get("externalid") for o in orders] == [f"subs_{deal_id.split('_', 1)[-1]}"]
    stripe_customer = runtime.xref.native_id_for("account", account_id, "stripe")
    subs = world.billing.stripe.v1.subscriptions.list({"customer": stripe_customer}).data
    assert [s.status for s in subs] == ["active"]
    company = world.emulator.state.get("companies", seeded.company).properties
    expected_acv = Decimal(MONTHLY["Platform"] + 7 * MONTHLY["Seats"]) * 12 / 100
    assert company["syncwright_subscription_status"] == "Active"
    assert Decimal(company["syncwright_acv"]) == expected_acv
    assert company["syncwright_erp_id"] == str(customers[account_id])
    # The lifecycle workflows' facts reach the company too (subscription created -> products).
    assert company["syncwright_product_summary"], company
