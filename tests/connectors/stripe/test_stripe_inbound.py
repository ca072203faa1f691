"""The inbound mapping on Stripe's own fixtures (fixtures3.json) and on hand-made edge cases:
every type we map normalizes or parks with remediation; everything else is ignored."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
import stripe

from syncwright.connectors.stripe.connector import StripeConnector
from syncwright.connectors.stripe.inbound import MAPPED_EVENT_TYPES, normalize
from syncwright.errors import BusinessRuleError
from syncwright.model import Money
from syncwright.runtime import Runtime
from tests._vendor import vendor_json
from tests.connectors.stripe._support import (
    CONNECTION,
    accept,
    delivery_of,
    normalize_pending,
    poll_everything,
)

FIXTURES = "stripe/fixtures3.json"
T0 = 1_767_225_600
DAY = 86_400

# The Stripe object each mapped event type carries.
OBJECT_OF = {
    "customer.created": "customer",
    "customer.updated": "customer",
    "customer.subscription.created": "subscription",
    "customer.subscription.updated": "subscription",
    "customer.subscription.deleted": "subscription",
    "invoice.finalized": "invoice",
    "invoice.paid": "invoice",
    "invoice.payment_failed": "invoice",
    "credit_note.created": "credit_note",
    "charge.refunded": "charge",
}


@pytest.fixture(scope="module")
def fixtures() -> dict[str, dict[str, Any]]:
    resources: dict[str, dict[str, Any]] = vendor_json(FIXTURES)["resources"]
    return resources


def _event(
    event_type: str,
    obj: dict[str, Any],
    previous: dict[str, Any] | None = None,
    event_id: str = "evt_test_1",
) -> dict[str, Any]:
    data: dict[str, Any] = {"object": obj}
    if previous is not None:
        data["previous_attributes"] = previous
    return {
        "id": event_id,
        "object": "event",
        "api_version": "2026-10-28.endive",
        "created": T0 + 100,
        "data": data,
        "livemode": False,
        "pending_webhooks": 0,
        "request": {"id": None, "idempotency_key": None},
        "type": event_type,
    }


def _subscription(fixtures: dict[str, dict[str, Any]], **changes: Any) -> dict[str, Any]:
    """The fixture subscription with a sane current period (the fixture's end is before its
    start: random sample data)."""
    sub = copy.deepcopy(fixtures["subscription"])
    item = sub["items"]["data"][0]
    item["current_period_start"], item["current_period_end"] = T0, T0 + 31 * DAY
    sub.update(
        cancel_at=None, canceled_at=None, ended_at=None, cancel_at_period_end=False, trial_end=None
    )
    sub.update(changes)
    return sub


def _run(connector: StripeConnector, event: dict[str, Any]) -> list[Any]:
    return connector.normalize(delivery_of(event))


def test_mapped_types_on_stripe_fixtures(
    fixtures: dict[str, dict[str, Any]], connector: StripeConnector
) -> None:
    outcomes: dict[str, str] = {}
    for n, event_type in enumerate(MAPPED_EVENT_TYPES):
        obj = fixtures[OBJECT_OF[event_type]]
        try:
            events = _run(connector, _event(event_type, obj, event_id=f"evt_fx_{n}"))
        except BusinessRuleError as exc:
            assert exc.remediation, event_type
            outcomes[event_type] = exc.code
        else:
            assert events, event_type
            outcomes[event_type] = ",".join(e.type.split(".")[1] for e in events)
    assert outcomes == {
        # The fixture customer has neither name nor email: parked, with remediation.
        "customer.created": "stripe.customer_unnamed",
        "customer.updated": "stripe.customer_unnamed",
        # Its period ends before it starts (sample data): the canonical validator refuses.
        "customer.subscription.created": "stripe.mapping_invalid",
        "customer.subscription.updated": "stripe.mapping_invalid",
        "customer.subscription.deleted": "stripe.mapping_invalid",
        "invoice.finalized": "invoice",
        "invoice.paid": "invoice",
        "invoice.payment_failed": "invoice",
        # Stripe's sample credit note was issued with a refund: it is a refund too.
        "credit_note.created": "credit_note,payment",
        # The fixture charge belongs to no customer: a refund of it reaches no account.
        "charge.refunded": "stripe.refund_without_customer",
    }

    named = {**fixtures["customer"], "name": "Fixture Inc"}
    (event,) = _run(connector, _event("customer.created", named))
    account = event.data.account
    assert account.currency == "USD" and account.bill_to is None
    assert account.subsidiary == "US-1"  # options.default_subsidiary
    events = _run(connector, _event("customer.subscription.created", _subscription(fixtures)))
    assert [e.type for e in events] == [
        "syncwright.subscription.created.v1",
        "syncwright.subscription.activated.v1",
    ]
    sub = events[0].data.subscription
    assert sub.items[0].unit_amount == Money.of(2000, "USD") and sub.items[0].quantity == 1
    # All of one customer's events share a partition key, whatever the entity.
    (invoice_event,) = _run(connector, _event("invoice.finalized", fixtures["invoice"]))
    (note_event, refund_event) = _run(
        connector, _event("credit_note.created", fixtures["credit_note"])
    )
    assert {
        event.entitykey,
        events[0].entitykey,
        invoice_event.entitykey,
        note_event.entitykey,
        refund_event.entitykey,
    } == {f"account:{account.global_id}"}
    assert refund_event.data.refund.credit_note_id == note_event.data.credit_note.global_id
    invoice = invoice_event.data.invoice
    assert invoice.total == Money.of(1000, "USD") and invoice.status == "draft"
    note = note_event.data.credit_note
    assert [line.amount.amount_minor for line in note.lines] == [1190, 500]
    assert note.total == Money.of(1690, "USD") and note.number == "ABCD-1234-CN-01"


def test_unmapped_fixture_types_are_ignored(
    fixtures: dict[str, dict[str, Any]], connector: StripeConnector
) -> None:
    assert _run(connector, fixtures["event"]) == []  # plan.created, as Stripe sent it
    ignored = 0
    for name, obj in fixtures.items():
        kind = obj.get("object")
        for action in ("created", "updated", "deleted"):
            event_type = f"{kind}.{action}"
            if event_type in MAPPED_EVENT_TYPES:
                continue
            assert _run(connector, _event(event_type, obj)) == [], name
            ignored += 1
    assert ignored > 400


def test_malformed_deliveries_park(connector: StripeConnector) -> None:
    for body in ("not json", "[1, 2]"):
        with pytest.raises(BusinessRuleError) as info:
            connector.normalize(delivery_of(body))
        assert info.value.code == "stripe.payload_invalid"
    wrong = _event("customer.created", {"id": "in_1", "object": "invoice"})
    with pytest.raises(BusinessRuleError) as info:
        _run(connector, wrong)
    assert info.value.code == "stripe.payload_invalid"
    broken = _event("customer.created", {"id": "cus_1", "object": "customer", "created": "x"})
    with pytest.raises(BusinessRuleError) as info:
        _run(connector, broken)
    assert info.value.code == "stripe.payload_invalid" and "created" in info.value.message


def test_customer_details(fixtures: dict[str, dict[str, Any]], connector: StripeConnector) -> None:
    base = {**fixtures["customer"], "currency": None, "email": "only@mail.test"}
    base["metadata"] = {"subsidiary": "UK-2"}
    base["address"] = {
        "line1": "1 High St",
        "line2": "",
        "city": "London",
        "state": None,
        "postal_code": "E1 6AN",
        "country": "GB",
    }
    base["tax_ids"] = {
        "object": "list",
        "has_more": False,
        "data": [fixtures["tax_id"]],
    }
    (event,) = _run(connector, _event("customer.created", base))
    account = event.data.account
    assert account.name == "only@mail.test"  # no name: the email stands in, as in Stripe
    assert account.currency is None and account.subsidiary == "UK-2"
    assert account.bill_to is not None and account.bill_to.postal_code == "E1 6AN"
    assert account.bill_to.line2 is None
    assert [(t.kind, t.value, t.country) for t in account.tax_ids] == [
        ("eu_vat", "DE123456789", "DE")
    ]
    # An update whose change the canonical model does not hold still upserts, with no fields.
    (event,) = _run(connector, _event("customer.updated", base, {"balance": 100}))
    assert event.data.changed_fields == ()
    (event,) = _run(
        connector,
        _event(
            "customer.updated", base, {"metadata": {"subsidiary": "US-1"}, "email": "old@mail.test"}
        ),
    )
    # The name stood in by the email changed with it.
    assert set(event.data.changed_fields) == {"subsidiary", "name", "billing_email"}
    # A previous state that is not a valid account (nameless) falls back to naming by key.
    (event,) = _run(connector, _event("customer.updated", base, {"email": None}))
    assert event.data.changed_fields == ("billing_email",)
    partial = {**base, "address": {**base["address"], "city": None}}
    with pytest.raises(BusinessRuleError) as info:
        _run(connector, _event("customer.created", partial))
    assert info.value.code == "stripe.address_incomplete"


def test_subscription_transitions(
    fixtures: dict[str, dict[str, Any]], connector: StripeConnector
) -> None:
    active = _subscription(fixtures)

    def types(event: dict[str, Any]) -> list[str]:
        return [e.type.split(".")[2] for e in _run(connector, event)]

    updated = "customer.subscription.updated"
    assert types(_event(updated, active, {"status": "incomplete"})) == ["activated"]
    assert types(_event(updated, active, {"metadata": {"x": None}})) == []
    assert types(_event(updated, active, {"latest_invoice": "in_1"})) == []
    (event,) = _run(
        connector,
        _event(updated, {**active, "cancel_at_period_end": True}, {"cancel_at_period_end": False}),
    )
    assert {"cancel_at_period_end", "auto_renew"} <= set(event.data.changed_fields)
    assert event.data.subscription.invoice_schedule.next_invoice_date is None
    # Renewal: the new period continues where the previous one ended.
    previous_items = copy.deepcopy(active["items"])
    previous_items["data"][0].update(current_period_start=T0 - 31 * DAY, current_period_end=T0)
    (event,) = _run(connector, _event(updated, active, {"items": previous_items}))
    assert event.type == "syncwright.subscription.renewed.v1"
    assert str(event.data.previous_term_end) == "2026-01-01"
    # An interval change restarts the period mid-term: an amendment, not a renewal.
    previous_items["data"][0].update(
        current_period_start=T0 - 10 * DAY, current_period_end=T0 + DAY
    )
    (event,) = _run(connector, _event(updated, active, {"items": previous_items}))
    assert event.type == "syncwright.subscription.updated.v1"
    assert {"term_start", "term_end"} <= set(event.data.changed_fields)
    # Unrecoverable previous attributes fall back to naming fields by key.
    (event,) = _run(connector, _event(updated, active, {"items": "?", "trial_end": 1}))
    assert event.data.changed_fields == ("items", "trial_end")

    deleted = {
        **active,
        "status": "canceled",
        "canceled_at": T0 + 5 * DAY,
        "ended_at": T0 + 5 * DAY,
    }
    deleted["cancellation_details"] = {"reason": None, "feedback": "too_expensive", "comment": None}
    (event,) = _run(connector, _event("customer.subscription.deleted", deleted))
    assert event.data.reason == "too_expensive" and str(event.data.effective_date) == "2026-01-06"
    assert event.data.subscription.status == "cancelled"

    # Every interval Stripe allows is canonical: weekly, and every two years.
    weekly = copy.deepcopy(active)
    weekly["items"]["data"][0]["price"]["recurring"]["interval"] = "week"
    (created,) = _run(
        connector, _event("customer.subscription.created", {**weekly, "status": "trialing"})
    )
    assert created.data.subscription.billing_frequency == "custom"
    assert created.data.subscription.billing_period.model_dump() == {"unit": "week", "count": 1}
    biennial = copy.deepcopy(active)
    biennial["items"]["data"][0]["price"]["recurring"].update(interval="year", interval_count=2)
    (created,) = _run(
        connector, _event("customer.subscription.created", {**biennial, "status": "trialing"})
    )
    assert created.data.subscription.period.months == 24
    one_time = copy.deepcopy(active)
    one_time["items"]["data"][0]["price"]["recurring"] = None
    with pytest.raises(BusinessRuleError) as info:
        _run(connector, _event("customer.subscription.created", one_time))
    assert info.value.code == "stripe.interval_unsupported"
    quarterly = copy.deepcopy(active)
    quarterly["items"]["data"][0]["price"]["recurring"]["interval_count"] = 3
    (created,) = _run(
        connector, _event("customer.subscription.created", {**quarterly, "status": "trialing"})
    )
    assert created.data.subscription.billing_frequency == "quarterly"
    assert created.data.subscription.status == "trialing"


def test_isk_amounts_convert_to_iso_minor_units(
    fixtures: dict[str, dict[str, Any]], connector: StripeConnector
) -> None:
    sub = _subscription(fixtures, currency="isk")
    price = sub["items"]["data"][0]["price"]
    price.update(currency="isk", unit_amount=150_000, unit_amount_decimal="150000")
    events = _run(connector, _event("customer.subscription.created", sub))
    assert events[0].data.subscription.items[0].unit_amount == Money.of(1500, "ISK")
    price.update(unit_amount=150_050, unit_amount_decimal="150050")
    with pytest.raises(BusinessRuleError) as info:
        _run(connector, _event("customer.subscription.created", sub))
    assert info.value.code == "stripe.amount_fraction"


def test_invoice_with_more_lines_than_the_event_carries(
    sdk: stripe.StripeClient, runtime: Runtime, connector: StripeConnector
) -> None:
    customer = sdk.v1.customers.create({"name": "Many Lines"})
    for n in range(12):
        sdk.v1.invoice_items.create(
            {"customer": customer.id, "amount": 100 + n, "currency": "usd", "description": f"L{n}"}
        )
    invoice = sdk.v1.invoices.create(
        {"customer": customer.id, "pending_invoice_items_behavior": "include"}
    )
    sdk.v1.invoices.finalize_invoice(invoice.id)
    polled, _ = poll_everything(connector)
    finalized = next(p for p in polled if p.event_type == "invoice.finalized")
    assert json.loads(finalized.body)["data"]["object"]["lines"]["has_more"] is True
    # Without the connector's enrichment the mapping refuses a truncated document ...
    with pytest.raises(BusinessRuleError) as info:
        normalize(delivery_of(finalized.body), runtime.xref)
    assert info.value.code == "stripe.lines_truncated"
    # ... with it, every line is fetched and the totals add up.
    accept(runtime, polled)
    (events,) = [
        evs for d, evs in normalize_pending(runtime) if d.event_type == "invoice.finalized"
    ]
    invoice_model = events[0].data.invoice
    assert len(invoice_model.lines) == 12
    assert invoice_model.total == Money.of(sum(100 + n for n in range(12)), "USD")
    assert CONNECTION in events[0].id


def test_refunds_of_a_charge_and_of_a_credit_note(
    sdk: stripe.StripeClient, runtime: Runtime, connector: StripeConnector
) -> None:
    """Each Stripe refund is one ``payment.refunded.v1``, oldest first, with its invoice; a
    later delivery lists an earlier refund again (same global id: booked once downstream); a
    credit note's refund comes with the credit note, not with the charge."""
    customer = sdk.v1.customers.create(
        {
            "name": "Refunded",
            "payment_method": "pm_card_visa",
            "invoice_settings": {"default_payment_method": "pm_card_visa"},
        }
    )
    sdk.v1.invoice_items.create({"customer": customer.id, "amount": 9000, "currency": "usd"})
    invoice = sdk.v1.invoices.create(
        {"customer": customer.id, "pending_invoice_items_behavior": "include"}
    )
    paid = sdk.v1.invoices.pay(invoice.id)
    [charge] = sdk.v1.charges.list({"customer": customer.id}).data
    first = sdk.v1.refunds.create({"charge": charge.id, "amount": 1000})
    second = sdk.v1.refunds.create({"charge": charge.id, "amount": 2000})
    note = sdk.v1.credit_notes.create({"invoice": paid.id, "amount": 3000, "refund_amount": 3000})
    polled, _ = poll_everything(connector)
    accept(runtime, polled)
    found = {d.vendor_event_id: evs for d, evs in normalize_pending(runtime)}
    kinds = ("charge.refunded", "credit_note.created")
    by_type = [
        (p.event_type, found.get(p.vendor_event_id, []))
        for p in polled
        if p.event_type in kinds and json.loads(p.body)["data"]["object"]["customer"] == customer.id
    ]
    refunds = [
        [e.data.refund for e in evs if e.type == "syncwright.payment.refunded.v1"]
        for _, evs in by_type
    ]
    gid = runtime.xref.global_id_for
    invoice_id = gid("invoice", CONNECTION, paid.id)
    one, two = gid("refund", CONNECTION, first.id), gid("refund", CONNECTION, second.id)
    assert [t for t, _ in by_type] == [
        "charge.refunded",
        "charge.refunded",
        "charge.refunded",
        "credit_note.created",
    ]
    # Read at normalization (all refunds made by then): every delivery lists what the charge
    # has now, oldest first, the credit note's refund left out.
    assert [[r.global_id for r in batch] for batch in refunds[:3]] == [[one, two]] * 3
    assert refunds[1][1].amount == Money.of(2000, "USD")
    assert {r.invoice_id for r in refunds[1]} == {invoice_id}
    [with_note] = refunds[3]
    assert with_note.credit_note_id == gid("credit_note", CONNECTION, note.id)
    assert with_note.amount == Money.of(3000, "USD") and with_note.invoice_id == invoice_id


def test_odd_shapes_park_instead_of_crashing(connector: StripeConnector) -> None:
    for data in ([1], "x", {"object": [1]}, {"object": {"object": "invoice", "lines": 3}}):
        event = {"id": "evt_odd", "object": "event", "created": T0, "type": "invoice.paid"}
        with pytest.raises(BusinessRuleError) as info:
            _run(connector, {**event, "data": data})
        assert info.value.code == "stripe.payload_invalid"
