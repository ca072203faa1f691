"""Stripe Billing -> NetSuite end to end, over both emulators and real HTTP: duplicate,
reordered and dropped webhooks, 5 % NetSuite faults under a concurrency limit of 5, and a
business rejection fixed by an operator. NetSuite must end with exactly Stripe's records."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from syncwright.demo.billing_world import BillingWorld, start_billing_world
from syncwright.demo.stripe_netsuite import (
    UNMAPPED_ENTITY,
    Comparison,
    Scenario,
    compare,
    drive_scenario,
)
from syncwright.sandbox import FaultPlan
from syncwright.sandbox.stripe import WebhookFaults

CUSTOMERS = 24


@pytest.fixture
def world(tmp_path: Path) -> Iterator[BillingWorld]:
    started = start_billing_world(
        tmp_path / "world",
        netsuite_concurrency=5,
        netsuite_faults=FaultPlan(
            error_5xx_rate=0.03, lost_response_rate=0.02, stall_seconds=3.0, seed=21
        ),
        ns_timeout=2.0,
        poll_interval=1.0,
    )
    try:
        yield started
    finally:
        started.close()


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


def _compare(world: BillingWorld, scenario: Scenario) -> Comparison:
    """Compare with NetSuite's faults off: they are there for the sync, and a verification read
    that met an injected 500 would fail the test for the wrong reason."""
    plan = world.netsuite.faults.plan
    world.netsuite.configure_faults(FaultPlan())
    try:
        return compare(world, scenario)
    finally:
        world.netsuite.configure_faults(plan)


def test_erp_ends_with_exactly_stripes_records(world: BillingWorld) -> None:
    world.stripe_state.configure_webhooks(
        WebhookFaults(duplicate_rate=0.3, shuffle_window=5, drop_rate=0.1, seed=9)
    )
    runtime = world.start_syncwright()
    scenario = drive_scenario(world, CUSTOMERS, unmapped=2)
    world.wait_settled(300)

    # The two customers of an unmapped legal entity are parked with guidance, nothing partial.
    parked = runtime.exceptions.list(status="open")
    assert len(parked) == 2
    assert {r.code for r in parked} == {"netsuite.unmapped_subsidiary"}
    assert all("options.subsidiaries" in r.remediation for r in parked)
    interim = _compare(world, scenario)
    assert interim.problems == [] and interim.duplicates == 0

    # The operator maps the entity, restarts syncwright and retries from the command line.
    world.stop_syncwright()
    world.wait_netsuite_idle()
    world.extra_subsidiaries[UNMAPPED_ENTITY] = 1
    runtime = world.start_syncwright()
    for record in parked:
        assert _cli(world, "exceptions", "retry", record.id)["status"] == "retrying"
    world.wait_settled(300)
    assert runtime.exceptions.count_open() == 0

    scenario.unmapped.clear()
    final = _compare(world, scenario)
    assert final.problems == [], final.problems
    assert final.duplicates == 0
    assert final.counts["customers"] == (CUSTOMERS, CUSTOMERS)
    assert final.amounts_checked >= CUSTOMERS
    stats = world.netsuite.stats()
    assert stats["breaches"] == 0
    assert stats["max_in_flight_observed"] <= 5
    injected = stats["faults_injected"]
    assert injected["error_5xx"] + injected["lost_response"] > 0  # the faults really happened
    deliveries = world.stripe_state.webhook_deliveries()
    assert any(d.duplicate and d.outcome == "delivered" for d in deliveries)
    assert any(d.outcome == "dropped" for d in deliveries)  # healed by polling
    assert runtime.inbox.count() == runtime.inbox.count("dispatched")  # nothing lost or stuck


def test_trace_follows_one_customer_across_both_systems(world: BillingWorld) -> None:
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
