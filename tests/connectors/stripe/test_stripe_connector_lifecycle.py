"""A real billing lifecycle driven through the official SDK against the Stripe emulator, read
back by polling and normalized into canonical change events with a real cross-reference store."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import stripe

from syncwright.connectors.stripe.connector import StripeConnector
from syncwright.model import Money
from syncwright.runtime import Runtime
from syncwright.sandbox.stripe import StripeState
from tests.connectors.stripe._support import (
    CONNECTION,
    accept,
    normalize_pending,
    poll_everything,
)

T0 = 1_767_225_600  # 2026-01-01T00:00:00Z
DAY = 86_400


def _drive(sdk: stripe.StripeClient, state: StripeState) -> dict[str, Any]:
    clock = sdk.v1.test_helpers.test_clocks.create({"frozen_time": T0})
    product = sdk.v1.products.create({"name": "Pro"})
    price = sdk.v1.prices.create(
        {
            "product": product.id,
            "currency": "usd",
            "unit_amount": 3000,
            "recurring": {"interval": "month"},
        }
    )
    acme = sdk.v1.customers.create(
        {
            "name": "Acme GmbH",
            "email": "billing@acme.test",
            "address": {"line1": "Hauptstr. 1", "city": "Berlin", "country": "DE"},
            "metadata": {"subsidiary": "DE-1"},
            "test_clock": clock.id,
            "payment_method": "pm_card_visa",
            "invoice_settings": {"default_payment_method": "pm_card_visa"},
        }
    )
    sub = sdk.v1.subscriptions.create(
        {"customer": acme.id, "items": [{"price": price.id, "quantity": 2}]}
    )
    # An amendment without proration: quantity 2 -> 3.
    sdk.v1.subscriptions.update(
        sub.id,
        {
            "items": [{"id": sub["items"].data[0].id, "quantity": 3}],
            "proration_behavior": "none",
        },
    )
    # Renewal one month later, paid.
    sdk.v1.test_helpers.test_clocks.advance(clock.id, {"frozen_time": T0 + 32 * DAY})
    # The next renewal fails: the invoice stays open, the subscription goes past_due.
    state.set_payment_behaviour(acme.id, "fail")
    sdk.v1.test_helpers.test_clocks.advance(clock.id, {"frozen_time": T0 + 60 * DAY})
    state.set_payment_behaviour(acme.id, "succeed")
    failed = next(
        inv for inv in sdk.v1.invoices.list({"customer": acme.id}).data if inv.status == "open"
    )
    sdk.v1.invoices.pay(failed.id)  # recovered: the subscription is active again
    credit = sdk.v1.credit_notes.create({"invoice": failed.id, "amount": 500})
    sdk.v1.customers.update(acme.id, {"name": "Acme Deutschland GmbH"})
    sdk.v1.subscriptions.cancel(sub.id)

    # A second customer on a trial that converts.
    clock2 = sdk.v1.test_helpers.test_clocks.create({"frozen_time": T0})
    trial = sdk.v1.customers.create(
        {
            "name": "Trial Co",
            "email": "ops@trial.test",
            "test_clock": clock2.id,
            "payment_method": "pm_card_visa",
            "invoice_settings": {"default_payment_method": "pm_card_visa"},
        }
    )
    trial_sub = sdk.v1.subscriptions.create(
        {"customer": trial.id, "items": [{"price": price.id}], "trial_period_days": 7}
    )
    sdk.v1.test_helpers.test_clocks.advance(clock2.id, {"frozen_time": T0 + 8 * DAY})
    return {
        "acme": acme,
        "sub": sub,
        "price": price,
        "product": product,
        "failed": failed,
        "credit": credit,
        "trial": trial,
        "trial_sub": trial_sub,
    }


def _by_type(events: list[Any]) -> dict[str, list[Any]]:
    grouped: dict[str, list[Any]] = {}
    for event in events:
        grouped.setdefault(event.type.removeprefix("syncwright.").removesuffix(".v1"), []).append(
            event
        )
    return grouped


def test_lifecycle_polled_and_normalized(
    sdk: stripe.StripeClient,
    stripe_state: StripeState,
    runtime: Runtime,
    connector: StripeConnector,
) -> None:
    made = _drive(sdk, stripe_state)
    polled, cursor = poll_everything(connector)
    assert polled and cursor == polled[-1].vendor_event_id
    # Oldest first, and only the types the mapping reads (the rest is not worth an inbox row).
    created = [json.loads(p.body)["created"] for p in polled]
    assert created == sorted(created)
    assert accept(runtime, polled) == len(polled)
    results = normalize_pending(runtime)
    assert len(results) == len(polled)

    xref = runtime.xref

    def gid(kind: str, native: str) -> str:
        found = xref.global_id_for(kind, CONNECTION, native)
        assert found is not None, (kind, native)
        return found

    acme, trial = gid("account", made["acme"].id), gid("account", made["trial"].id)
    sub_gid = gid("subscription", made["sub"].id)
    all_events: list[Any] = []
    for delivery, events in results:
        for n, event in enumerate(events):
            # Deterministic ids, the delivery's correlation id, one partition per customer.
            assert event.id == f"{CONNECTION}:{delivery.vendor_event_id}:{n}"
            assert event.correlationid == delivery.correlation_id
            assert event.entitykey in (f"account:{acme}", f"account:{trial}")
            assert event.source == f"syncwright/{CONNECTION}"
        all_events.extend(events)

    acme_events = [e for e in all_events if e.entitykey == f"account:{acme}"]
    trial_events = [e for e in all_events if e.entitykey == f"account:{trial}"]
    assert Counter(e.type.split(".")[1] + "." + e.type.split(".")[2] for e in acme_events) == {
        "account.upserted": 3,  # created, balance change after the credit note, rename
        "subscription.created": 1,
        "subscription.activated": 2,  # at creation, and after the failed payment recovered
        "subscription.updated": 2,  # quantity 2 -> 3, active -> past_due
        "subscription.renewed": 2,
        "subscription.cancelled": 1,
        "invoice.finalized": 3,
        "invoice.paid": 3,
        "payment.received": 3,
        "invoice.payment_failed": 1,
        "credit_note.issued": 1,
    }
    acme_by = _by_type(acme_events)

    # Accounts: subsidiary from metadata, address, the rename reported as a changed field.
    first, *_, renamed = acme_by["account.upserted"]
    account = first.data.account
    assert account.global_id == acme and first.subject == acme
    assert (account.name, account.billing_email, account.subsidiary) == (
        "Acme GmbH",
        "billing@acme.test",
        "DE-1",
    )
    assert account.bill_to is not None and account.bill_to.country == "DE"
    assert renamed.data.account.name == "Acme Deutschland GmbH"
    assert renamed.data.changed_fields == ("name",)

    # Subscriptions: one global id throughout; catalog ids resolved through the xref.
    subs = [e.data.subscription for e in acme_events if e.type.startswith("syncwright.subscr")]
    assert {s.global_id for s in subs} == {sub_gid}
    assert {s.account_id for s in subs} == {acme}
    assert {s.plan_id for s in subs} == {gid("product", made["product"].id)}
    assert {s.items[0].price_id for s in subs} == {gid("price", made["price"].id)}
    assert all(s.items[0].unit_amount == Money.of(3000, "USD") for s in subs)
    created_sub = acme_by["subscription.created"][0].data.subscription
    assert created_sub.status == "active" and created_sub.items[0].quantity == 2
    assert created_sub.billing_frequency == "monthly" and created_sub.currency == "USD"
    assert str(created_sub.term_start) == "2026-01-01" and str(created_sub.term_end) == "2026-02-01"
    amended, past_due = acme_by["subscription.updated"]
    assert amended.data.changed_fields == ("items",)
    assert amended.data.subscription.items[0].quantity == 3
    assert past_due.data.changed_fields == ("status",)
    assert past_due.data.subscription.status == "past_due"
    renewed = acme_by["subscription.renewed"][0].data
    assert str(renewed.previous_term_end) == "2026-02-01"
    assert str(renewed.subscription.term_start) == "2026-02-01"
    assert acme_by["subscription.activated"][1].data.subscription.status == "active"
    cancelled = acme_by["subscription.cancelled"][0].data
    assert cancelled.subscription.status == "cancelled"
    assert cancelled.reason == "cancellation_requested"
    assert not cancelled.subscription.auto_renew

    # Invoices and payments: integer minor units, linked to the subscription and each other.
    finalized = [e.data.invoice for e in acme_by["invoice.finalized"]]
    assert [i.total for i in finalized] == [
        Money.of(6000, "USD"),
        Money.of(9000, "USD"),
        Money.of(9000, "USD"),
    ]
    assert all(i.subscription_id == sub_gid and i.account_id == acme for i in finalized)
    assert all(i.lines and i.issue_date is not None for i in finalized)
    paid = acme_by["invoice.paid"]
    payments = [e.data.payment for e in acme_by["payment.received"]]
    assert [p.amount.amount_minor for p in payments] == [6000, 9000, 9000]
    for paid_event, payment in zip(paid, payments, strict=True):
        assert paid_event.data.payment_id == payment.global_id
        assert payment.applied_to[0].invoice_id == paid_event.data.invoice.global_id
        assert paid_event.data.invoice.status == "paid"
    failed_gid = gid("invoice", made["failed"].id)
    failure = acme_by["invoice.payment_failed"][0].data
    assert failure.invoice.global_id == failed_gid and failure.attempt_count == 1
    assert failure.invoice.amount_paid == Money.zero("USD")
    assert failure.next_attempt_at is not None
    assert paid[-1].data.invoice.global_id == failed_gid  # paid after recovery
    note = acme_by["credit_note.issued"][0].data.credit_note
    assert note.global_id == gid("credit_note", made["credit"].id)
    assert note.invoice_id == failed_gid and note.total == Money.of(500, "USD")

    # The trial: created (trialing) without activation; activated when it converts.
    trial_by = _by_type(trial_events)
    assert trial_by["account.upserted"][0].data.account.subsidiary == "US-1"  # the default
    assert trial_by["subscription.created"][0].data.subscription.status == "trialing"
    assert len(trial_by["subscription.activated"]) == 1
    assert [e.data.invoice.total.amount_minor for e in trial_by["invoice.paid"]] == [0, 3000]
    assert len(trial_by["payment.received"]) == 1  # the $0 trial invoice is no payment

    # Normalizing a delivery again gives the very same events (replay-safe).
    delivery, events = next(r for r in results if r[0].event_type == "invoice.paid")
    again = connector.normalize(delivery)
    assert [e.model_dump() for e in again] == [e.model_dump() for e in events]
