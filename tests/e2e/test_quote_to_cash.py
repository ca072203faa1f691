"""Quote-to-cash over four emulators: a deal closed-won in Salesforce becomes a validated
NetSuite customer and sales order, a live Stripe subscription, CRM visibility and a Zendesk
entitlement -- in order, or a governed pause, never partial state."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from syncwright.demo.quote_to_cash import (
    CATALOG,
    Deal,
    QuoteToCashWorld,
    check_deals,
    close_deals,
    start_quote_to_cash_world,
    wait_onboarded,
)
from syncwright.exceptions import ExceptionService
from syncwright.store.tables import inbox
from syncwright.trace import build_trace

#: Deals won at once in the burst test.
BURST = 80


@pytest.fixture
def world(tmp_path: Path) -> Iterator[QuoteToCashWorld]:
    started = start_quote_to_cash_world(tmp_path / "q2c")
    try:
        yield started
    finally:
        started.close()


def _retry_open(world: QuoteToCashWorld) -> None:
    runtime, engine = world.billing.runtime, world.billing.engine
    assert runtime is not None and engine is not None
    service = ExceptionService(runtime.exceptions, runtime.inbox, engine, ledger=runtime.ledger)
    for record in runtime.exceptions.list(status="open"):
        service.retry(record.id, actor="test")


def test_happy_path_one_trace_across_four_systems_and_no_loop(world: QuoteToCashWorld) -> None:
    runtime = world.billing.start_syncwright()
    deals = close_deals(world, 4)
    wait_onboarded(world, deals)
    check = check_deals(world, deals)
    assert check.problems == [] and check.onboarded == 4 and check.duplicates == 0

    # One deal, one correlation id, every system.
    account_id = runtime.xref.global_id_for("account", "salesforce", deals[0].account)
    correlation = next(
        e.correlation_id
        for e in runtime.ledger.for_entity(f"account:{account_id}")
        if e.workflow == "deal.onboard"
    )
    trace = build_trace(runtime, correlation)
    steps = [e["step"] for e in trace["ledger"]]
    assert "validate.master_data" in steps and "zendesk.upsert_entitlement" in steps
    assert {"salesforce", "netsuite", "stripe", "zendesk"} <= set(trace["systems"])

    # Our own CRM writes came back through CDC and started nothing (echo suppression).
    with runtime.db.engine.connect() as conn:
        rows = list(conn.execute(inbox.select().where(inbox.c.connection == "salesforce")))
    echoes = [
        r
        for r in rows
        if "client=syncwright" in json.loads(r.body)["payload"]["ChangeEventHeader"]["changeOrigin"]
    ]
    assert len(echoes) >= 4  # one Account update per onboarded deal
    started = set(world.billing.engine.statuses()) if world.billing.engine else set()
    for echo in echoes:
        assert echo.status == "dispatched"
        assert not any(w.startswith(f"wf-{echo.id:012d}-") for w in started)


def test_validation_failure_parks_before_any_downstream_write(world: QuoteToCashWorld) -> None:
    runtime = world.billing.start_syncwright()
    [deal] = close_deals(world, 1, country="BR")  # Parent Company (US) cannot tax Brazil
    wait_onboarded(world, [deal])
    [parked] = runtime.exceptions.list(status="open")
    assert parked.code == "onboarding.validation_failed" and parked.step == "validate.master_data"
    assert "tax" in parked.message.lower()
    check = check_deals(world, [deal])
    assert check.onboarded == 0
    # Nothing the onboarding owns was written: no sales order, subscription, entitlement.
    assert any("0 sales orders" in p for p in check.problems)
    assert any("Stripe subscriptions []" in p for p in check.problems)
    assert any("zendesk tier None" in p for p in check.problems)
    assert world.sdk().get("Account", deal.account)["Subscription_Status__c"] is None

    # The sales rep fixes the billing country in the CRM; the retry re-reads and finishes.
    world.sdk().update("Account", deal.account, {"BillingCountry": "US"})
    _retry_open(world)
    wait_onboarded(world, [deal])
    assert check_deals(world, [deal]).problems == []
    assert runtime.exceptions.count_open() == 0


def test_failure_after_downstream_writes_runs_the_compensations(tmp_path: Path) -> None:
    world = start_quote_to_cash_world(tmp_path / "q2c", zendesk_tier_field="no_such_field")
    try:
        runtime = world.billing.start_syncwright()
        [deal] = close_deals(world, 1)
        wait_onboarded(world, [deal])
        outcomes = [
            (e.step, e.outcome) for e in runtime.ledger.recent(5000) if e.workflow == "deal.onboard"
        ]
        assert ("zendesk.upsert_entitlement", "business") in outcomes
        for step in ("stripe.create_subscription", "netsuite.upsert_sales_order"):
            assert (f"{step}.compensate", "compensated") in outcomes, outcomes
        [record] = [r for r in runtime.exceptions.list() if r.code.startswith("zendesk.")]
        assert record.status == "resolved" and "rolled back" in (record.resolution or "")
        account_id = runtime.xref.global_id_for("account", "salesforce", deal.account)
        assert account_id is not None
        customer = runtime.xref.native_id_for("account", account_id, "stripe")
        subs = world.billing.stripe.v1.subscriptions.list(
            {"customer": customer, "status": "all"}
        ).data
        assert [s.status for s in subs] == ["canceled"]
        assert world.sdk().get("Account", deal.account)["Subscription_Status__c"] == "Cancelled"
    finally:
        world.close()


def test_a_burst_of_deals_at_once_with_faults(tmp_path: Path) -> None:
    """Eighty deals won at once (the suite's time budget; the demo runs up to 200) through
    NetSuite errors, lost responses and stalls, Salesforce errors and duplicated, reordered
    Stripe webhooks: each onboarded exactly once."""
    from syncwright.sandbox import FaultPlan
    from syncwright.sandbox.stripe import WebhookFaults

    world = start_quote_to_cash_world(
        tmp_path / "q2c",
        netsuite_faults=FaultPlan(
            error_5xx_rate=0.03, lost_response_rate=0.02, stall_seconds=3.0, seed=4
        ),
        salesforce_faults=FaultPlan(error_5xx_rate=0.03, seed=5, only_methods=frozenset({"PATCH"})),
    )
    try:
        world.billing.stripe_state.configure_webhooks(
            WebhookFaults(duplicate_rate=0.2, shuffle_window=4, seed=6)
        )
        runtime = world.billing.start_syncwright()
        deals = close_deals(world, BURST)
        wait_onboarded(world, deals, 600)
        # The faults were for the sync; a verification read that met one would fail the test
        # for the wrong reason.
        world.billing.netsuite.configure_faults(FaultPlan())
        check = check_deals(world, deals)
        assert check.problems == [] and check.onboarded == BURST
        assert check.duplicates == 0
        assert runtime.exceptions.count_open() == 0
        stats = world.billing.netsuite.stats()
        assert stats["breaches"] == 0
        assert stats["faults_injected"]["error_5xx"] + stats["faults_injected"]["lost_response"] > 0
    finally:
        world.close()


def test_credit_hold_in_the_erp_parks_the_deal_until_released(world: QuoteToCashWorld) -> None:
    runtime = world.billing.start_syncwright()
    [first] = close_deals(world, 1)
    wait_onboarded(world, [first])
    account_id = runtime.xref.global_id_for("account", "salesforce", first.account)
    assert account_id is not None
    # Finance puts the (now existing) customer on credit hold in NetSuite.
    with world.billing.netsuite_client() as netsuite:
        customer = netsuite.get_by_external_id("customer", account_id)
        assert customer is not None
        netsuite.update("customer", str(customer["id"]), {"creditHoldOverride": "ON"})

    # A second deal for the same account: validation parks it, nothing new downstream.
    second = _second_deal_for(world, first)
    wait_onboarded(world, [second])
    [parked] = runtime.exceptions.list(status="open")
    assert parked.code == "onboarding.validation_failed" and "credit" in parked.message.lower()
    assert any("0 sales orders" in p for p in check_deals(world, [second]).problems)

    with world.billing.netsuite_client() as netsuite:
        netsuite.update("customer", str(customer["id"]), {"creditHoldOverride": "OFF"})
    _retry_open(world)
    wait_onboarded(world, [second])
    assert runtime.exceptions.count_open() == 0
    assert not any("sales orders" in p for p in check_deals(world, [second]).problems)


def _second_deal_for(world: QuoteToCashWorld, first: Deal) -> Deal:
    """The same customer buys more: a second opportunity on the same account, won."""
    sf = world.sdk()
    opportunity = sf.create(
        "Opportunity",
        {
            "Name": "Expansion",
            "AccountId": first.account,
            "StageName": "Negotiation/Review",
            "CloseDate": "2026-12-15",
        },
    )
    sf.create(
        "OpportunityLineItem",
        {
            "OpportunityId": opportunity,
            "PricebookEntryId": world.catalog["Platform"]["sf_entry"],
            "Quantity": 1,
            "UnitPrice": CATALOG["Platform"][0] / 100,
        },
    )
    sf.update("Opportunity", opportunity, {"StageName": "Closed Won"})
    return Deal(opportunity, first.account, 0, first.country)
