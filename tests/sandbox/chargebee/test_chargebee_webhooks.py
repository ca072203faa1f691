"""Webhooks as Chargebee sends them: the event JSON POSTed with the endpoint's basic auth,
retried on failure; the event envelope has every field Chargebee's spec requires; a dropped
delivery is still in the events API (what polling heals from)."""

from __future__ import annotations

import time

import httpx

from tests._vendor import vendor_json
from tests.connectors.chargebee._support import PRO_PRICE
from tests.sandbox.chargebee.conftest import Emulator, Receiver, basic


def _drain(emulator: Emulator) -> None:
    answer = httpx.post(f"{emulator.url}/_sandbox/webhooks/drain", trust_env=False).json()
    assert answer["drained"], answer


def test_events_arrive_with_basic_auth_and_the_specs_envelope(
    emulator: Emulator, receiver: Receiver
) -> None:
    httpx.post(
        f"{emulator.url}/_sandbox/webhooks",
        trust_env=False,
        json={"url": receiver.url, "username": "hook", "password": "s3cret"},
    )
    receiver.fail_next = 1  # the first attempt fails: Chargebee retries
    customer = emulator.sdk.Customer.create({"company": "Hooked"}).customer
    emulator.sdk.Subscription.create_with_items(
        customer.id, {"subscription_items": [{"item_price_id": PRO_PRICE, "quantity": 1}]}
    )
    _drain(emulator)
    with receiver.lock:
        mine = [
            (b, a)
            for b, a in receiver.received
            if b["content"].get("customer", {}).get("id") == customer.id
        ]
    assert [b["event_type"] for b, _ in mine] == [
        "customer_created",
        "subscription_created",
        "payment_succeeded",
    ]
    assert {a for _, a in mine} == {basic("hook", "s3cret")}
    facts = vendor_json("chargebee/pc2-openapi.facts.json")["webhook_event_envelope"]
    v1 = vendor_json("chargebee/api_v1_spec.subset.json")
    for body, _ in mine:
        assert set(facts["required"]) <= set(body)
        assert body["event_type"] in v1["webhook_event_types"]
    sub = mine[1][0]["content"]["subscription"]
    assert set(
        vendor_json("chargebee/pc2-openapi.facts.json")["Subscription_schema_required"]
    ) <= set(sub)
    deliveries = httpx.get(f"{emulator.url}/_sandbox/webhooks/deliveries", trust_env=False).json()[
        "data"
    ]
    assert any(d["outcome"] == "failed" and d["status_code"] == 500 for d in deliveries)


def test_webhook_endpoints_through_the_sdk_filter_events(
    emulator: Emulator, receiver: Receiver
) -> None:
    """``WebhookEndpoint.create`` as a user registers one: only its enabled events, with its
    basic auth; the password is never shown back."""
    emulator.state.webhooks.configure(None)  # only the endpoint made here
    made = emulator.sdk.WebhookEndpoint.create(
        {
            "name": "only subscriptions",
            "url": receiver.url,
            "basic_auth_username": "sdk",
            "basic_auth_password": "sdk-pass",
            "enabled_events": ["subscription_created"],
        }
    ).webhook_endpoint
    assert made.enabled_events == ["subscription_created"]
    assert getattr(made, "basic_auth_password", None) is None
    customer = emulator.sdk.Customer.create({"company": f"Filtered {time.time_ns()}"}).customer
    emulator.sdk.Subscription.create_with_items(
        customer.id, {"subscription_items": [{"item_price_id": PRO_PRICE, "quantity": 1}]}
    )
    _drain(emulator)
    with receiver.lock:
        mine = [
            (b["event_type"], a)
            for b, a in receiver.received
            if b["content"].get("customer", {}).get("id") == customer.id
        ]
    assert mine == [("subscription_created", basic("sdk", "sdk-pass"))]


def test_a_dropped_delivery_is_still_in_the_events_api(
    emulator: Emulator, receiver: Receiver
) -> None:
    httpx.post(f"{emulator.url}/_sandbox/webhooks", trust_env=False, json={"url": receiver.url})
    httpx.post(f"{emulator.url}/_sandbox/webhooks/drop_next", params={"count": 1}, trust_env=False)
    customer = emulator.sdk.Customer.create({"company": f"Dropped {time.time_ns()}"}).customer
    _drain(emulator)
    delivered = [
        b for b in receiver.events() if b["content"].get("customer", {}).get("id") == customer.id
    ]
    assert delivered == []
    listed = emulator.sdk.Event.list({"limit": 5}).list
    assert any(
        e.event.content["customer"]["id"] == customer.id
        for e in listed
        if e.event.event_type == "customer_created"
    )
