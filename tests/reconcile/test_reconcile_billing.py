"""Reconciliation over the Stripe and NetSuite emulators: a clean sync reconciles clean; records
corrupted directly in the emulators (ERP invoice deleted, ERP amount changed, subscription
cancelled in Stripe without its webhook) are each found as drift, healed through the normal
pipeline, and gone on the next run -- checked in NetSuite's own records as well."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from syncwright.demo.billing_world import BillingWorld, start_billing_world
from syncwright.demo.stripe_netsuite import Scenario, drive_scenario
from syncwright.reconcile import Reconciler
from syncwright.sandbox.stripe import WebhookFaults

RULES = """
reconciliation:
  - {name: invoices, check: invoices, schedule: 1h, compare: [stripe, netsuite], heal: true}
  - {name: contracts, check: subscriptions, schedule: 1h, compare: [stripe, netsuite]}
"""


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[BillingWorld, Scenario]]:
    started = start_billing_world(tmp_path / "world")
    started.settings_args["extra_sections"] = RULES
    try:
        # No polling: the Stripe events poller would heal a dropped webhook by itself, and this
        # test is about what reconciliation finds and heals.
        started.start_syncwright(poll=False)
        scenario = drive_scenario(started, customers=8, seed=3)
        started.wait_settled(timeout=120)
        yield started, scenario
    finally:
        started.close()


def _cli(world: BillingWorld, *args: str) -> tuple[int, dict[str, Any]]:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "syncwright",
            "reconcile",
            *args,
            "--config",
            str(world.config_path),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return done.returncode, json.loads(done.stdout)


def _ns_invoice(world: BillingWorld, global_id: str) -> dict[str, Any] | None:
    return world.netsuite.state.find_by_external_id("invoice", global_id)


def test_a_clean_sync_reconciles_clean_with_totals(world: tuple[BillingWorld, Scenario]) -> None:
    billing, _scenario = world
    code, output = _cli(billing, "--json")
    assert code == 0, output
    runs = {run["rule"]: run for run in output["runs"]}
    assert set(runs) == {"invoices", "contracts"}
    invoices = runs["invoices"]["report"]
    assert invoices["counts"]["drift"] == 0 and invoices["counts"]["source"] > 0
    assert invoices["counts"]["source"] == invoices["counts"]["target"]
    # Totals per currency: the scenario bills in USD and GBP, and both sides agree.
    currencies = {t["currency"] for t in invoices["totals"]}
    assert currencies == {"USD", "GBP"}
    assert all(
        t["difference"] == 0 and t["source_count"] == t["target_count"] for t in invoices["totals"]
    )
    assert runs["contracts"]["report"]["counts"]["drift"] == 0


def test_drift_made_in_the_emulators_is_found_healed_and_gone(
    world: tuple[BillingWorld, Scenario],
) -> None:
    billing, scenario = world
    assert billing.runtime is not None
    xref = billing.runtime.xref
    stripe = billing.stripe.v1
    paid = [
        inv
        for customer in scenario.customers
        for inv in stripe.invoices.list({"customer": customer, "status": "paid"}).data
    ]
    open_ = [
        inv
        for customer in scenario.customers
        for inv in stripe.invoices.list({"customer": customer, "status": "open"}).data
    ]
    assert paid and open_, "the scenario has paid and open (failed payment) invoices"
    deleted_gid = xref.global_id_for("invoice", "stripe", open_[0].id)
    changed_gid = xref.global_id_for("invoice", "stripe", paid[0].id)
    assert deleted_gid and changed_gid

    # 1. An ERP invoice deleted in NetSuite; 2. another one's amount changed there.
    ns = billing.netsuite.state
    deleted = _ns_invoice(billing, deleted_gid)
    assert deleted is not None
    ns.delete("invoice", str(deleted["id"]))
    changed = _ns_invoice(billing, changed_gid)
    assert changed is not None
    right_total = changed["total"]
    with ns.lock:  # an edit made by hand in NetSuite, straight into the emulator's records
        stored = ns.raw("invoice", str(changed["id"]))
        assert stored is not None
        stored["total"] = float(right_total) + 12.34
    # 3. A subscription cancelled in Stripe whose webhook never arrives.
    live = next(
        s
        for s in scenario.subscriptions
        if s not in scenario.cancelled and stripe.subscriptions.retrieve(s).status == "active"
    )
    billing.stripe_state.configure_webhooks(WebhookFaults(drop_rate=1.0))
    stripe.subscriptions.cancel(live)
    billing.stripe_state.drain_webhooks(5)
    billing.stripe_state.configure_webhooks(WebhookFaults())
    order_gid = xref.global_id_for("subscription", "stripe", live)
    assert order_gid is not None

    reconciler = Reconciler(billing.runtime)
    found = reconciler.run("invoices", heal=True)
    assert found is not None and found.status == "drift"
    drift = {d["key"]: d for d in found.report["drift"]}
    assert drift[deleted_gid]["kind"] == "missing"
    assert drift[changed_gid]["kind"] == "different"
    (amount,) = drift[changed_gid]["fields"]
    assert amount["field"] == "total" and amount["target"] == amount["source"] + 1234
    assert drift[deleted_gid]["healed"] and drift[changed_gid]["healed"]
    assert found.report["counts"]["drift"] == 2

    contracts = reconciler.run("contracts", heal=True)
    assert contracts is not None and contracts.status == "drift"
    (cancelled,) = contracts.report["drift"]
    assert cancelled["key"] == order_gid and cancelled["kind"] == "different"
    assert cancelled["fields"] == [{"field": "active", "source": False, "target": True}]

    billing.wait_settled(timeout=120)

    # NetSuite's own records are right again ...
    restored = _ns_invoice(billing, deleted_gid)
    assert restored is not None and restored["id"] != deleted["id"]
    assert float(restored["total"]) == float(deleted["total"])
    fixed = _ns_invoice(billing, changed_gid)
    assert fixed is not None and float(fixed["total"]) == float(right_total)
    order = billing.netsuite.state.find_by_external_id("salesOrder", order_gid)
    assert order is not None
    assert all(line.get("isClosed") for line in order["item"])
    # ... and the next runs find nothing.
    code, output = _cli(billing, "--json")
    assert code == 0, output
    assert [run["report"]["counts"]["drift"] for run in output["runs"]] == [0, 0]
    # Every run is stored with its drift.
    history = reconciler.runs.list(rule="invoices")
    assert [r.status for r in history][:2] == ["clean", "drift"]
    assert history[1].drift_count == 2
