"""A scripted year in the life of customers over the four emulators, faults injected in
Salesforce and NetSuite: seat upgrades and downgrades every month, prorated mid-term as Stripe
computes them, a cancellation now and one at a period's end, a failed payment recovered the
next month and one still failing at the end, twelve renewals. At the end every system agrees,
read from each emulator's own records.

Time is Stripe's: once onboarded, each customer is put on its own test clock (test clock
create's ``customer``), amended in the middle of each period with ``proration_behavior:
create_prorations`` and advanced past the period's end, so each renewal invoice carries that
month's prorations and the ERP's invoice has the same lines and total.

The number of customers is ``SYNCWRIGHT_YEAR_CUSTOMERS`` (default 8, what fits the test budget;
the issue's scale is 100: docs/lifecycle.md says what a year of 100 costs).
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
import stripe as stripe_sdk

from syncwright.demo.quote_to_cash import (
    CATALOG,
    QuoteToCashWorld,
    close_deals,
    wait_onboarded,
)
from syncwright.sandbox import FaultPlan
from tests.e2e import _lifecycle as lc

CUSTOMERS = max(4, int(os.environ.get("SYNCWRIGHT_YEAR_CUSTOMERS", "8")))
MONTHS = 12
HOUR = 3600

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[QuoteToCashWorld]:
    with lc.lifecycle_world(
        tmp_path_factory.mktemp("year"),
        salesforce_faults=FaultPlan(error_5xx_rate=0.03, seed=3),
        netsuite_faults=FaultPlan(error_5xx_rate=0.02, lost_response_rate=0.01, seed=4),
    ) as started:
        yield started


def _pay_open(world: QuoteToCashWorld, customer: str, *, fail: bool) -> None:
    stripe = world.billing.stripe.v1
    world.billing.stripe_state.set_payment_behaviour(customer, "fail" if fail else "succeed")
    for invoice in stripe.invoices.list({"customer": customer, "status": "open"}).data:
        if fail:
            with pytest.raises(stripe_sdk.CardError):
                stripe.invoices.pay(invoice.id)
        else:
            stripe.invoices.pay(invoice.id)


def _period(stripe: Any, subscription: str) -> tuple[int, int]:
    item = stripe.subscriptions.retrieve(subscription)["items"]["data"][0]
    return int(item["current_period_start"]), int(item["current_period_end"])


def _prorated(invoice: Any) -> bool:
    return any(lc.prorated(line) for line in invoice.to_dict()["lines"]["data"])


def test_a_year_of_lifecycle_events_leaves_every_system_agreeing(world: QuoteToCashWorld) -> None:
    stripe = world.billing.stripe.v1
    deals = close_deals(world, CUSTOMERS, seed=77, start=100)
    wait_onboarded(world, deals, timeout=lc.SETTLE)
    lc.settle(world)
    ids = {deal.opportunity: lc.ids(world, deal) for deal in deals}
    subs = {deal.opportunity: ids[deal.opportunity][2] for deal in deals}
    customers = {o: str(stripe.subscriptions.retrieve(s).customer) for o, s in subs.items()}
    # From here on each customer lives on its own Stripe test clock.
    starting = int(time.time()) + 60
    clocks = {
        o: stripe.test_helpers.test_clocks.create({"frozen_time": starting, "customer": c}).id
        for o, c in customers.items()
    }
    now, at_end, recovers, ends_in_dunning = (deal.opportunity for deal in deals[:4])
    live = {deal.opportunity for deal in deals}
    rng = random.Random(2026)

    def advance(opportunity: str, to: int) -> None:
        stripe.test_helpers.test_clocks.advance(clocks[opportunity], {"frozen_time": to})

    for month in range(1, MONTHS + 1):
        periods = {o: _period(stripe, subs[o]) for o in live}
        for opportunity, (start, end) in periods.items():  # the middle of this period
            advance(opportunity, start + (end - start) // 2)
        if month == 1:  # leaves now; finance credits half of its open first invoice
            stripe.subscriptions.cancel(subs[now])
            first = stripe.invoices.list({"subscription": subs[now]}).data[-1]
            stripe.credit_notes.create({"invoice": first.id, "amount": first.amount_remaining // 2})
            live.discard(now)
        if month == 6:  # asks to leave when the paid period ends
            stripe.subscriptions.update(subs[at_end], {"cancel_at_period_end": True})
        for opportunity in sorted(live):
            seats = lc.item(stripe.subscriptions.retrieve(subs[opportunity]), world, "Seats")
            change = rng.choice((-2, -1, 0, 0, 1, 3))
            if change and seats["quantity"] + change >= 1:
                stripe.subscriptions.update(
                    subs[opportunity],
                    {
                        "items": [{"id": seats["id"], "quantity": seats["quantity"] + change}],
                        "proration_behavior": "create_prorations",
                    },
                )
            failing = (opportunity == recovers and month == 4) or (
                opportunity == ends_in_dunning and month == MONTHS
            )
            _pay_open(world, customers[opportunity], fail=failing)
        lc.settle(world)
        # The period ends: renewals with this month's prorations, finalized and charged an
        # hour later (and the cancellation at period end, in month 6).
        for opportunity in sorted(live):
            advance(opportunity, periods[opportunity][1] + 2 * HOUR)
        if month == 6:
            live.discard(at_end)
        lc.settle(world)

    erp = lc.erp_documents(world)
    for deal in deals:
        account_id, subscription_id, sub_id = ids[deal.opportunity]
        sub = stripe.subscriptions.retrieve(sub_id)
        record = lc.crm(world, deal)
        owed = lc.balance(world, customers[deal.opportunity])
        assert lc.money(record["Balance_Due__c"]) == owed, deal.opportunity
        if deal.opportunity not in live:
            assert sub.status == "canceled"
            assert record["Subscription_Status__c"] == "Cancelled"
            assert lc.money(record["ACV__c"]) == 0
            assert lc.tier(world, account_id) == "none"
            lines = erp.order_lines(subscription_id)
            assert lines and all(line["isclosed"] == "T" for line in lines)
            continue
        items = sub["items"]["data"]
        monthly = sum(i["quantity"] * i["price"]["unit_amount"] for i in items)
        assert lc.money(record["ACV__c"]) == Decimal(monthly * 12) / 100, deal.opportunity
        assert record["Subscription_Status__c"] == "Active"
        assert record["Renewal_Date__c"] == str(lc.period_end(sub))
        open_lines = [line for line in erp.order_lines(subscription_id) if line["isclosed"] != "T"]
        quantities = sorted(int(Decimal(line["quantity"])) for line in open_lines)
        assert quantities == sorted(i["quantity"] for i in items), deal.opportunity
        in_dunning = deal.opportunity == ends_in_dunning
        assert record["Account_Standing__c"] == ("Suspended" if in_dunning else "Current")
        assert lc.tier(world, account_id) == ("none" if in_dunning else "premium")
    # Every invoice Stripe issued is in the ERP with Stripe's lines and total; the renewals
    # carry the month's prorations.
    prorated = 0
    for opportunity, customer in customers.items():
        for invoice in stripe.invoices.list({"customer": customer, "limit": 100}).data:
            if invoice.status not in ("open", "paid"):
                continue
            booked = erp.invoice(invoice.id)
            assert booked is not None, (opportunity, invoice.id)
            assert booked.total == Decimal(invoice.total) / 100, (opportunity, invoice.id)
            amounts = sorted(Decimal(line.amount) / 100 for line in invoice.lines.data)
            assert booked.line_amounts == amounts, (opportunity, invoice.id)
            prorated += _prorated(invoice)
    assert prorated >= CUSTOMERS  # about half the customers change seats in a month
    assert CATALOG["Platform"][1] == "premium"  # the tier every live customer keeps
