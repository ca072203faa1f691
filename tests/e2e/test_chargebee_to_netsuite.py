"""Chargebee -> NetSuite end to end: the billing->ERP workflows run unchanged on Chargebee.

The billing world (NetSuite emulator, syncwright's intake, engine, dispatcher and poller) gets a
second billing connection, ``chargebee``, on the Chargebee emulator, which posts its webhooks to
syncwright's intake with basic auth. Customers subscribe through Chargebee's own SDK, one
upgrades (a prorated invoice), one is credited, one renews, one webhook is dropped (polling the
events API heals it); NetSuite must end with exactly Chargebee's customers and documents."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from syncwright.demo.billing_world import BillingWorld, start_billing_world
from syncwright.reconcile import Reconciler
from syncwright.sandbox import ServerThread
from syncwright.sandbox.chargebee import ChargebeeState, WebhookEndpoint, create_app
from tests.connectors.chargebee._support import API_KEY, PRO_PRICE, make_catalog, sdk_for

HOOK_USER, HOOK_PASSWORD = "syncwright", "e2e-hook-password"

RULES = """
reconciliation:
  - {name: invoices, check: invoices, schedule: 1h, compare: [chargebee, netsuite]}
  - {name: contracts, check: subscriptions, schedule: 1h, compare: [chargebee, netsuite]}
"""

CHARGEBEE_CONNECTION = """\
  chargebee:
    vendor: chargebee
    base_url: {url}
    credentials:
      api_key: "file:secrets/chargebee_api_key"
    webhook:
      secrets: ["file:secrets/chargebee_webhook_auth"]
    limits: {{timeout_seconds: 10, concurrency: 10, requests_per_second: 200}}
    options:
      role: billing
      poll_interval_seconds: 1
      default_subsidiary: Parent Company
"""


@pytest.fixture
def chargebee_world(tmp_path: Path) -> Iterator[tuple[BillingWorld, ChargebeeState, ServerThread]]:
    world = start_billing_world(tmp_path / "world", poll_interval=1.0, ns_timeout=5.0)
    state = ChargebeeState()
    server = ServerThread(create_app(state, api_key=API_KEY)).start()
    secrets = world.workdir / "secrets"
    (secrets / "chargebee_api_key").write_text(API_KEY)
    (secrets / "chargebee_webhook_auth").write_text(f"{HOOK_USER}:{HOOK_PASSWORD}")
    world.settings_args["extra_connections"] = CHARGEBEE_CONNECTION.format(url=server.url)
    world.settings_args["extra_sections"] = RULES
    state.webhooks.configure(
        WebhookEndpoint(
            f"http://127.0.0.1:{world.api_port}/hooks/chargebee", HOOK_USER, HOOK_PASSWORD
        )
    )
    try:
        yield world, state, server
    finally:
        world.close()
        server.stop()
        state.close()


def _minor(value: Any) -> int:
    return int(Decimal(str(value)) * 100)


def test_netsuite_ends_with_exactly_chargebees_records(
    chargebee_world: tuple[BillingWorld, ChargebeeState, ServerThread],
) -> None:
    world, state, server = chargebee_world
    runtime = world.start_syncwright()
    sdk = sdk_for(server.url)
    make_catalog(sdk)
    customers, subscriptions = [], []
    for n in range(3):
        if n == 2:  # this customer's own webhook is lost: polling the events API heals it
            state.webhooks.drop_next = 1
        customer = sdk.Customer.create(
            {"company": f"Chargebee Customer {n}", "email": f"ap{n}@cb{n}.example"}
        ).customer
        sub = sdk.Subscription.create_with_items(
            customer.id, {"subscription_items": [{"item_price_id": PRO_PRICE, "quantity": n + 1}]}
        )
        customers.append(customer.id)
        subscriptions.append(sub.subscription.id)
        if n == 0:
            sdk.Subscription.update_for_items(
                sub.subscription.id,
                {"subscription_items": [{"item_price_id": PRO_PRICE, "quantity": 3}]},
            )
        if n == 1:
            sdk.CreditNote.create(
                {
                    "reference_invoice_id": sub.invoice.id,
                    "total": 1000,
                    "type": "refundable",
                    "reason_code": "waiver",
                }
            )
            httpx.post(
                f"{server.url}/_sandbox/subscriptions/{sub.subscription.id}/renew", trust_env=False
            ).raise_for_status()
    assert state.webhooks.drain(30)
    world.wait_settled(240)

    assert runtime.exceptions.count_open() == 0, [
        (r.code, r.message) for r in runtime.exceptions.list(status="open")
    ]
    xref = runtime.xref
    with world.netsuite_client() as netsuite:
        ns_customers = {
            r.get("externalid") for r in netsuite.suiteql("SELECT id, externalid FROM customer")
        }
        rows = list(
            netsuite.suiteql(
                "SELECT externalid, recordtype, foreigntotal, foreignamountunpaid FROM transaction"
            )
        )
    by_type: dict[str, dict[str, dict[str, Any]]] = {}
    for row in rows:
        bucket = by_type.setdefault(row["recordtype"], {})
        key = row.get("externalid")
        assert key is None or key not in bucket, f"duplicate {row['recordtype']} {row}"
        bucket[key or str(len(bucket))] = row
    for customer in customers:
        assert xref.global_id_for("account", "chargebee", customer) in ns_customers
    for sub in subscriptions:
        assert xref.global_id_for("subscription", "chargebee", sub) is not None
    assert len(by_type.get("salesorder", {})) == len(subscriptions)
    invoices = [e.invoice for e in sdk.Invoice.list({"limit": 100}).list]
    assert len(invoices) == 5  # three first terms, one proration, one renewal
    for invoice in invoices:
        record = by_type["invoice"][xref.global_id_for("invoice", "chargebee", invoice.id) or ""]
        assert _minor(record["foreigntotal"]) == invoice.total
        if invoice.status == "paid":
            assert _minor(record["foreignamountunpaid"] or 0) == 0
    notes = [e.credit_note for e in sdk.CreditNote.list({"limit": 100}).list]
    assert len(notes) == 1
    memo = by_type["creditmemo"][xref.global_id_for("credit_note", "chargebee", notes[0].id) or ""]
    assert _minor(memo["foreigntotal"]) == notes[0].total
    # The intake took Chargebee's basic-auth webhooks (none refused) ...
    outcomes = {(r.outcome, r.status_code) for r in state.webhooks.records}
    assert ("delivered", 200) in outcomes and not any(o == "failed" for o, _ in outcomes)
    # ... and the one that was dropped came in through polling.
    dropped = [r for r in state.webhooks.records if r.outcome == "dropped"]
    assert dropped and runtime.inbox.count() == runtime.inbox.count("dispatched")
    # Landing the dropped event again is a duplicate: the inbox holds it already.
    again = runtime.inbox.accept(
        connection="chargebee",
        vendor_event_id=dropped[0].event_id,
        event_type=dropped[0].event_type,
        body="{}",
    )
    assert again.duplicate
    # Reconciliation reads both systems the same way and finds them agreeing.
    reconciler = Reconciler(runtime)
    for rule in ("invoices", "contracts"):
        result = reconciler.run(rule)
        assert result is not None and result.status == "clean", result.report
