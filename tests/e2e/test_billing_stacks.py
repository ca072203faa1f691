"""Subscription billing -> ERP on three stacks -- the default (Stripe, NetSuite), the second
(Chargebee, Business Central) and a mixed one (Stripe, Business Central) -- over real HTTP, with
faults: the billing system redelivers, reorders or drops webhooks (polling heals the drops),
its API (Chargebee) and the ERP throw 5xx and lose responses. Customers subscribe, upgrade mid
-term, fail a payment, get a credit note, renew (Chargebee) and cancel.

The ERP must end with exactly the billing system's customers, contracts, invoices (amounts,
paid ones settled), payments and credit memos -- once each, each side read from its emulator's
own API (``billing_books.compare_books``) -- and reconciliation must find the two agreeing.
On NetSuite two customers of a legal entity it cannot place park with remediation until the
operator maps it, restarts syncwright and retries from the command line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from syncwright.connectors.business_central.connector import BusinessCentralConnector
from syncwright.demo._faults import faults_paused
from syncwright.demo.billing_books import Comparison, Scenario, compare_books
from syncwright.demo.billing_demo import start_sides
from syncwright.demo.billing_side import BillingSide, ChargebeeBilling
from syncwright.demo.billing_world import BillingWorld, start_billing_world
from syncwright.demo.erp_side import BusinessCentralErp, ErpSide
from syncwright.demo.stack import Stack, parse_stack
from syncwright.demo.stripe_netsuite import UNMAPPED_ENTITY, drive_scenario
from syncwright.reconcile import Reconciler
from syncwright.runtime import Runtime
from syncwright.sandbox import FaultPlan
from syncwright.sandbox.stripe import WebhookFaults

STACKS = {
    "default": "stripe,netsuite",
    "second": "chargebee,business-central",
    "mixed": "stripe,business-central",
}
CUSTOMERS = 8  # every branch of the story: upgrade, failed payment, credit, renewal, cancel

RULES = """
reconciliation:
  - {{name: invoices, check: invoices, schedule: 1h, compare: [{billing}, {erp}]}}
  - {{name: contracts, check: subscriptions, schedule: 1h, compare: [{billing}, {erp}]}}
