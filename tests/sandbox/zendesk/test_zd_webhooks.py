"""Webhooks: deliveries to a real HTTP receiver, signed as Zendesk signs, in Zendesk's envelope,
retried as Zendesk retries; our verifier accepts them and rejects tampered or stale ones."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from zenpy import Zenpy
from zenpy.lib.api_objects import Organization, OrganizationField, Ticket, User, Webhook

from syncwright.connectors.zendesk.signature import (
    CODE_MISMATCH,
    CODE_STALE,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    verify_zendesk_signature,
)
from syncwright.errors import AuthError
from syncwright.sandbox._server import free_port
from tests._vendor import vendor_json


def _subscribe(zenpy: Zenpy, url: str, *subscriptions: str) -> tuple[str, str]:
    hook = zenpy.webhooks.create(
        Webhook(
            name="syncwright intake",
            endpoint=url,
            http_method="POST",
            request_format="json",
            status="active",
            subscriptions=list(subscriptions),
        )
    )
    secret = zenpy.webhooks.show_secret(hook).secret
    return hook.id, secret


def _verify(received: Any, secrets: list[str], **kwargs: Any) -> None:
    verify_zendesk_signature(
        received.body,
        received.headers.get(SIGNATURE_HEADER.lower()),
        received.headers.get(TIMESTAMP_HEADER.lower()),
        secrets,
        **kwargs,
    )


def _vendor_sample(name: str) -> dict[str, Any]:
    sample: dict[str, Any] = vendor_json(f"zendesk/webhooks/{name}")
    return sample


def test_organization_events_are_signed_and_verify(
    zenpy: Zenpy, zendesk: Any, receiver: Any
) -> None:
    hook_id, secret = _subscribe(
        zenpy,
        receiver.url,
        "zen:event-type:organization.created",
        "zen:event-type:organization.custom_field_changed",
    )
    zenpy.organization_fields.create(
        OrganizationField(type="text", key="sla_policy", title="SLA policy")
    )
    org = zenpy.organizations.create(Organization(name="Acme", external_id="crm-1"))
    org.organization_fields = {"sla_policy": "24x7"}
    zenpy.organizations.update(org)
    assert zendesk.emulator.wait_for_deliveries(5)
    first, second = receiver.wait_for(2)

    for delivery in (first, second):
        _verify(delivery, [secret])
        assert delivery.headers["x-zendesk-webhook-id"] == hook_id
        assert delivery.headers["user-agent"] == "Zendesk Webhook"
    created, changed = json.loads(first.body), json.loads(second.body)
    assert created["type"] == "zen:event-type:organization.created"
    assert created["subject"] == f"zen:organization:{org.id}"
    assert created["detail"]["id"] == str(org.id)  # ids are strings in event payloads
    assert created["detail"]["external_id"] == "crm-1"
    assert changed["type"] == "zen:event-type:organization.custom_field_changed"
    assert (changed["event"]["current"], changed["event"]["previous"]) == ("24x7", None)
    assert changed["event"]["field"]["key"] == "sla_policy"

    # Same envelope as the vendor's documented sample, key for key.
    sample = _vendor_sample("user.active_changed.doc-example.json")
    assert set(created) == set(sample)
    assert {k: type(v) for k, v in created.items()} == {k: type(v) for k, v in sample.items()}


def test_user_event_detail_matches_the_vendor_sample(
    zenpy: Zenpy, zendesk: Any, receiver: Any
) -> None:
    _, secret = _subscribe(zenpy, receiver.url, "zen:event-type:user.active_changed")
    user = zenpy.users.create(User(name="Jane", email="jane@acme.test"))
    zenpy.users.delete(user)
    (delivery,) = receiver.wait_for(1)
    _verify(delivery, [secret])
    payload = json.loads(delivery.body)
    sample = _vendor_sample("user.active_changed.doc-example.json")
    assert payload["type"] == sample["type"]
    assert payload["event"] == sample["event"] == {"current": False, "previous": True}
    assert set(payload["detail"]) == set(sample["detail"])
    assert payload["detail"]["organization_id"] == "0"  # no organization, as in the sample


def test_tampered_or_stale_deliveries_are_rejected(
    zenpy: Zenpy, zendesk: Any, receiver: Any
) -> None:
    _, secret = _subscribe(zenpy, receiver.url, "zen:event-type:organization.*")
    zenpy.organizations.create(Organization(name="Acme"))
    (delivery,) = receiver.wait_for(1)
    _verify(delivery, [secret])

    tampered = type(delivery)(delivery.body.replace(b"Acme", b"Evil"), delivery.headers)
    with pytest.raises(AuthError) as caught:
        _verify(tampered, [secret])
    assert caught.value.code == CODE_MISMATCH

    with pytest.raises(AuthError) as caught:
        _verify(delivery, ["someone-elses-secret"])
    assert caught.value.code == CODE_MISMATCH

    later = datetime.now(UTC) + timedelta(minutes=6)
    with pytest.raises(AuthError) as caught:
        _verify(delivery, [secret], now=later)
    assert caught.value.code == CODE_STALE


def test_failed_deliveries_are_retried_then_succeed(
    zenpy: Zenpy, zendesk: Any, receiver: Any
) -> None:
    hook_id, secret = _subscribe(zenpy, receiver.url, "zen:event-type:organization.created")
    receiver.script[:] = [(409, {}), (503, {"Retry-After": "0"})]
    zenpy.organizations.create(Organization(name="Acme"))
    assert zendesk.emulator.wait_for_deliveries(5)
    attempts = receiver.wait_for(3)
    assert len(attempts) == 3
    assert len({a.body for a in attempts}) == 1  # the same event, re-sent
    for attempt in attempts:
        _verify(attempt, [secret])  # each attempt signed afresh
    with zendesk.client() as api:
        (invocation,) = api.get(f"/api/v2/webhooks/{hook_id}/invocations").json()["invocations"]
        assert (invocation["status"], invocation["latest_status"]) == ("success", 200)
        tries = api.get(
            f"/api/v2/webhooks/{hook_id}/invocations/{invocation['id']}/attempts"
        ).json()["attempts"]
    assert [t["status_code"] for t in tries] == [409, 503, 200]


def test_retry_after_of_a_minute_or_more_is_not_retried(
    zenpy: Zenpy, zendesk: Any, receiver: Any
) -> None:
    _subscribe(zenpy, receiver.url, "zen:event-type:organization.created")
    receiver.script[:] = [(429, {"Retry-After": "60"})]
    zenpy.organizations.create(Organization(name="Acme"))
    assert zendesk.emulator.wait_for_deliveries(5)
    assert len(receiver.received) == 1
    stats = zendesk.emulator.dispatcher.stats
    assert (stats.failed, stats.succeeded) == (1, 0)


def test_unreachable_endpoint_is_retried_five_times(zenpy: Zenpy, zendesk: Any) -> None:
    _subscribe(zenpy, f"http://127.0.0.1:{free_port()}/gone", "zen:event-type:user.created")
    zenpy.users.create(User(name="Jane"))
    assert zendesk.emulator.wait_for_deliveries(10)
    stats = zendesk.emulator.dispatcher.stats
    assert (stats.attempts, stats.retried, stats.failed) == (6, 5, 1)


def test_ticket_events_and_trigger_webhooks(zenpy: Zenpy, zendesk: Any, receiver: Any) -> None:
    _, events_secret = _subscribe(zenpy, receiver.url, "zen:event-type:ticket.*")
    _, trigger_secret = _subscribe(zenpy, receiver.url, "conditional_ticket_events")
    audit = zenpy.tickets.create(Ticket(subject="Help", comment={"body": "It broke"}))
    ticket = zenpy.tickets(id=audit.ticket.id)
    ticket.status = "solved"
    zenpy.tickets.update(ticket)
    assert zendesk.emulator.wait_for_deliveries(5)
    deliveries = receiver.wait_for(4)
    by_kind: dict[str, list[dict[str, Any]]] = {"event": [], "trigger": []}
    for delivery in deliveries:
        body = json.loads(delivery.body)
        kind = "event" if "type" in body else "trigger"
        _verify(delivery, [events_secret if kind == "event" else trigger_secret])
        by_kind[kind].append(body)
    assert [e["type"] for e in by_kind["event"]] == [
        "zen:event-type:ticket.created",
        "zen:event-type:ticket.status_changed",
    ]
    changed = by_kind["event"][1]
    assert changed["event"]["current"] == "SOLVED" and changed["detail"]["status"] == "SOLVED"
    assert changed["event"]["meta"]["sequence"]["position"] == 1
    assert [t["ticket_event"] for t in by_kind["trigger"]] == ["created", "updated"]
    assert by_kind["trigger"][1]["ticket"]["status"] == "solved"


def test_reset_signing_secret_signs_with_the_new_one(
    zenpy: Zenpy, zendesk: Any, receiver: Any
) -> None:
    hook_id, old = _subscribe(zenpy, receiver.url, "zen:event-type:organization.created")
    new = zenpy.webhooks.reset_secret(hook_id).secret
    assert new != old
    zenpy.organizations.create(Organization(name="Acme"))
    (delivery,) = receiver.wait_for(1)
    _verify(delivery, [new])
    _verify(delivery, [old, new])  # a receiver mid-rotation accepts both
    with pytest.raises(AuthError):
        _verify(delivery, [old])


def test_webhook_crud_and_inactive_hooks_stay_silent(
    zenpy: Zenpy, zendesk: Any, receiver: Any
) -> None:
    hook_id, _ = _subscribe(zenpy, receiver.url, "zen:event-type:organization.created")
    with zendesk.client() as api:
        listed = api.get("/api/v2/webhooks").json()
        assert [h["id"] for h in listed["webhooks"]] == [hook_id]
        assert listed["meta"]["has_more"] is False
        shown = api.get(f"/api/v2/webhooks/{hook_id}").json()["webhook"]
        assert shown["signing_secret"] == {"algorithm": "SHA256", "secret": None}
        patched = api.patch(f"/api/v2/webhooks/{hook_id}", json={"webhook": {"status": "inactive"}})
        assert patched.status_code == 204
        bad = api.post("/api/v2/webhooks", json={"webhook": {**shown, "http_method": "GET"}})
        assert bad.status_code == 400
    zenpy.organizations.create(Organization(name="Acme"))
    assert zendesk.emulator.wait_for_deliveries(5)
    assert receiver.received == []
    zenpy.webhooks.delete(zenpy.webhooks(id=hook_id))
    with zendesk.client() as api:
        assert api.get(f"/api/v2/webhooks/{hook_id}").status_code == 404


def test_webhook_authentication_and_custom_headers_are_sent(zendesk: Any, receiver: Any) -> None:
    with zendesk.client() as api:
        created = api.post(
            "/api/v2/webhooks",
            json={
                "webhook": {
                    "name": "with auth",
                    "endpoint": receiver.url,
                    "http_method": "POST",
                    "request_format": "json",
                    "status": "active",
                    "subscriptions": ["zen:event-type:organization.created"],
                    "authentication": {
                        "type": "bearer_token",
                        "data": {"token": "receiver-token"},
                        "add_position": "header",
                    },
                    "custom_headers": {"X-Tenant": "acme", SIGNATURE_HEADER: "forged"},
                    "signing_secret": {"algorithm": "SHA256", "secret": "chosen-secret"},
                }
            },
        )
        assert created.status_code == 201
        # Credentials are write-only.
        assert created.json()["webhook"]["authentication"] == {
            "type": "bearer_token",
            "add_position": "header",
        }
        api.post("/api/v2/organizations.json", json={"organization": {"name": "Acme"}})
    (delivery,) = receiver.wait_for(1)
    assert delivery.headers["authorization"] == "Bearer receiver-token"
    assert delivery.headers["x-tenant"] == "acme"
    _verify(delivery, ["chosen-secret"])  # a custom header cannot replace the signature
