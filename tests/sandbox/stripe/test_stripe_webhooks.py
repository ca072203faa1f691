"""Webhook delivery to a real receiver: signatures, retries, duplicates, reordering, drops."""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

import httpx
import stripe

from syncwright.connectors.stripe.signature import verify_stripe_signature
from syncwright.sandbox import ServerThread
from syncwright.sandbox.stripe import StripeState, WebhookFaults


def _endpoint(client: stripe.StripeClient, url: str, events: list[str] | None = None) -> Any:
    return client.v1.webhook_endpoints.create({"url": url, "enabled_events": events or ["*"]})


def _customers(client: stripe.StripeClient, n: int) -> list[str]:
    return [client.v1.customers.create({"name": f"c{i}"}).id for i in range(n)]


def _event_ids(state: StripeState, event_type: str) -> list[str]:
    """Ids of emitted events of a type, oldest first."""
    return [e["id"] for e in reversed(state.sorted_events()) if e["type"] == event_type]


def test_delivery_is_signed_like_stripe(
    stripe_client: stripe.StripeClient, stripe_state: StripeState, receiver: Any
) -> None:
    endpoint = _endpoint(stripe_client, receiver.url, ["customer.created"])
    assert endpoint.secret.startswith("whsec_")
    assert "secret" not in stripe_client.v1.webhook_endpoints.retrieve(endpoint.id).to_dict()
    customer = stripe_client.v1.customers.create({"name": "Hooked"})
    stripe_client.v1.products.create({"name": "not subscribed to"})
    assert stripe_state.drain_webhooks(5)
    [delivery] = receiver.accepted()
    event = stripe.Webhook.construct_event(delivery["body"], delivery["signature"], endpoint.secret)
    assert event.type == "customer.created"
    assert event.data.object.id == customer.id
    verify_stripe_signature(delivery["body"], delivery["signature"], [endpoint.secret])
    assert delivery["user_agent"].startswith("Stripe/1.0")
    # Delivered: the event no longer counts as pending.
    assert stripe_client.v1.events.retrieve(event.id).pending_webhooks == 0


def test_retries_after_500_with_backoff(
    stripe_client: stripe.StripeClient, stripe_state: StripeState, receiver: Any
) -> None:
    receiver.fail_first = 2
    _endpoint(stripe_client, receiver.url, ["customer.created"])
    stripe_client.v1.customers.create({"name": "Retry me"})
    assert stripe_state.drain_webhooks(5)
    assert [d["answered"] for d in receiver.deliveries] == [500, 500, 200]
    outcomes = [(r.attempt, r.outcome, r.status_code) for r in stripe_state.webhook_deliveries()]
    assert outcomes == [(1, "failed", 500), (2, "failed", 500), (3, "delivered", 200)]
    # Each attempt is signed afresh and still verifies.
    for d in receiver.deliveries:
        stripe.WebhookSignature.verify_header(d["body"], d["signature"], _secret(stripe_state))


def _secret(state: StripeState) -> str:
    [secret] = state.webhook_secrets.values()
    return secret


def test_gives_up_after_max_attempts(
    stripe_client: stripe.StripeClient, stripe_state: StripeState, receiver: Any
) -> None:
    receiver.fail_first = 100
    _endpoint(stripe_client, receiver.url, ["customer.created"])
    stripe_client.v1.customers.create({"name": "Never"})
    assert stripe_state.drain_webhooks(10)
    records = stripe_state.webhook_deliveries()
    assert records[-1].outcome == "gave_up"
    assert sum(1 for r in records if r.outcome == "failed") == 5
    event = stripe_client.v1.events.list({"type": "customer.created"}).data[0]
    assert event.pending_webhooks == 1


def test_duplicate_delivery_switch(
    stripe_client: stripe.StripeClient, stripe_state: StripeState, receiver: Any
) -> None:
    _endpoint(stripe_client, receiver.url, ["customer.created"])
    stripe_state.configure_webhooks(WebhookFaults(duplicate_rate=1.0))
    _customers(stripe_client, 3)
    assert stripe_state.drain_webhooks(5)
    counts = Counter(receiver.event_ids())
    assert sorted(counts.values()) == [2, 2, 2]
    assert set(counts) == set(_event_ids(stripe_state, "customer.created"))