"""


def _cli(world: BillingWorld, *args: str) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-m", "syncwright", *args, "--config", str(world.config_path), "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    result: dict[str, object] = json.loads(done.stdout)
    return result


def _compare(
    world: BillingWorld, stack: Stack, billed: BillingSide, erp: ErpSide, scenario: Scenario
) -> Comparison:
    """With the faults off: they are there for the sync, and a verification read that met an
    injected 500 would fail the test for the wrong reason."""
    with faults_paused(erp, billed):
        return compare_books(world, stack.billing, billed.expected(scenario), erp)


def _operator_fixes_the_entity(world: BillingWorld, runtime: Runtime) -> Runtime:
    parked = runtime.exceptions.list(status="open")
    assert len(parked) == 2
    assert {r.code for r in parked} == {"netsuite.unmapped_subsidiary"}
    assert all("options.subsidiaries" in r.remediation for r in parked)
    world.stop_syncwright()
    world.wait_netsuite_idle()
    world.extra_subsidiaries[UNMAPPED_ENTITY] = 1
    runtime = world.start_syncwright()
    for record in parked:
        assert _cli(world, "exceptions", "retry", record.id)["status"] == "retrying"
    world.wait_settled(300)
    return runtime


@pytest.mark.parametrize("text", list(STACKS.values()), ids=list(STACKS))
def test_the_erp_ends_with_exactly_the_billing_systems_records(tmp_path: Path, text: str) -> None:
    stack = parse_stack(text)
    # Seeded so that the fifth write draws a fault: every stack writes more than five.
    erp_faults = FaultPlan(error_5xx_rate=0.05, lost_response_rate=0.05, stall_seconds=2, seed=12)
    world = start_billing_world(
        tmp_path / "world",
        netsuite_faults=erp_faults if stack.erp == "netsuite" else None,
        ns_timeout=2.0,
        poll_interval=1.0,
    )
    try:
        billed, erp = start_sides(world, stack, erp_faults, FaultPlan(error_5xx_rate=0.08, seed=6))
        world.settings_args["extra_sections"] = RULES.format(billing=stack.billing, erp=stack.erp)
        world.stripe_state.configure_webhooks(
            WebhookFaults(duplicate_rate=0.3, shuffle_window=5, drop_rate=0.1, seed=9)
        )
        if isinstance(billed, ChargebeeBilling):
            billed.state.webhooks.drop_next = 2
        runtime = world.start_syncwright()
        on_netsuite = stack.erp == "netsuite"
        scenario = billed.drive(CUSTOMERS, unmapped=2 if on_netsuite else 0)
        world.wait_settled(300)

        if on_netsuite:
            interim = _compare(world, stack, billed, erp, scenario)
            assert interim.problems == [] and interim.duplicates == 0
            runtime = _operator_fixes_the_entity(world, runtime)
            scenario.unmapped.clear()
        assert runtime.exceptions.count_open() == 0, [
            (r.code, r.message) for r in runtime.exceptions.list(status="open")
        ]
        final = _compare(world, stack, billed, erp, scenario)
        assert final.problems == [], final.problems
        assert final.duplicates == 0
        assert final.counts["customers"] == (CUSTOMERS, CUSTOMERS)
        assert final.amounts_checked >= CUSTOMERS
        assert final.counts["payments"][0] > 0 and final.counts["credit memos"][0] > 0
        assert runtime.inbox.count() == runtime.inbox.count("dispatched")  # none lost or stuck

        # The faults really happened, on this stack's vendors.
        injected = erp.faults_injected()
        assert injected["error_5xx"] + injected["lost_response"] > 0, injected
        billing_faults = billed.faults_injected()
        if isinstance(billed, ChargebeeBilling):
            assert billing_faults["error_5xx"] > 0 and billing_faults["dropped_webhooks"] == 2
            # The intake took Chargebee's basic-auth webhooks (none refused) ...
            outcomes = {(r.outcome, r.status_code) for r in billed.state.webhooks.records}
            assert ("delivered", 200) in outcomes and not any(o == "failed" for o, _ in outcomes)
            # ... and a dropped event came in through polling; landing it again is a duplicate.
            dropped = next(r for r in billed.state.webhooks.records if r.outcome == "dropped")
            again = runtime.inbox.accept(
                connection="chargebee",
                vendor_event_id=dropped.event_id,
                event_type=dropped.event_type,
                body="{}",
            )
            assert again.duplicate
        else:
            assert billing_faults["duplicate_webhooks"] > 0 and billing_faults["dropped_webhooks"]
        if on_netsuite:
            stats = world.netsuite.stats()
            assert stats["breaches"] == 0 and stats["max_in_flight_observed"] <= 5

        # Reconciliation reads both systems the same way and finds them agreeing.
        with faults_paused(erp, billed):
            reconciler = Reconciler(runtime)
            for rule in ("invoices", "contracts"):
                result = reconciler.run(rule)
                assert result is not None and result.status == "clean", result
                assert result.report["counts"]["source"] > 0
            if isinstance(erp, BusinessCentralErp):
                # the first customer's subscription: paid, never cancelled
                first = scenario.subscriptions[0]
                _closed_order_lines_are_drift(runtime, reconciler, erp, stack.billing, first)
    finally:
        world.close()


def _closed_order_lines_are_drift(
    runtime: Runtime, reconciler: Reconciler, erp: BusinessCentralErp, billing: str, sub: str
) -> None:
    """An order whose lines were closed in Business Central while its subscription ``sub``
    lives on in billing is drift."""
    gid = runtime.xref.global_id_for("subscription", billing, sub)
    assert gid is not None
    [order] = [
        order
        for order in erp.rows("salesOrders")
        if order.get("externalDocumentNumber") == erp.key(gid, "document")
    ]
    connector = runtime.connection("business_central")
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


def test_trace_follows_one_stripe_customer_across_both_systems(tmp_path: Path) -> None:
    world = start_billing_world(tmp_path / "world", ns_timeout=2.0, poll_interval=1.0)
    try:
        _trace_one_customer(world)
    finally:
        world.close()


def _trace_one_customer(world: BillingWorld) -> None:
    world.start_syncwright()
    scenario = drive_scenario(world, 6)
    world.wait_settled(120)
    customer = scenario.customers[3]  # n % 7 == 3: subscribed, paid, credited
    trace = _cli(world, "trace", customer)
    systems = trace["systems"]
    assert isinstance(systems, dict)
    assert customer in systems["stripe"]
    assert any(i.startswith("in_") for i in systems["stripe"])
    assert any(i.startswith("cn_") for i in systems["stripe"])
    assert len(systems["netsuite"]) >= 4  # customer, sales order, invoice, payment, credit memo
    steps = {entry["step"] for entry in trace["ledger"]}  # type: ignore[attr-defined]
    assert {"netsuite.upsert_sales_order", "netsuite.apply_payment"} <= steps
