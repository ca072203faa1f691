"""A payment or a failed collection does not send NetSuite an invoice it already has, and still
creates the invoice when its finalized event never arrived."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import pytest

from syncwright.connectors.stripe.inbound import MAPPED_EVENT_TYPES
from syncwright.demo.billing_world import BillingWorld, start_billing_world
from syncwright.demo.stripe_netsuite import compare, drive_scenario

CUSTOMERS = 6  # customer 4 fails to pay: one dunning run among the payments


@pytest.fixture
def world(tmp_path: Path) -> Iterator[BillingWorld]:
    started = start_billing_world(tmp_path / "world", poll_interval=3600)
    try:
        yield started
    finally:
        started.close()


def _steps_by_workflow(world: BillingWorld) -> dict[str, list[set[str]]]:
    """Workflow name -> the step names of each of its runs, from the ledger."""
    assert world.runtime is not None
    runs: dict[tuple[str, str], set[str]] = defaultdict(set)
    for entry in world.runtime.ledger.recent(limit=100_000):
        if entry.workflow and entry.workflow_id:
            runs[(entry.workflow, entry.workflow_id)].add(entry.step)
    grouped: dict[str, list[set[str]]] = defaultdict(list)
    for (workflow, _), steps in runs.items():
        grouped[workflow].append(steps)
    return grouped


def _subscribe_endpoint(world: BillingWorld, events: list[str]) -> None:
    for endpoint in world.stripe.v1.webhook_endpoints.list().data:
        world.stripe.v1.webhook_endpoints.update(endpoint.id, {"enabled_events": events})


def test_invoices_already_in_netsuite_are_not_sent_again(world: BillingWorld) -> None:
    world.start_syncwright(poll=False)
    scenario = drive_scenario(world, CUSTOMERS)
    world.wait_settled(300)  # generous: a loaded CI machine slows NetSuite retries
    assert compare(world, scenario).problems == []
    runs = _steps_by_workflow(world)
    follow_ups = runs["invoice.paid_in_erp"] + runs["invoice.dunning_in_erp"]
    assert len(runs["invoice.dunning_in_erp"]) >= 1 and len(runs["invoice.paid_in_erp"]) >= 5
    for steps in follow_ups:
        assert "netsuite.invoice_known" in steps
        assert "netsuite.upsert_invoice" not in steps, steps


def test_a_missed_finalized_event_still_gets_the_invoice_written(world: BillingWorld) -> None:
    _subscribe_endpoint(world, [t for t in MAPPED_EVENT_TYPES if t != "invoice.finalized"])
    world.start_syncwright(poll=False)
    scenario = drive_scenario(world, CUSTOMERS)
    world.wait_settled(300)  # generous: a loaded CI machine slows NetSuite retries
    assert compare(world, scenario).problems == []  # every invoice is in NetSuite
    runs = _steps_by_workflow(world)
    assert "invoice.finalize_in_erp" not in runs
    follow_ups = runs["invoice.paid_in_erp"] + runs["invoice.dunning_in_erp"]
    assert follow_ups
    assert all("netsuite.upsert_invoice" in steps for steps in follow_ups)
