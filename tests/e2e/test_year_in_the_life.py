"""A scripted year in the life of a few customers over the four emulators, faults injected in
Salesforce and NetSuite: seat upgrades and downgrades every month, a cancellation now and one at
a period's end, a failed payment recovered the next month and one still failing at the end,
twelve renewals. At the end every system agrees, read from each emulator's own records.

The number of customers is ``SYNCWRIGHT_YEAR_CUSTOMERS`` (default 4, the issue's scale is 100);
mid-term changes are not prorated here (``proration_behavior: none``): a subscription that is
not on a Stripe test clock cannot have "now" inside a period that the test moved into the future,
and proration is proven in ``test_lifecycle.py``.
"""

from __future__ import annotations

import os
import random
from collections.abc import Iterator
from decimal import Decimal

import pytest
import stripe as stripe_sdk

from syncwright.demo.quote_to_cash import (
    CATALOG,
    QuoteToCashWorld,
    close_deals,
    wait_onboarded,
)
from syncwright.sandbox import FaultPlan
from syncwright.sandbox.stripe._billing import sub_period
from syncwright.sandbox.stripe._clock import run_due
from tests.e2e import _lifecycle as lc

CUSTOMERS = max(4, int(os.environ.get("SYNCWRIGHT_YEAR_CUSTOMERS", "4")))
MONTHS = 12

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


def test_a_year_of_lifecycle_events_leaves_every_system_agreeing(world: QuoteToCashWorld) -> None:
    stripe = world.billing.stripe.v1
    state = world.billing.stripe_state
    deals = close_deals(world, CUSTOMERS, seed=77, start=100)
    wait_onboarded(world, deals, timeout=lc.SETTLE)
    lc.settle(world)
    ids = {deal.opportunity: lc.ids(world, deal) for deal in deals}
    subs = {deal.opportunity: ids[deal.opportunity][2] for deal in deals}
    customers = {o: str(stripe.subscriptions.retrieve(s).customer) for o, s in subs.items()}
    now, at_end, recovers, ends_in_dunning = (deal.opportunity for deal in deals[:4])
    live = {deal.opportunity for deal in deals}
    rng = random.Random(2026)

    for month in range(1, MONTHS + 1):
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
                        "proration_behavior": "none",
                    },
                )
            failing = (opportunity == recovers and month == 4) or (
                opportunity == ends_in_dunning and month == MONTHS
            )
            _pay_open(world, customers[opportunity], fail=failing)
        lc.settle(world)
        # The period ends: renewals (and the cancellation at period end, in month 6).
        with state.lock:
            _start, end = sub_period(state, state.objects["subscription"][subs[recovers]])
            run_due(state, None, end + 1)
        if month == 6:
            live.discard(at_end)
        lc.settle(world)

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
            lines = lc.order_lines(world, subscription_id)
            assert lines and all(line["isclosed"] == "T" for line in lines)
            continue
        items = sub["items"]["data"]
        monthly = sum(i["quantity"] * i["price"]["unit_amount"] for i in items)
        assert lc.money(record["ACV__c"]) == Decimal(monthly * 12) / 100, deal.opportunity
        assert record["Subscription_Status__c"] == "Active"
        assert record["Renewal_Date__c"] == str(lc.period_end(sub))
        assert lc.open_quantities(world, subscription_id) == sorted(i["quantity"] for i in items)
        in_dunning = deal.opportunity == ends_in_dunning
        assert record["Account_Standing__c"] == ("Suspended" if in_dunning else "Current")
        assert lc.tier(world, account_id) == ("none" if in_dunning else "premium")
    # Every invoice Stripe issued is in the ERP with Stripe's total; paid ones are settled.
    for opportunity, customer in customers.items():
        for invoice in stripe.invoices.list({"customer": customer, "limit": 100}).data:
            if invoice.status in ("open", "paid"):
                total = lc.erp_total(world, invoice.id, "invoice")
                assert total == Decimal(invoice.total) / 100, (opportunity, invoice.id)
    assert CATALOG["Platform"][1] == "premium"  # the tier every live customer keeps