def test_out_of_order_switch(
    stripe_client: stripe.StripeClient, stripe_state: StripeState, receiver: Any
) -> None:
    _endpoint(stripe_client, receiver.url, ["customer.created"])
    stripe_state.pause_webhooks()
    _customers(stripe_client, 12)
    stripe_state.configure_webhooks(WebhookFaults(shuffle_window=12, seed=3))
    stripe_state.resume_webhooks()
    assert stripe_state.drain_webhooks(5)
    emitted = _event_ids(stripe_state, "customer.created")
    arrived = receiver.event_ids()
    assert sorted(arrived) == sorted(emitted)
    assert arrived != emitted


def test_dropped_delivery_is_healed_by_polling(
    stripe_client: stripe.StripeClient, stripe_state: StripeState, receiver: Any
) -> None:
    _endpoint(stripe_client, receiver.url, ["customer.created"])
    stripe_state.configure_webhooks(WebhookFaults(drop_next=1))
    ids = _customers(stripe_client, 3)
    assert stripe_state.drain_webhooks(5)
    delivered = set(receiver.event_ids())
    assert len(delivered) == 2
    assert [r.outcome for r in stripe_state.webhook_deliveries()].count("dropped") == 1
    # A poller walking /v1/events sees every event, including the one never delivered.
    polled = {
        e.id: e
        for e in stripe_client.v1.events.list({"type": "customer.created"}).auto_paging_iter()
    }
    missing = set(polled) - delivered
    assert len(missing) == 1
    assert polled[missing.pop()].data.object.id in ids


def test_pause_and_resume(
    stripe_client: stripe.StripeClient, stripe_state: StripeState, receiver: Any
) -> None:
    _endpoint(stripe_client, receiver.url, ["customer.created"])
    stripe_state.pause_webhooks()
    _customers(stripe_client, 2)
    assert stripe_state.drain_webhooks(0.3) is False
    assert receiver.deliveries == []
    stripe_state.resume_webhooks()
    assert stripe_state.drain_webhooks(5)
    assert len(receiver.event_ids()) == 2


def test_admin_api_drives_the_same_switches(
    stripe_client: stripe.StripeClient,
    stripe_server: ServerThread,
    stripe_state: StripeState,
    receiver: Any,
) -> None:
    _endpoint(stripe_client, receiver.url, ["customer.*"])
    with httpx.Client(base_url=f"{stripe_server.url}/_sandbox") as admin:
        assert admin.get("/health").json()["ok"] is True
        admin.post("/webhooks/pause").raise_for_status()
        customer = stripe_client.v1.customers.create({"name": "Admin"})
        admin.post("/webhooks/faults", json={"duplicate_rate": 1.0}).raise_for_status()
        admin.post("/webhooks/resume").raise_for_status()
        assert admin.post("/webhooks/drain", params={"timeout": 5}).json()["drained"] is True
        log = admin.get("/webhooks/deliveries").json()["data"]
        assert [d["duplicate"] for d in log] == [False, True]
        admin.post(
            f"/customers/{customer.id}/payment_behavior", json={"behavior": "fail"}
        ).raise_for_status()
        assert stripe_state.customer_payment_switch[customer.id] == "fail"
        admin.post("/faults", json={"error_5xx_rate": 1.0}).raise_for_status()
        with httpx.Client(base_url=stripe_server.url) as api:
            failed = api.post(
                "/v1/customers",
                data={"name": "x"},
                headers={"Authorization": "Bearer sk_test_syncwright_emulator"},
            )
        assert failed.status_code == 500 and failed.json()["error"]["type"] == "api_error"
        assert admin.get("/faults").json()["injected"]["error_5xx"] == 1
        admin.post("/faults", json={}).raise_for_status()
        admin.post("/rate_limit", json={"per_second": 1}).raise_for_status()
        admin.post("/rate_limit", json={"per_second": None}).raise_for_status()
        admin.post("/reset").raise_for_status()
    assert not stripe_state.objects["customer"]


def test_disabled_endpoint_and_event_filter(
    stripe_client: stripe.StripeClient, stripe_state: StripeState, receiver: Any
) -> None:
    endpoint = _endpoint(stripe_client, receiver.url, ["product.created"])
    stripe_client.v1.customers.create({"name": "ignored"})
    stripe_client.v1.products.create({"name": "seen"})
    stripe_client.v1.webhook_endpoints.update(endpoint.id, {"disabled": True})
    stripe_client.v1.products.create({"name": "not seen"})
    assert stripe_state.drain_webhooks(5)
    types = [d["json"]["type"] for d in receiver.accepted()]
    assert types == ["product.created"]
    time.sleep(0.05)
    assert len(receiver.accepted()) == 1
