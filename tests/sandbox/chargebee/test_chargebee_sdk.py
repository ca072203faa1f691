"""Chargebee's own SDK (``chargebee`` 3.x) drives the emulator through every resource and
operation the connector uses: customers, item prices, subscriptions (items model, proration,
cancellation), invoices, credit notes, transactions and the events API with pagination."""

from __future__ import annotations

import json

import chargebee
import httpx
import pytest

from tests.connectors.chargebee._support import PRO_PRICE, SEAT_PRICE
from tests.sandbox.chargebee.conftest import Emulator


def _customer(emulator: Emulator, company: str, **extra: object) -> chargebee.Customer:
    return emulator.sdk.Customer.create({"company": company, **extra}).customer


def test_customer_create_retrieve_list_update(emulator: Emulator) -> None:
    sdk = emulator.sdk
    made = sdk.Customer.create(
        {
            "company": "Initech",
            "email": "ap@initech.test",
            "meta_data": json.dumps({"syncwright_id": "acct_1"}),
            "billing_address": {
                "line1": "4120 Freidrich Ln",
                "city": "Austin",
                "state_code": "TX",
                "zip": "78744",
                "country": "US",
            },
        }
    ).customer
    assert made.meta_data == {"syncwright_id": "acct_1"}
    assert made.billing_address.city == "Austin"
    assert sdk.Customer.retrieve(made.id).customer.email == "ap@initech.test"
    listed = sdk.Customer.list({"email": {"is": "ap@initech.test"}}).list
    assert [entry.customer.id for entry in listed] == [made.id]
    sdk.Customer.update(made.id, {"company": "Initech LLC"})
    assert sdk.Customer.retrieve(made.id).customer.company == "Initech LLC"


def test_item_price_retrieve(emulator: Emulator) -> None:
    price = emulator.sdk.ItemPrice.retrieve(PRO_PRICE).item_price
    assert (price.price, price.currency_code, price.period_unit, price.item_type) == (
        3000,
        "USD",
        "month",
        "plan",
    )


def test_subscription_is_invoiced_and_paid_on_creation(emulator: Emulator) -> None:
    sdk = emulator.sdk
    customer = _customer(emulator, "Hooli")
    made = sdk.Subscription.create_with_items(
        customer.id,
        {
            "subscription_items": [
                {"item_price_id": PRO_PRICE, "quantity": 2},
                {"item_price_id": SEAT_PRICE, "quantity": 3},
            ]
        },
    )
    sub = made.subscription
    assert sub.status == "active" and sub.currency_code == "USD"
    assert [(i.item_price_id, i.quantity, i.amount) for i in sub.subscription_items] == [
        (PRO_PRICE, 2, 6000),
        (SEAT_PRICE, 3, 1500),
    ]
    invoice = sdk.Invoice.retrieve(made.invoice.id).invoice
    assert (invoice.status, invoice.total, invoice.amount_paid) == ("paid", 7500, 7500)
    txn_id = invoice.linked_payments[0].txn_id
    txn = sdk.Transaction.retrieve(txn_id).transaction
    assert (txn.status, txn.amount, txn.linked_invoices[0].invoice_id) == (
        "success",
        7500,
        invoice.id,
    )
    listed = sdk.Subscription.list({"customer_id": {"is": customer.id}}).list
    assert [e.subscription.id for e in listed] == [sub.id]
    assert [e.invoice.id for e in sdk.Invoice.list({"customer_id": {"is": customer.id}}).list] == [
        invoice.id
    ]
    assert (
        sdk.Transaction.list({"customer_id": {"is": customer.id}}).list[0].transaction.id == txn_id
    )


