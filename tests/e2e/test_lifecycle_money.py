"""Refunds, a renewal won in the CRM and the ``downgrade`` dunning policy over the four
emulators (docs/lifecycle.md): a charge refunded in two parts, a credit note issued with a
refund, a renewal opportunity won for a customer about to leave, and a failed then recovered
payment under ``lifecycle.dunning: downgrade``. NetSuite loses some responses (the steps probe
before retrying). Every check reads the emulators' own records."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
import stripe as stripe_sdk

from syncwright.demo.quote_to_cash import (
    CATALOG,
    Deal,
    QuoteToCashWorld,
    close_deals,
    wait_onboarded,
)
from syncwright.sandbox import FaultPlan
from tests._support import wait_until
from tests.e2e import _lifecycle as lc

DOWNGRADE = "lifecycle:\n  dunning: {action: downgrade, tier: standard, after_attempts: 1}\n"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[QuoteToCashWorld]:
    def downgrade(world: QuoteToCashWorld) -> None:
        world.billing.settings_args["extra_sections"] = DOWNGRADE

    with lc.lifecycle_world(
        tmp_path_factory.mktemp("refunds"),
        salesforce_faults=FaultPlan(),
        netsuite_faults=FaultPlan(lost_response_rate=0.05, seed=13),
        before_start=downgrade,
    ) as started:
        yield started


@pytest.fixture(scope="module")
def deals(world: QuoteToCashWorld) -> list[Deal]:
    """Four customers onboarded at once (one settle for all): two for refunds, one for
    dunning, one for the renewal."""
    won = close_deals(world, 4, seed=61)
    wait_onboarded(world, won, timeout=lc.SETTLE)
    lc.settle(world)
    return won


def _first_invoice(world: QuoteToCashWorld, subscription: str) -> Any:
    return world.billing.stripe.v1.invoices.list({"subscription": subscription}).data[-1]


def _pay(world: QuoteToCashWorld, subscription: str) -> Any:
    """The first invoice paid by card (the demo's customers are invoiced; this one has a card)."""
    invoice = _first_invoice(world, subscription)
    world.billing.stripe_state.set_payment_behaviour(str(invoice.customer), "succeed")
    return world.billing.stripe.v1.invoices.pay(invoice.id)


def _ns_records(world: QuoteToCashWorld, record_type: str, external_id: str) -> dict[str, Any]:
    with lc.quiet(world), world.billing.netsuite_client() as netsuite:
        found = netsuite.get_by_external_id(record_type, external_id)
    assert found is not None, f"no NetSuite {record_type} {external_id}"
    return found


def _customer_refunds(world: QuoteToCashWorld, account_id: str) -> list[dict[str, Any]]:
    """The customer's refunds as NetSuite lists them (SuiteQL over its transactions)."""
    runtime = world.billing.runtime
    assert runtime is not None
    customer = runtime.xref.native_id_for("account", account_id, "netsuite")
    with lc.quiet(world), world.billing.netsuite_client() as netsuite:
        rows = netsuite.suiteql("SELECT id, entity, recordtype, foreigntotal FROM transaction")
        return [r for r in rows if r["recordtype"] == "customerrefund" and r["entity"] == customer]


def test_refunds_reach_the_erp_and_the_crm(world: QuoteToCashWorld, deals: list[Deal]) -> None:
    runtime = world.billing.runtime
    assert runtime is not None
    stripe = world.billing.stripe.v1
    by_charge, by_note = deals[:2]

    # A paid first invoice, refunded in two parts (charge.refunded twice; the second lists
    # the first refund again).
    account, _, sub_id = lc.ids(world, by_charge)
    invoice = _pay(world, sub_id)
    [charge] = stripe.charges.list({"customer": str(invoice.customer)}).data
    part = invoice.amount_paid // 3
    first = stripe.refunds.create({"charge": charge.id, "amount": part})
    # Meanwhile another customer is credited part of a paid invoice with a refund.
    note_account, _, note_sub = lc.ids(world, by_note)
    paid = _pay(world, note_sub)
    back = paid.amount_paid // 4
    note = stripe.credit_notes.create({"invoice": paid.id, "amount": back, "refund_amount": back})
    lc.settle(world)
    second = stripe.refunds.create({"charge": charge.id})  # the rest
    assert second.amount == invoice.amount_paid - part
    lc.settle(world)

    invoice_gid = runtime.xref.global_id_for("invoice", "stripe", invoice.id)
    for refund in (first, second):
        gid = runtime.xref.global_id_for("refund", "stripe", refund.id)
        assert gid is not None
        booked = _ns_records(world, "customerRefund", gid)
        memo = _ns_records(world, "creditMemo", f"{gid}.credit")
        assert Decimal(str(booked["total"])) == Decimal(refund.amount) / 100
        assert Decimal(str(memo["total"])) == Decimal(refund.amount) / 100
        # Its credit is all paid back out (the invoice was paid: nothing applied to it).
        assert Decimal(str(memo["applied"])) == 0 and Decimal(str(memo["unapplied"])) == 0
        ns_invoice = _ns_records(world, "invoice", str(invoice_gid))
        assert memo["createdFrom"]["id"] == str(ns_invoice["id"])
    # Exactly the two refunds, though the first was delivered twice.
    assert sorted(Decimal(r["foreigntotal"]) for r in _customer_refunds(world, account)) == sorted(
        Decimal(r.amount) / 100 for r in (first, second)
    )
    crm = lc.crm(world, by_charge)
    assert lc.money(crm["Last_Refund_Amount__c"]) == Decimal(second.amount) / 100
    assert crm["Last_Refund_Date__c"] is not None
    assert crm["Account_Standing__c"] == "Current"
    # One correlation id: the ERP's refund and the CRM's write of one refund event.
    gid = runtime.xref.global_id_for("refund", "stripe", second.id)
    booked_second = [
        e
        for e in runtime.ledger.for_entity(f"account:{account}")
        if e.step == "netsuite.book_refund" and e.outcome == "ok" and e.global_id == gid
    ]
    assert booked_second
    fanout = runtime.ledger.for_correlation(booked_second[-1].correlation_id)
    assert {("payment.refund_in_erp", "netsuite"), ("payment.refund_to_crm", "salesforce")} <= {
        (e.workflow, e.connection) for e in fanout if e.outcome == "ok"
    }

    # The credit note issued with a refund: the credit note's credit memo is paid out; no
    # second credit is booked for the charge refund it made.
    [refunded] = note.refunds  # type: ignore[attr-defined]
    refund_id = refunded["refund"] if isinstance(refunded, dict) else refunded.refund
    refund_gid = runtime.xref.global_id_for("refund", "stripe", str(refund_id))
    note_gid = runtime.xref.global_id_for("credit_note", "stripe", note.id)
    booked = _ns_records(world, "customerRefund", str(refund_gid))
    memo = _ns_records(world, "creditMemo", str(note_gid))
    assert Decimal(str(booked["total"])) == Decimal(back) / 100
    assert Decimal(str(memo["total"])) == Decimal(note.total) / 100
    assert Decimal(str(memo["applied"])) == 0 and Decimal(str(memo["unapplied"])) == 0
    [only] = _customer_refunds(world, note_account)
    assert Decimal(only["foreigntotal"]) == Decimal(back) / 100
    with lc.quiet(world), world.billing.netsuite_client() as netsuite:
        assert netsuite.get_by_external_id("creditMemo", f"{refund_gid}.credit") is None
    crm = lc.crm(world, by_note)
    assert lc.money(crm["Last_Refund_Amount__c"]) == Decimal(back) / 100


def test_dunning_downgrade_lowers_the_support_tier_until_paid(
    world: QuoteToCashWorld, deals: list[Deal]
) -> None:
    stripe = world.billing.stripe.v1
    deal = deals[2]
    account, _, sub_id = lc.ids(world, deal)
    assert lc.tier(world, account) == "premium"
    invoice = _first_invoice(world, sub_id)
    customer = str(invoice.customer)

    world.billing.stripe_state.set_payment_behaviour(customer, "fail")
    with pytest.raises(stripe_sdk.CardError):
        stripe.invoices.pay(invoice.id)
    lc.settle(world)
    assert lc.tier(world, account) == "standard"  # the policy's tier, not suspended
    crm = lc.crm(world, deal)
    assert crm["Account_Standing__c"] == "Past Due"
    assert lc.money(crm["Balance_Due__c"]) == lc.balance(world, customer)

    world.billing.stripe_state.set_payment_behaviour(customer, "succeed")
    stripe.invoices.pay(invoice.id)
    lc.settle(world)
    assert lc.tier(world, account) == "premium"
    crm = lc.crm(world, deal)
    assert crm["Account_Standing__c"] == "Current"
    assert lc.money(crm["Balance_Due__c"]) == 0


def _renewal_opportunity(world: QuoteToCashWorld, account: str, seats: int) -> str:
    """A sales rep's renewal opportunity (``Type`` Renewal) with its products, not yet won."""
    sf = world.sdk()
    opportunity: str = sf.create(
        "Opportunity",
        {
            "Name": "Renewal - next year",
            "AccountId": account,
            "StageName": "Negotiation/Review",
            "CloseDate": "2026-12-31",
            "Type": "Renewal",
        },
    )
    for name, quantity in (("Platform", 1), ("Seats", seats)):
        sf.create(
            "OpportunityLineItem",
            {
                "OpportunityId": opportunity,
                "PricebookEntryId": world.catalog[name]["crm_entry"],
                "Quantity": quantity,
                "UnitPrice": CATALOG[name][0] / 100,
            },
        )
    return opportunity


def test_renewal_won_in_the_crm_reaches_billing_the_erp_and_the_crm(
    world: QuoteToCashWorld, deals: list[Deal]
) -> None:
    runtime = world.billing.runtime
    assert runtime is not None
    stripe = world.billing.stripe.v1
    deal = deals[3]
    account, subscription, sub_id = lc.ids(world, deal)
    # The customer was leaving at the end of the term ...
    stripe.subscriptions.update(sub_id, {"cancel_at_period_end": True})
    lc.settle(world)
    assert lc.crm(world, deal)["Renewal_Date__c"] is None
    invoices = len(stripe.invoices.list({"subscription": sub_id}).data)

    # ... until the rep won the renewal, with five more seats.
    seats = deal.seats + 5
    renewal = _renewal_opportunity(world, deal.account, seats)
    world.crm.win(renewal)

    def renewals() -> list[Any]:
        return [
            e
            for e in runtime.ledger.for_entity(f"account:{account}")
            if e.workflow == "deal.renew" and e.outcome == "ok"
        ]

    wait_until(lambda: bool(renewals()), timeout=lc.SETTLE, what="the renewal")
    lc.settle(world)

    renewed = stripe.subscriptions.retrieve(sub_id)
    assert renewed.cancel_at_period_end is False
    assert lc.item(renewed, world, "Seats")["quantity"] == seats
    customer = str(renewed.customer)
    assert [s.id for s in stripe.subscriptions.list({"customer": customer}).data] == [sub_id]
    # Billed from the next term: nothing invoiced now.
    assert len(stripe.invoices.list({"subscription": sub_id}).data) == invoices
    assert lc.open_quantities(world, subscription) == sorted([1, seats])
    crm = lc.crm(world, deal)
    assert crm["Renewal_Date__c"] == str(lc.period_end(renewed))
    assert lc.money(crm["Renewal_Amount__c"]) == lc.acv(seats)
    assert lc.money(crm["ACV__c"]) == lc.acv(seats)
    assert crm["Cancel_Date__c"] is None and crm["Subscription_Status__c"] == "Active"
    # One correlation id across billing, the ERP and the CRM.
    fanout = runtime.ledger.for_correlation(renewals()[0].correlation_id)
    assert {"stripe", "netsuite", "salesforce"} <= {
        e.connection for e in fanout if e.workflow == "deal.renew" and e.outcome == "ok"
    }

    # Won again (the rep reopens and closes it once more): the same deal reaches syncwright
    # again and changes nothing (the policy gate holds this deal's state already).
    def updates() -> int:
        listed = stripe.events.list({"type": "customer.subscription.updated", "limit": 100})
        return sum(1 for e in listed.data if e.data.object["id"] == sub_id)

    first_runs, first_updates, delivered = len(renewals()), updates(), runtime.inbox.count()
    world.sdk().update("Opportunity", renewal, {"StageName": "Negotiation/Review"})
    world.crm.win(renewal)
    wait_until(
        lambda: runtime.inbox.count() >= delivered + 2, timeout=lc.SETTLE, what="the CRM's events"
    )
    lc.settle(world)
    assert len(renewals()) == first_runs and updates() == first_updates
    again = stripe.subscriptions.retrieve(sub_id)
    assert lc.item(again, world, "Seats")["quantity"] == seats
    assert len(stripe.invoices.list({"subscription": sub_id}).data) == invoices
    assert lc.open_quantities(world, subscription) == sorted([1, seats])
