"""Business and technical telemetry of quote-to-cash over the four emulators, scraped from the
API's /metrics: a deal parked on the ERP's validation is an order awaiting ERP validation until
the fix; onboarding fills the latency histograms and the NetSuite limiter's counters."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from syncwright.demo.quote_to_cash import (
    QuoteToCashWorld,
    close_deals,
    start_quote_to_cash_world,
    wait_onboarded,
)
from syncwright.exceptions import ExceptionService
from syncwright.ledger import LedgerEntry
from syncwright.sandbox import FaultPlan
from syncwright.sandbox.stripe._billing import sub_period
from syncwright.sandbox.stripe._clock import run_due
from syncwright.telemetry.business import RENEWAL_TO_CRM
from tests._support import wait_until
from tests.telemetry._metrics import Samples, value
from tests.telemetry._metrics import scrape as scrape_url


@pytest.fixture
def world(tmp_path: Path) -> Iterator[QuoteToCashWorld]:
    started = start_quote_to_cash_world(tmp_path / "q2c")
    try:
        yield started
    finally:
        started.close()


def scrape(world: QuoteToCashWorld) -> Samples:
    assert world.billing.api is not None
    return scrape_url(world.billing.api.url)


def test_order_awaits_erp_validation_until_fixed(world: QuoteToCashWorld) -> None:
    runtime = world.billing.start_syncwright()
    assert value(scrape(world), "syncwright_orders_awaiting_erp_validation") == 0
    [deal] = close_deals(world, 1, country="BR")  # the US parent cannot tax Brazil
    wait_onboarded(world, [deal])
    parked = scrape(world)
    assert value(parked, "syncwright_orders_awaiting_erp_validation") == 1
    assert (
        value(parked, "syncwright_workflow_runs_open", workflow="deal.onboard", state="running")
        == 1
    )
    validate = {"workflow": "deal.onboard", "connection": "none", "action": "validate.master_data"}
    assert value(parked, "syncwright_step_duration_seconds_count", **validate, outcome="business")

    world.sdk().update("Account", deal.account, {"BillingCountry": "US"})
    engine = world.billing.engine
    assert engine is not None
    service = ExceptionService(
        runtime.exceptions, runtime.inbox, engine, ledger=runtime.ledger, audit=runtime.audit
    )
    for record in runtime.exceptions.list(status="open"):
        service.retry(record.id, actor="test")
    wait_onboarded(world, [deal])

    done = scrape(world)
    assert value(done, "syncwright_orders_awaiting_erp_validation") == 0
    assert value(done, "syncwright_subscriptions_pending_activation") == 0
    assert value(done, "syncwright_step_duration_seconds_count", **validate, outcome="ok") == 1
    onboard = {"workflow": "deal.onboard"}
    assert value(done, "syncwright_workflow_runs_total", **onboard, status="completed") == 1
    assert value(done, "syncwright_sync_latency_seconds_count", **onboard) == 1
    assert value(done, "syncwright_sync_latency_seconds_sum", **onboard) > 0
    # NetSuite's account-wide concurrency limit, as this process holds it.
    assert value(done, "syncwright_limiter_limit", connection="netsuite") == 5
    assert value(done, "syncwright_limiter_in_flight", connection="netsuite") == 0
    assert (
        "syncwright_limiter_waits_total",
        (("connection", "netsuite"), ("limiter", "concurrency")),
    ) in done


def test_renewal_is_not_in_the_crm_until_written(world: QuoteToCashWorld) -> None:
    runtime = world.billing.start_syncwright()
    [deal] = close_deals(world, 1)
    wait_onboarded(world, [deal])
    assert value(scrape(world), "syncwright_renewals_not_in_crm") == 0

    # Someone edits the contract value in the CRM: the renewal has something to write there
    # (CRM updates send only what differs, so an unchanged account would get no write at all).
    world.sdk().update("Account", deal.account, {"ACV__c": 1})
    # Salesforce refuses writes for now; then the subscription's period ends in Stripe.
    world.sf_faults.plan = FaultPlan(error_5xx_rate=1.0)
    stripe = world.billing.stripe_state
    with stripe.lock:
        [sub] = stripe.objects["subscription"].values()
        _start, end = sub_period(stripe, sub)
        run_due(stripe, None, end + 1)  # what the passing of time does in the emulator
    stripe.drain_webhooks(10)

    def crm_attempts(outcome: str) -> list[LedgerEntry]:
        return [
            e
            for e in runtime.ledger.recent(500)
            if e.workflow == RENEWAL_TO_CRM
            and e.step == "salesforce.update_account_billing"
            and e.outcome == outcome
        ]

    wait_until(lambda: bool(crm_attempts("transient")), what="a refused CRM write")
    assert value(scrape(world), "syncwright_renewals_not_in_crm") == 1
    world.sf_faults.plan = FaultPlan()
    wait_until(lambda: bool(crm_attempts("ok")), timeout=120, what="the CRM write")
    wait_until(
        lambda: value(scrape(world), "syncwright_renewals_not_in_crm") == 0, what="the run's end"
    )
    account = world.sdk().get("Account", deal.account)
    assert account["Subscription_Status__c"] == "Active" and account["ACV__c"] > 0