def test_changes_are_prorated_and_cancellation_credits(emulator: Emulator) -> None:
    sdk = emulator.sdk
    customer = _customer(emulator, "Vandelay")
    sub = sdk.Subscription.create_with_items(
        customer.id, {"subscription_items": [{"item_price_id": PRO_PRICE, "quantity": 2}]}
    ).subscription
    up = sdk.Subscription.update_for_items(
        sub.id, {"subscription_items": [{"item_price_id": PRO_PRICE, "quantity": 4}]}
    )
    # Moments after the term started almost all of it remains: about two more seats' worth.
    assert up.invoice is not None and 5900 <= up.invoice.total <= 6000
    down = sdk.Subscription.update_for_items(
        sub.id, {"subscription_items": [{"item_price_id": PRO_PRICE, "quantity": 1}]}
    )
    assert down.invoice is None and down.credit_notes
    assert 8900 <= down.credit_notes[0].total <= 9000
    assert down.credit_notes[0].type == "adjustment"
    cancelled = sdk.Subscription.cancel_for_items(
        sub.id, {"credit_option_for_current_term_charges": "full"}
    )
    assert cancelled.subscription.status == "cancelled"
    assert cancelled.credit_notes[0].total == 3000
    with pytest.raises(chargebee.InvalidRequestError) as again:
        sdk.Subscription.cancel_for_items(sub.id, {})
    assert again.value.http_status_code == 409
    assert again.value.api_error_code == "invalid_state_for_request"


def test_credit_note_against_an_invoice(emulator: Emulator) -> None:
    sdk = emulator.sdk
    customer = _customer(emulator, "Pied Piper")
    invoice = sdk.Subscription.create_with_items(
        customer.id, {"subscription_items": [{"item_price_id": PRO_PRICE, "quantity": 1}]}
    ).invoice
    note = sdk.CreditNote.create(
        {
            "reference_invoice_id": invoice.id,
            "total": 1000,
            "type": "refundable",
            "reason_code": "service_unsatisfactory",
        }
    )
    held = sdk.CreditNote.retrieve(note.credit_note.id).credit_note
    assert (held.total, held.reference_invoice_id, held.status) == (1000, invoice.id, "refund_due")
    with pytest.raises(chargebee.InvalidRequestError) as too_much:
        sdk.CreditNote.create({"reference_invoice_id": invoice.id, "total": 2500})
    assert too_much.value.param == "total"


def test_offline_customer_pays_by_recorded_payment(emulator: Emulator) -> None:
    sdk = emulator.sdk
    customer = _customer(emulator, "Soylent", auto_collection="off")
    invoice = sdk.Subscription.create_with_items(
        customer.id, {"subscription_items": [{"item_price_id": PRO_PRICE, "quantity": 1}]}
    ).invoice
    assert invoice.status == "payment_due" and invoice.amount_due == 3000
    paid = sdk.Invoice.record_payment(
        invoice.id, {"transaction": {"amount": 3000, "payment_method": "bank_transfer"}}
    )
    assert paid.invoice.status == "paid"
    assert paid.transaction.payment_method == "bank_transfer"


def test_declined_card_leaves_the_invoice_due(emulator: Emulator) -> None:
    customer = _customer(emulator, "Umbrella")
    httpx.post(
        f"{emulator.url}/_sandbox/customers/{customer.id}/payment_behavior",
        json={"behavior": "fail"},
        trust_env=False,
    ).raise_for_status()
    made = emulator.sdk.Subscription.create_with_items(
        customer.id, {"subscription_items": [{"item_price_id": PRO_PRICE, "quantity": 1}]}
    )
    assert made.invoice.status == "payment_due"
    failed = [
        e
        for e in emulator.state.events
        if e["event_type"] == "payment_failed" and e["content"]["customer"]["id"] == customer.id
    ]
    assert failed and failed[0]["content"]["transaction"]["status"] == "failure"


def test_events_page_with_next_offset_and_filters(emulator: Emulator) -> None:
    sdk = emulator.sdk
    for n in range(3):
        _customer(emulator, f"Paged {n}")
    query = {
        "limit": 2,
        "event_type": {"in": ["customer_created"]},
        "sort_by": {"asc": "occurred_at"},
    }
    ids: list[str] = []
    offset = None
    while True:
        page = sdk.Event.list({**query, **({"offset": offset} if offset else {})})
        ids += [entry.event.id for entry in page.list]
        assert all(entry.event.event_type == "customer_created" for entry in page.list)
        offset = page.next_offset
        if not offset:
            break
    held = [e["id"] for e in emulator.state.events if e["event_type"] == "customer_created"]
    assert ids == held  # oldest first, each once
    newest = sdk.Event.list({"limit": 1}).list[0].event
    assert newest.id == emulator.state.events[-1]["id"]  # default order: newest first
    assert sdk.Event.retrieve(newest.id).event.event_type == newest.event_type
