"""Chargebee webhooks and polling in: basic auth (with rotation) and re-fetch verification,
the events cursor (whole seconds, nothing read twice), and the canonical events of a lifecycle
driven through Chargebee's SDK."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import chargebee
import httpx
import pytest

from syncwright.errors import AuthError, ConfigError, TransientError
from syncwright.runtime import Runtime
from syncwright.sandbox import ServerThread
from syncwright.sandbox.chargebee import ChargebeeState
from tests.connectors.chargebee._support import CONNECTION, PRO_PRICE, RuntimeFactory
from tests.contract.conftest import delivery


def _auth(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def test_basic_auth_accepts_any_configured_pair(make_runtime: RuntimeFactory) -> None:
    runtime = make_runtime(webhook_secrets=["old:pass-1", "new:pass-2"])
    verifier = runtime.connection(CONNECTION).webhook_verifier()
    assert verifier is not None
    verifier.verify(b"{}", _auth("old", "pass-1"))
    verifier.verify(b"{}", _auth("new", "pass-2"))
    for headers, code in (
        (_auth("new", "pass-1"), "chargebee.webhook_bad_credentials"),
        ({"Authorization": "Bearer x"}, "chargebee.webhook_unauthenticated"),
        ({}, "chargebee.webhook_unauthenticated"),
    ):
        with pytest.raises(AuthError) as raised:
            verifier.verify(b"{}", headers)
        assert raised.value.code == code
        assert "pass-" not in str(raised.value)
    assert "pass-" not in repr(verifier)


def test_a_secret_that_is_not_user_password_stops_start_up(make_runtime: RuntimeFactory) -> None:
    with pytest.raises(ConfigError) as raised:
        make_runtime(webhook_secrets=["whsec_not_basic_auth"]).connection(CONNECTION)
    assert "webhook.secrets[0]" in raised.value.problems[0]


def test_refetch_accepts_only_events_the_api_holds(
    make_runtime: RuntimeFactory, cb_sdk: chargebee.Chargebee, cb_state: ChargebeeState
) -> None:
    runtime = make_runtime(options={"verify_webhooks_by_refetch": True})
    verifier = runtime.connection(CONNECTION).webhook_verifier()
    assert verifier is not None  # no basic auth configured: the re-fetch alone
    cb_sdk.Customer.create({"company": "Refetched"})
    event = cb_state.events[-1]
    verifier.verify(json.dumps(event).encode(), {})
    forged = {**event, "id": "ev_forged"}
    changed = {**event, "content": {"customer": {**event["content"]["customer"], "email": "x@y"}}}
    for body in (forged, changed):
        with pytest.raises(AuthError) as raised:
            verifier.verify(json.dumps(body).encode(), {})
        assert raised.value.code == "chargebee.webhook_not_verified"


def _drain(runtime: Runtime, cursor: str | None) -> tuple[list[str], str | None]:
    ids: list[str] = []
    connector = runtime.connection(CONNECTION)
    for _ in range(50):
        batch = connector.poll("events", cursor)
        ids += [e.vendor_event_id for e in batch.events]
        cursor = batch.cursor or cursor
        if not batch.has_more:
            return ids, cursor
    raise AssertionError("polling did not finish")


def test_polling_pages_through_one_second_without_repeats(
    make_runtime: RuntimeFactory, cb_sdk: chargebee.Chargebee, cb_state: ChargebeeState
) -> None:
    runtime = make_runtime(options={"poll_page_size": 2})
    for n in range(5):
        cb_sdk.Customer.create({"company": f"Polled {n}"})
    ids, cursor = _drain(runtime, None)
    assert ids == [e["id"] for e in cb_state.events if e["event_type"] == "customer_created"]
    cb_sdk.Customer.create({"company": "Later"})
    fresh, moved = _drain(runtime, cursor)
    assert fresh == [cb_state.events[-1]["id"]] and moved != cursor
    with pytest.raises(ConfigError):
        runtime.connection(CONNECTION).poll("events", "not-a-cursor")


def _normalized(runtime: Runtime, state: ChargebeeState) -> list[tuple[str, dict[str, Any]]]:
    connector = runtime.connection(CONNECTION)
    out = []
    for e in state.events:
        body = json.dumps(e).encode()
        for event in connector.normalize(delivery(CONNECTION, e["id"], e["event_type"], body)):
            out.append((event.type, event.model_dump(mode="json")["data"]))
    return out


def test_lifecycle_maps_to_canonical_events(
    make_runtime: RuntimeFactory, cb_sdk: chargebee.Chargebee, cb_state: ChargebeeState
) -> None:
    runtime = make_runtime()
    customer = cb_sdk.Customer.create(
        {
            "first_name": "Ada",
            "last_name": "Lovelace",
            "email": "ada@example.test",
            "meta_data": json.dumps({"syncwright_id": "acct_ada", "subsidiary": "UK-1"}),
        }
    ).customer
    sub = cb_sdk.Subscription.create_with_items(
        customer.id, {"subscription_items": [{"item_price_id": PRO_PRICE, "quantity": 2}]}
    ).subscription
    cb_sdk.Subscription.cancel_for_items(sub.id, {"credit_option_for_current_term_charges": "full"})
    events = _normalized(runtime, cb_state)
    assert [t for t, _ in events] == [
        "syncwright.account.upserted.v1",
        "syncwright.subscription.created.v1",
        "syncwright.subscription.activated.v1",
        "syncwright.invoice.finalized.v1",
        "syncwright.invoice.paid.v1",
        "syncwright.payment.received.v1",
        "syncwright.credit_note.issued.v1",
        "syncwright.subscription.cancelled.v1",
    ]
    by_type = dict(events)
    account = by_type["syncwright.account.upserted.v1"]["account"]
    assert (account["global_id"], account["name"], account["subsidiary"]) == (
        "acct_ada",
        "Ada Lovelace",
        "UK-1",
    )  # match-and-link by meta_data.syncwright_id
    created = by_type["syncwright.subscription.created.v1"]["subscription"]
    assert created["account_id"] == "acct_ada" and created["billing_frequency"] == "monthly"
    assert created["items"][0]["quantity"] == 2
    assert created["items"][0]["unit_amount"] == {"amount_minor": 3000, "currency": "USD"}
    paid = by_type["syncwright.invoice.paid.v1"]["invoice"]
    assert paid["total"] == {"amount_minor": 6000, "currency": "USD"} and paid["status"] == "paid"
    payment = by_type["syncwright.payment.received.v1"]["payment"]
    assert payment["applied_to"][0]["invoice_id"] == paid["global_id"]
    note = by_type["syncwright.credit_note.issued.v1"]["credit_note"]
    assert note["total"]["amount_minor"] == 6000 and note["invoice_id"] == paid["global_id"]
    cancelled = by_type["syncwright.subscription.cancelled.v1"]["subscription"]
    assert cancelled["status"] == "cancelled" and cancelled["global_id"] == created["global_id"]


def test_reconciliation_reads_and_reemits(
    make_runtime: RuntimeFactory, cb_sdk: chargebee.Chargebee, cb_state: ChargebeeState
) -> None:
    runtime = make_runtime()
    connector = runtime.connection(CONNECTION)
    customer = cb_sdk.Customer.create({"company": "Reconciled"}).customer
    made = cb_sdk.Subscription.create_with_items(
        customer.id, {"subscription_items": [{"item_price_id": PRO_PRICE, "quantity": 2}]}
    )
    invoices = list(connector.snapshot("invoices"))  # type: ignore[attr-defined]
    assert [(r.native_id, r.fields) for r in invoices] == [
        (made.invoice.id, {"total": 6000, "currency": "USD", "settled": True})
    ]
    subs = list(connector.snapshot("subscriptions"))  # type: ignore[attr-defined]
    assert [(r.native_id, r.fields) for r in subs] == [(made.subscription.id, {"active": True})]
    again = connector.reemit("invoices", made.invoice.id, "drift")  # type: ignore[attr-defined]
    types = [
        event.type
        for polled in again
        for event in connector.normalize(
            delivery(CONNECTION, polled.vendor_event_id, polled.event_type, polled.body.encode())
        )
    ]
    assert types == [
        "syncwright.invoice.finalized.v1",
        "syncwright.invoice.paid.v1",
        "syncwright.payment.received.v1",
    ]
    with pytest.raises(ConfigError):
        list(connector.snapshot("orders"))  # type: ignore[attr-defined]


def test_a_429_is_transient_with_chargebees_retry_after(
    make_runtime: RuntimeFactory, cb_server: ServerThread
) -> None:
    client = make_runtime().connection(CONNECTION).client  # type: ignore[attr-defined]
    limit = f"{cb_server.url}/_sandbox/rate_limit"
    httpx.post(limit, json={"per_minute": 1}, trust_env=False).raise_for_status()
    try:
        client.list_page("event", {"limit": 1})
        with pytest.raises(TransientError) as raised:
            client.list_page("event", {"limit": 1})
    finally:
        httpx.post(limit, json={"per_minute": None}, trust_env=False).raise_for_status()
    assert raised.value.code == "chargebee.api_request_limit_exceeded"
    assert raised.value.retry_after is not None and 1 <= raised.value.retry_after <= 60


def test_a_trial_activates_when_it_ends(
    make_runtime: RuntimeFactory,
    cb_sdk: chargebee.Chargebee,
    cb_state: ChargebeeState,
    cb_server: ServerThread,
) -> None:
    runtime = make_runtime()
    customer = cb_sdk.Customer.create({"company": "Trialist"}).customer
    trial_end = int(time.time()) + 14 * 86_400
    made = cb_sdk.Subscription.create_with_items(
        customer.id,
        {
            "subscription_items": [{"item_price_id": PRO_PRICE, "quantity": 1}],
            "trial_end": trial_end,
        },
    )
    assert made.subscription.status == "in_trial" and made.invoice is None
    httpx.post(
        f"{cb_server.url}/_sandbox/subscriptions/{made.subscription.id}/renew", trust_env=False
    ).raise_for_status()
    assert cb_state.subscriptions[made.subscription.id]["status"] == "active"
    events = _normalized(runtime, cb_state)
    types = [t for t, _ in events]
    assert types[:2] == ["syncwright.account.upserted.v1", "syncwright.subscription.created.v1"]
    assert "syncwright.subscription.activated.v1" in types
    trialing = dict(events)["syncwright.subscription.created.v1"]["subscription"]
    assert trialing["status"] == "trialing" and trialing["trial_end"] is not None
    activated = dict(events)["syncwright.subscription.activated.v1"]["subscription"]
    assert activated["status"] == "active"
    assert types.index("syncwright.subscription.activated.v1") < types.index(
        "syncwright.invoice.finalized.v1"
    )


def test_scheduled_cancellation_and_dunning_attempts_map_like_stripes(
    make_runtime: RuntimeFactory, cb_sdk: chargebee.Chargebee, cb_state: ChargebeeState
) -> None:
    """A cancellation scheduled for the term's end is an amendment (cancel at period end, still
    active); each declined collection is one more failed attempt, as Stripe's attempt_count."""
    runtime = make_runtime()
    customer = cb_sdk.Customer.create({"company": "Initech", "email": "ap@initech.test"}).customer
    cb_state.set_payment_behaviour(customer.id, "fail")
    created = cb_sdk.Subscription.create_with_items(
        customer.id, {"subscription_items": [{"item_price_id": PRO_PRICE, "quantity": 1}]}
    )
    with pytest.raises(chargebee.APIError):
        cb_sdk.Invoice.collect_payment(created.invoice.id)
    cb_sdk.Subscription.cancel_for_items(created.subscription.id, {"end_of_term": True})
    events = _normalized(runtime, cb_state)
    failed = [d for t, d in events if t == "syncwright.invoice.payment_failed.v1"]
    assert [d["attempt_count"] for d in failed] == [1, 2]
    assert failed[0]["failure_reason"] == "Your card was declined."
    [(kind, scheduled)] = events[-1:]
    assert kind == "syncwright.subscription.updated.v1"
    sub = scheduled["subscription"]
    assert sub["status"] == "active" and sub["cancel_at_period_end"] is True
    assert sub["auto_renew"] is False
