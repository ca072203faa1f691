"""The official stripe SDK, pointed at the emulator by base URL only, runs a billing lifecycle."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import stripe

from syncwright.sandbox import FaultInjector, FaultPlan, ServerThread
from syncwright.sandbox.stripe import StripeState, create_app

API_KEY = "sk_test_syncwright_emulator"  # the conftest's key
Catalog = Any  # conftest.Catalog: product, monthly, monthly_big, yearly
JAN_1 = int(dt.datetime(2026, 1, 1, tzinfo=dt.UTC).timestamp())
DAY = 86400


def _clock_customer(client: stripe.StripeClient, pm: str = "pm_card_visa", **extra: Any) -> Any:
    clock = client.v1.test_helpers.test_clocks.create({"frozen_time": JAN_1, "name": "t"})
    customer = client.v1.customers.create(
        {
            "email": "ada@example.com",
            "name": "Ada",
            "payment_method": pm,
            "invoice_settings": {"default_payment_method": pm},
            "test_clock": clock.id,
            **extra,
        }
    )
    return clock, customer


def _types(state: StripeState) -> list[str]:
    return state.event_types()


def test_customer_crud_and_metadata(stripe_client: stripe.StripeClient) -> None:
    c = stripe_client.v1.customers.create(
        {"email": "a@example.com", "name": "A", "metadata": {"crm_id": "001", "tier": "gold"}}
    )
    assert c.id.startswith("cus_") and c.object == "customer" and c.livemode is False
    assert c.metadata.to_dict() == {"crm_id": "001", "tier": "gold"}
    updated = stripe_client.v1.customers.update(
        c.id, {"name": "B", "metadata": {"tier": "", "region": "eu"}}
    )
    assert updated.name == "B"
    assert updated.metadata.to_dict() == {"crm_id": "001", "region": "eu"}
    got = stripe_client.v1.customers.retrieve(c.id)
    assert got.email == "a@example.com"
    listed = stripe_client.v1.customers.list({"email": "a@example.com"})
    assert [x.id for x in listed.data] == [c.id]
    gone = stripe_client.v1.customers.delete(c.id)
    assert gone.deleted is True
    # Stripe keeps answering for a deleted customer with the tombstone.
    again = stripe_client.v1.customers.retrieve(c.id)
    assert again.to_dict().get("deleted") is True


def test_subscription_create_expand_and_first_invoice_paid(
    stripe_client: stripe.StripeClient, stripe_state: StripeState, catalog: Catalog
) -> None:
    _, customer = _clock_customer(stripe_client)
    sub = stripe_client.v1.subscriptions.create(
        {
            "customer": customer.id,
            "items": [{"price": catalog.monthly.id, "quantity": 2}],
            "metadata": {"deal": "D-1"},
            "expand": ["latest_invoice", "customer", "items.data.price.product"],
        }
    )
    assert sub.id.startswith("sub_")
    assert sub.status == "active"
    assert sub.customer.id == customer.id
    item = sub["items"].data[0]
    assert item.id.startswith("si_") and item.quantity == 2
    assert item.price.product.name == "Pro plan"
    assert item.current_period_start == JAN_1
    assert item.current_period_end == int(dt.datetime(2026, 2, 1, tzinfo=dt.UTC).timestamp())
    invoice = sub.latest_invoice
    assert invoice.status == "paid"
    assert invoice.amount_paid == 6000 and invoice.total == 6000
    assert invoice.billing_reason == "subscription_create"
    assert invoice.parent.subscription_details.subscription == sub.id
    assert invoice.number and invoice.number.endswith("-0001")
    assert invoice.lines.data[0].parent.subscription_item_details.subscription_item == item.id
    types = _types(stripe_state)
    for expected in (
        "customer.created",
        "customer.subscription.created",
        "invoice.created",
        "invoice.finalized",
        "invoice.paid",
        "invoice.payment_succeeded",
    ):
        assert expected in types
    assert types.index("customer.subscription.created") < types.index("invoice.paid")


def test_update_with_prorations_then_renewal_invoice(
    stripe_client: stripe.StripeClient, stripe_state: StripeState, catalog: Catalog
) -> None:
    clock, customer = _clock_customer(stripe_client)
    sub = stripe_client.v1.subscriptions.create(
        {"customer": customer.id, "items": [{"price": catalog.monthly.id}]}
    )
    stripe_client.v1.test_helpers.test_clocks.advance(clock.id, {"frozen_time": JAN_1 + 10 * DAY})
    updated = stripe_client.v1.subscriptions.update(
        sub.id,
        {
            "items": [{"id": sub["items"].data[0].id, "price": catalog.monthly_big.id}],
            "proration_behavior": "create_prorations",
        },
    )
    assert updated["items"].data[0].price.id == catalog.monthly_big.id
    event = stripe_client.v1.events.list(
        {"type": "customer.subscription.updated", "limit": 1}
    ).data[0]
    assert "items" in event.data.previous_attributes
    pending = stripe_client.v1.invoice_items.list({"customer": customer.id, "pending": True}).data
    assert len(pending) == 2 and all(ii.proration for ii in pending)
    amounts = sorted(ii.amount for ii in pending)
    # 21 of 31 days remain: credit 3000*21/31, charge 9000*21/31.
    assert amounts == [-round(3000 * 21 / 31), round(9000 * 21 / 31)]

    # The period ends on Feb 1: a renewal draft, finalized and paid an hour later.
    stripe_client.v1.test_helpers.test_clocks.advance(clock.id, {"frozen_time": JAN_1 + 32 * DAY})
    invoices = stripe_client.v1.invoices.list({"subscription": sub.id}).data
    renewal = next(i for i in invoices if i.billing_reason == "subscription_cycle")
    assert renewal.status == "paid"
    assert renewal.total == 9000 + sum(amounts)
    assert {line.parent.type for line in renewal.lines.data} == {
        "invoice_item_details",
        "subscription_item_details",
    }
    assert not stripe_client.v1.invoice_items.list({"customer": customer.id, "pending": True}).data
    renewed = stripe_client.v1.subscriptions.retrieve(sub.id)
    assert renewed.latest_invoice == renewal.id
    assert renewed["items"].data[0].current_period_start == int(
        dt.datetime(2026, 2, 1, tzinfo=dt.UTC).timestamp()
    )


def test_an_existing_customer_moves_onto_a_new_clock_and_prorates_at_its_time(
    stripe_client: stripe.StripeClient, stripe_state: StripeState, catalog: Catalog
) -> None:
    """Test clock create's ``customer``: a customer billed on real time so far (as another
    system created it) follows the clock from then on."""
    pm = "pm_card_visa"
    customer = stripe_client.v1.customers.create(
        {"payment_method": pm, "invoice_settings": {"default_payment_method": pm}}
    )
    sub = stripe_client.v1.subscriptions.create(
        {"customer": customer.id, "items": [{"price": catalog.monthly.id}]}
    )
    item = sub["items"].data[0]
    start, end = item.current_period_start, item.current_period_end
    now = stripe_state.wall_now()
    with pytest.raises(stripe.InvalidRequestError) as past:
        stripe_client.v1.test_helpers.test_clocks.create(
            {"frozen_time": now - DAY, "customer": customer.id}
        )
    assert past.value.param == "frozen_time"
    # A minute ahead: the request may reach the emulator in a later second than ``now``.
    clock = stripe_client.v1.test_helpers.test_clocks.create(
        {"frozen_time": now + 60, "customer": customer.id}
    )
    assert stripe_client.v1.customers.retrieve(customer.id).test_clock == clock.id
    assert stripe_client.v1.subscriptions.retrieve(sub.id).test_clock == clock.id
    with pytest.raises(stripe.InvalidRequestError) as again:
        stripe_client.v1.test_helpers.test_clocks.create(
            {"frozen_time": now + 60, "customer": customer.id}
        )
    assert again.value.param == "customer"

    middle = start + (end - start) // 2
    stripe_client.v1.test_helpers.test_clocks.advance(clock.id, {"frozen_time": middle})
    stripe_client.v1.subscriptions.update(
        sub.id,
        {
            "items": [{"id": item.id, "quantity": 3}],
            "proration_behavior": "create_prorations",
        },
    )
    pending = stripe_client.v1.invoice_items.list({"customer": customer.id, "pending": True}).data
    remaining = (end - middle) / (end - start)  # the half of the period left at the clock's time
    assert sorted(ii.amount for ii in pending) == [
        -round(3000 * remaining),
        round(3 * 3000 * remaining),
    ]
    stripe_client.v1.test_helpers.test_clocks.advance(clock.id, {"frozen_time": end + 7200})
    renewal = next(
        i
        for i in stripe_client.v1.invoices.list({"subscription": sub.id}).data
        if i.billing_reason == "subscription_cycle"
    )
    assert renewal.status == "paid"
    assert renewal.total == 3 * 3000 + sum(ii.amount for ii in pending)


def test_always_invoice_and_interval_change(
    stripe_client: stripe.StripeClient, catalog: Catalog
) -> None:
    clock, customer = _clock_customer(stripe_client)
    sub = stripe_client.v1.subscriptions.create(
        {"customer": customer.id, "items": [{"price": catalog.monthly.id}]}
    )
    stripe_client.v1.test_helpers.test_clocks.advance(clock.id, {"frozen_time": JAN_1 + 5 * DAY})
    si = sub["items"].data[0]
    up = stripe_client.v1.subscription_items.update(
        si.id, {"quantity": 3, "proration_behavior": "always_invoice"}
    )
    assert up.quantity == 3
    sub = stripe_client.v1.subscriptions.retrieve(sub.id, {"expand": ["latest_invoice"]})
    assert sub.latest_invoice.billing_reason == "subscription_update"
    assert sub.latest_invoice.status == "paid"
    assert sub.latest_invoice.total == round(3000 * 2 * 26 / 31)

    # Monthly -> yearly resets the billing cycle and charges the new period now.
    yearly = stripe_client.v1.subscriptions.update(
        sub.id,
        {
            "items": [{"id": si.id, "price": catalog.yearly.id, "quantity": 1}],
            "expand": ["latest_invoice"],
        },
    )
    assert yearly.billing_cycle_anchor == JAN_1 + 5 * DAY
    assert yearly.latest_invoice.status == "paid"
    assert yearly["items"].data[0].current_period_end == int(
        dt.datetime(2027, 1, 6, tzinfo=dt.UTC).timestamp()
    )
    assert yearly.latest_invoice.total == 30000 - round(3000 * 3 * 26 / 31)


def test_manual_invoice_draft_finalize_pay(
    stripe_client: stripe.StripeClient, stripe_state: StripeState, catalog: Catalog
) -> None:
    _, customer = _clock_customer(stripe_client)
    stripe_client.v1.invoice_items.create(
        {"customer": customer.id, "amount": 1250, "currency": "usd", "description": "Setup fee"}
    )
    draft = stripe_client.v1.invoices.create(
        {"customer": customer.id, "pending_invoice_items_behavior": "include"}
    )
    assert draft.status == "draft" and draft.total == 1250 and draft.number is None
    assert draft.auto_advance is False
    opened = stripe_client.v1.invoices.finalize_invoice(draft.id)
    assert opened.status == "open" and opened.amount_remaining == 1250 and opened.number
    paid = stripe_client.v1.invoices.pay(draft.id, {"expand": ["payments"]})
    assert paid.status == "paid" and paid.amount_paid == 1250 and paid.amount_remaining == 0
    assert paid.status_transitions.paid_at is not None
    payment = paid.payments.data[0]
    assert payment.status == "paid"
    pi = stripe_client.v1.payment_intents.retrieve(payment.payment.payment_intent)
    assert pi.status == "succeeded" and pi.amount_received == 1250
    with pytest.raises(stripe.InvalidRequestError) as err:
        stripe_client.v1.invoices.pay(draft.id)
    assert "already paid" in str(err.value.user_message)
    lines = stripe_client.v1.invoices.line_items.list(draft.id)
    assert lines.data[0].amount == 1250


def test_failed_payment_on_create_and_on_renewal(
    stripe_client: stripe.StripeClient, stripe_state: StripeState, catalog: Catalog
) -> None:
    # First invoice declined: incomplete subscription, open invoice, invoice.payment_failed.
    clock, declined = _clock_customer(stripe_client, pm="pm_card_chargeDeclined")
    sub = stripe_client.v1.subscriptions.create(
        {
            "customer": declined.id,
            "items": [{"price": catalog.monthly.id}],
            "expand": ["latest_invoice"],
        }
    )
    assert sub.status == "incomplete"
    assert sub.latest_invoice.status == "open"
    assert sub.latest_invoice.attempt_count == 1 and sub.latest_invoice.attempted is True
    failed = stripe_client.v1.events.list({"type": "invoice.payment_failed"}).data
    assert failed[0].data.object.id == sub.latest_invoice.id
    with pytest.raises(stripe.CardError) as err:
        stripe_client.v1.invoices.pay(sub.latest_invoice.id)
    assert err.value.code == "card_declined"
    # 23 hours later the incomplete subscription expires and its invoice is voided.
    stripe_client.v1.test_helpers.test_clocks.advance(clock.id, {"frozen_time": JAN_1 + DAY})
    assert stripe_client.v1.subscriptions.retrieve(sub.id).status == "incomplete_expired"
    assert stripe_client.v1.invoices.retrieve(sub.latest_invoice.id).status == "void"

    # Renewal declined: past_due, retries, then cancelled after the last retry.
    clock2, customer = _clock_customer(stripe_client)
    sub2 = stripe_client.v1.subscriptions.create(
        {"customer": customer.id, "items": [{"price": catalog.monthly.id}]}
    )
    stripe_state.set_payment_behaviour(customer.id, "fail")
    stripe_client.v1.test_helpers.test_clocks.advance(clock2.id, {"frozen_time": JAN_1 + 32 * DAY})
    sub2 = stripe_client.v1.subscriptions.retrieve(sub2.id, {"expand": ["latest_invoice"]})
    assert sub2.status == "past_due"
    assert sub2.latest_invoice.status == "open"
    assert sub2.latest_invoice.next_payment_attempt == JAN_1 + 31 * DAY + 3600 + 3 * DAY
    stripe_client.v1.test_helpers.test_clocks.advance(clock2.id, {"frozen_time": JAN_1 + 50 * DAY})
    ended = stripe_client.v1.subscriptions.retrieve(sub2.id, {"expand": ["latest_invoice"]})
    assert ended.status == "canceled"
    assert ended.cancellation_details.reason == "payment_failed"
    assert ended.latest_invoice.attempt_count == 4
    deleted = stripe_client.v1.events.list({"type": "customer.subscription.deleted"}).data
    assert deleted[0].data.object.id == sub2.id


def test_payment_switch_by_metadata_and_recovery(
    stripe_client: stripe.StripeClient, catalog: Catalog
) -> None:
    _, customer = _clock_customer(stripe_client, metadata={"sandbox_payment": "fail"})
    sub = stripe_client.v1.subscriptions.create(
        {"customer": customer.id, "items": [{"price": catalog.monthly.id}]}
    )
    assert sub.status == "incomplete"
    stripe_client.v1.customers.update(customer.id, {"metadata": {"sandbox_payment": ""}})
    paid = stripe_client.v1.invoices.pay(sub.latest_invoice)
    assert paid.status == "paid"
    assert stripe_client.v1.subscriptions.retrieve(sub.id).status == "active"
    with pytest.raises(stripe.CardError):
        stripe_client.v1.subscriptions.create(
            {
                "customer": customer.id,
                "items": [{"price": catalog.monthly.id}],
                "payment_behavior": "error_if_incomplete",
                "default_payment_method": "pm_card_chargeDeclinedInsufficientFunds",
            }
        )


def test_credit_notes_pre_and_post_payment(
    stripe_client: stripe.StripeClient, stripe_state: StripeState, catalog: Catalog
) -> None:
    _, customer = _clock_customer(stripe_client)
    stripe_client.v1.invoice_items.create(
        {"customer": customer.id, "pricing": {"price": catalog.monthly.id}, "quantity": 2}
    )
    inv = stripe_client.v1.invoices.create(
        {"customer": customer.id, "pending_invoice_items_behavior": "include"}
    )
    inv = stripe_client.v1.invoices.finalize_invoice(inv.id)
    assert inv.amount_due == 6000
    line_id = inv.lines.data[0].id
    cn = stripe_client.v1.credit_notes.create(
        {
            "invoice": inv.id,
            "lines": [{"type": "invoice_line_item", "invoice_line_item": line_id, "quantity": 1}],
            "reason": "order_change",
        }
    )
    assert cn.id.startswith("cn_") and cn.type == "pre_payment" and cn.amount == 3000
    assert cn.number == f"{inv.number}-CN-01"
    inv = stripe_client.v1.invoices.retrieve(inv.id)
    assert inv.amount_remaining == 3000 and inv.pre_payment_credit_notes_amount == 3000
    voided = stripe_client.v1.credit_notes.void_credit_note(cn.id)
    assert voided.status == "void" and voided.voided_at is not None
    assert stripe_client.v1.invoices.retrieve(inv.id).amount_remaining == 6000

    paid = stripe_client.v1.invoices.pay(inv.id)
    assert paid.status == "paid"
    post = stripe_client.v1.credit_notes.create(
        {"invoice": inv.id, "amount": 1000, "memo": "Sorry"}
    )
    assert post.type == "post_payment"
    assert stripe_client.v1.customers.retrieve(customer.id).balance == -1000
    with pytest.raises(stripe.InvalidRequestError):
        stripe_client.v1.credit_notes.create({"invoice": inv.id, "amount": 999999})
    types = _types(stripe_state)
    assert types.count("credit_note.created") == 2 and "credit_note.voided" in types


def test_cancel_now_and_at_period_end(
    stripe_client: stripe.StripeClient, stripe_state: StripeState, catalog: Catalog
) -> None:
    clock, customer = _clock_customer(stripe_client)
    now_sub = stripe_client.v1.subscriptions.create(
        {"customer": customer.id, "items": [{"price": catalog.monthly.id}]}
    )
    canceled = stripe_client.v1.subscriptions.cancel(
        now_sub.id, {"cancellation_details": {"comment": "too pricey"}}
    )
    assert canceled.status == "canceled" and canceled.ended_at == JAN_1
    assert canceled.cancellation_details.comment == "too pricey"

    later = stripe_client.v1.subscriptions.create(
        {"customer": customer.id, "items": [{"price": catalog.monthly.id}]}
    )
    flagged = stripe_client.v1.subscriptions.update(later.id, {"cancel_at_period_end": True})
    assert flagged.status == "active" and flagged.cancel_at_period_end is True
    assert flagged.cancel_at == later["items"].data[0].current_period_end
    stripe_client.v1.test_helpers.test_clocks.advance(clock.id, {"frozen_time": JAN_1 + 40 * DAY})
    ended = stripe_client.v1.subscriptions.retrieve(later.id)
    assert ended.status == "canceled"
    assert ended.ended_at == later["items"].data[0].current_period_end
    listed = stripe_client.v1.subscriptions.list({"customer": customer.id})
    assert listed.data == []
    assert (
        len(stripe_client.v1.subscriptions.list({"customer": customer.id, "status": "all"}).data)
        == 2
    )
    assert _types(stripe_state).count("customer.subscription.deleted") == 2


def test_events_pagination_filters_and_auto_paging(
    stripe_client: stripe.StripeClient, stripe_state: StripeState
) -> None:
    for i in range(25):
        stripe_client.v1.customers.create({"name": f"c{i}"})
    first = stripe_client.v1.events.list({"limit": 10, "type": "customer.created"})
    assert len(first.data) == 10 and first.has_more is True
    assert first.url == "/v1/events"
    every = [e.id for e in first.auto_paging_iter()]
    assert len(every) == 25 and len(set(every)) == 25
    # Newest first, like Stripe.
    assert every == [
        e["id"] for e in stripe_state.sorted_events() if e["type"] == "customer.created"
    ]
    second = stripe_client.v1.events.list({"limit": 10, "starting_after": first.data[-1].id})
    assert second.data[0].id == every[10]
    back = stripe_client.v1.events.list({"limit": 5, "ending_before": second.data[0].id})
    assert [e.id for e in back.data] == every[5:10]
    since = stripe_client.v1.events.list({"created": {"gte": first.data[0].created}})
    assert since.data
    wildcard = stripe_client.v1.events.list({"type": "customer.*", "limit": 100})
    assert len(wildcard.data) == 25
    one = stripe_client.v1.events.retrieve(every[0])
    assert one.type == "customer.created"
    assert one.api_version and one.request.id.startswith("req_")
    assert one.data.object.object == "customer"


def test_idempotency_replay_and_conflict(
    stripe_client: stripe.StripeClient, stripe_state: StripeState
) -> None:
    opts: Any = {"idempotency_key": "key-123"}
    a = stripe_client.v1.customers.create({"email": "x@example.com"}, opts)
    b = stripe_client.v1.customers.create({"email": "x@example.com"}, opts)
    assert a.id == b.id
    assert b.last_response is not None
    assert b.last_response.headers.get("Idempotent-Replayed") == "true"
    assert len(stripe_state.objects["customer"]) == 1
    event = stripe_client.v1.events.list({"limit": 1}).data[0]
    assert event.request.idempotency_key == "key-123"
    with pytest.raises(stripe.IdempotencyError):
        stripe_client.v1.customers.create({"email": "other@example.com"}, opts)


def test_errors_surface_as_sdk_exceptions(
    stripe_client: stripe.StripeClient, stripe_server: ServerThread
) -> None:
    with pytest.raises(stripe.InvalidRequestError) as missing:
        stripe_client.v1.customers.retrieve("cus_doesnotexist")
    assert missing.value.http_status == 404
    assert missing.value.code == "resource_missing" and missing.value.param == "id"
    with pytest.raises(stripe.InvalidRequestError) as unknown:
        stripe_client.v1.customers.create({"emial": "typo@example.com"})  # type: ignore[typeddict-unknown-key]
    assert unknown.value.code == "parameter_unknown" and unknown.value.param == "emial"
    with pytest.raises(stripe.InvalidRequestError) as required:
        stripe_client.v1.subscriptions.create({"items": [{"price": "price_x"}]})  # type: ignore[typeddict-item]
    assert required.value.code == "parameter_missing" and required.value.param == "customer"
    bad = stripe.StripeClient("sk_test_wrong", base_addresses={"api": stripe_server.url})
    with pytest.raises(stripe.AuthenticationError) as auth:
        bad.v1.customers.list()
    assert "sk_test_wrong" not in str(auth.value)


def test_rate_limit_surfaces_as_rate_limit_error(stripe_state: StripeState) -> None:
    app = create_app(stripe_state, api_key=API_KEY, rate_limit_per_second=2)
    with ServerThread(app) as server:
        client = stripe.StripeClient(
            API_KEY, base_addresses={"api": server.url}, max_network_retries=0
        )
        with pytest.raises(stripe.RateLimitError) as err:
            for _ in range(10):
                client.v1.customers.list()
        assert err.value.http_status == 429
        assert err.value.error is not None and err.value.error.type == "rate_limit_error"
        assert err.value.error.code == "rate_limit"


def test_global_api_base_style(stripe_server: ServerThread) -> None:
    saved = (stripe.api_key, stripe.api_base)
    stripe.api_key, stripe.api_base = API_KEY, stripe_server.url
    try:
        customer = stripe.Customer.create(name="Global")
        assert stripe.Customer.retrieve(customer.id).name == "Global"
    finally:
        stripe.api_key, stripe.api_base = saved


def test_sdk_retries_heal_5xx_and_lost_responses(
    stripe_server: ServerThread,
    stripe_state: StripeState,
    stripe_faults: FaultInjector,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # 5xx before applying: the SDK retries (same Idempotency-Key) and one customer exists.
    stripe_faults.configure(FaultPlan(error_5xx_rate=0.5, seed=7))
    # The SDK's own backoff (class attributes), shortened for the test.
    monkeypatch.setattr(stripe.HTTPClient, "INITIAL_DELAY", 0.01)
    monkeypatch.setattr(stripe.HTTPClient, "MAX_DELAY", 0.05)
    retrying = stripe.StripeClient(
        API_KEY, base_addresses={"api": stripe_server.url}, max_network_retries=6
    )
    for i in range(4):
        retrying.v1.customers.create({"name": f"r{i}"})
    assert len(stripe_state.objects["customer"]) == 4
    assert stripe_faults.injected["error_5xx"] >= 1

    # Applied, then the response is lost: the retry replays the saved result.
    client = stripe.StripeClient(
        API_KEY,
        base_addresses={"api": stripe_server.url},
        max_network_retries=0,
        http_client=stripe.RequestsClient(timeout=0.5),
    )
    stripe_faults.configure(FaultPlan(lost_response_rate=1.0, stall_seconds=1.0))
    with pytest.raises(stripe.APIConnectionError):
        client.v1.customers.create({"name": "lost"}, {"idempotency_key": "lost-1"})
    assert [c["name"] for c in stripe_state.objects["customer"].values()].count("lost") == 1
    stripe_faults.configure(FaultPlan())
    replay = client.v1.customers.create({"name": "lost"}, {"idempotency_key": "lost-1"})
    assert replay.last_response is not None
    assert replay.last_response.headers.get("Idempotent-Replayed") == "true"
    assert [c["name"] for c in stripe_state.objects["customer"].values()].count("lost") == 1


def test_payment_intents_basic(stripe_client: stripe.StripeClient) -> None:
    customer = stripe_client.v1.customers.create({"name": "P"})
    pi = stripe_client.v1.payment_intents.create(
        {"amount": 1999, "currency": "usd", "customer": customer.id}
    )
    assert pi.id.startswith("pi_") and pi.status == "requires_payment_method"
    assert pi.client_secret.startswith(pi.id + "_secret_")
    done = stripe_client.v1.payment_intents.confirm(pi.id, {"payment_method": "pm_card_visa"})
    assert done.status == "succeeded" and done.amount_received == 1999
    with pytest.raises(stripe.CardError) as err:
        stripe_client.v1.payment_intents.create(
            {
                "amount": 1999,
                "currency": "usd",
                "payment_method": "pm_card_chargeDeclined",
                "confirm": True,
            }
        )
    assert err.value.code == "card_declined"
    assert err.value.error is not None and err.value.error.payment_intent is not None
    with pytest.raises(stripe.InvalidRequestError) as small:
        stripe_client.v1.payment_intents.create({"amount": 10, "currency": "usd"})
    assert small.value.code == "amount_too_small"
    canceled = stripe_client.v1.payment_intents.cancel(
        stripe_client.v1.payment_intents.create({"amount": 500, "currency": "usd"}).id
    )
    assert canceled.status == "canceled"


def test_trial_then_first_paid_period_and_clock_limit(
    stripe_client: stripe.StripeClient, catalog: Catalog
) -> None:
    clock, customer = _clock_customer(stripe_client)
    sub = stripe_client.v1.subscriptions.create(
        {
            "customer": customer.id,
            "items": [{"price": catalog.monthly.id}],
            "trial_period_days": 14,
            "expand": ["latest_invoice"],
        }
    )
    assert sub.status == "trialing" and sub.trial_end == JAN_1 + 14 * DAY
    assert sub.latest_invoice.total == 0 and sub.latest_invoice.status == "paid"
    assert sub.latest_invoice.lines.data[0].description.startswith("Trial period for")
    # Stripe refuses to jump more than two intervals of the shortest subscription at once.
    with pytest.raises(stripe.InvalidRequestError) as err:
        stripe_client.v1.test_helpers.test_clocks.advance(
            clock.id, {"frozen_time": JAN_1 + 120 * DAY}
        )
    assert err.value.param == "frozen_time"
    advanced = stripe_client.v1.test_helpers.test_clocks.advance(
        clock.id, {"frozen_time": JAN_1 + 15 * DAY}
    )
    assert advanced.status == "advancing"
    assert stripe_client.v1.test_helpers.test_clocks.retrieve(clock.id).status == "ready"
    after = stripe_client.v1.subscriptions.retrieve(sub.id, {"expand": ["latest_invoice"]})
    assert after.status == "active"
    assert after.latest_invoice.billing_reason == "subscription_cycle"
    assert after.latest_invoice.status == "paid" and after.latest_invoice.total == 3000
    assert after["items"].data[0].current_period_end == JAN_1 + 14 * DAY + 31 * DAY


def test_default_incomplete_waits_for_confirmation(
    stripe_client: stripe.StripeClient, catalog: Catalog
) -> None:
    _, customer = _clock_customer(stripe_client)
    sub = stripe_client.v1.subscriptions.create(
        {
            "customer": customer.id,
            "items": [{"price": catalog.monthly.id}],
            "payment_behavior": "default_incomplete",
            "expand": ["latest_invoice.payments"],
        }
    )
    assert sub.status == "incomplete"
    payment = sub.latest_invoice.payments.data[0]
    pi = stripe_client.v1.payment_intents.retrieve(payment.payment.payment_intent)
    assert pi.status == "requires_payment_method" and pi.amount == 3000
