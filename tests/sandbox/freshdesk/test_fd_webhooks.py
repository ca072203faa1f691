"""Webhooks from automation rules: the rule author's URL, headers, basic auth and JSON body with
placeholders; retries of failed deliveries."""

from __future__ import annotations

import base64
import json

from tests.sandbox.freshdesk.conftest import FreshdeskEnv, Receiver

CONTENT = (
    '{"freshdesk_webhook": {"ticket_id": {{ticket.id}}, "subject": "{{ticket.subject}}", '
    '"status": "{{ticket.status}}", "event": "{{triggered_event}}", "x": "{{ticket.nope}}"}}'
)


def _rule(freshdesk: FreshdeskEnv, receiver: Receiver, **extra: object) -> dict[str, object]:
    body = {
        "name": "to syncwright",
        "url": receiver.url,
        "headers": {"X-Syncwright-Webhook-Secret": "s3cret"},
        "content": CONTENT,
        **extra,
    }
    with freshdesk.admin() as admin:
        answer = admin.post("/automations", json=body)
        assert answer.status_code == 201, answer.text
        created: dict[str, object] = answer.json()
        return created


def _drain(freshdesk: FreshdeskEnv) -> None:
    with freshdesk.admin() as admin:
        assert admin.post("/webhooks/drain", params={"timeout": 10}).json() == {"idle": True}


def test_rule_posts_rendered_body_with_headers_and_basic_auth(
    freshdesk: FreshdeskEnv, receiver: Receiver
) -> None:
    rule = _rule(freshdesk, receiver, username="syncwright", password="hook-pass")
    assert rule["password"] == "***"  # never echoed
    api = freshdesk.sdk()
    ticket = api.tickets.create_ticket('Say "hi"', email="a@x.test", description="d")
    api.tickets.update_ticket(ticket.id, status=3)
    _drain(freshdesk)
    (created_headers, created), (_, updated) = receiver.received
    assert created_headers["x-syncwright-webhook-secret"] == "s3cret"
    expected = base64.b64encode(b"syncwright:hook-pass").decode()
    assert created_headers["authorization"] == f"Basic {expected}"
    assert created_headers["content-type"] == "application/json"
    first = json.loads(created)["freshdesk_webhook"]
    assert first == {
        "ticket_id": ticket.id,
        "subject": 'Say "hi"',
        "status": "Open",
        "event": "{ticket_action:created}",
        "x": "",
    }
    second = json.loads(updated)["freshdesk_webhook"]
    assert second["status"] == "Pending"
    assert second["event"] == "{status:{from:Open,to:Pending}}"


def test_rule_events_filter_and_failed_deliveries_are_retried(
    freshdesk: FreshdeskEnv, receiver: Receiver
) -> None:
    _rule(freshdesk, receiver, events=["ticket_updated"])
    receiver.fail_first = 2
    api = freshdesk.sdk()
    ticket = api.tickets.create_ticket("one", email="a@x.test", description="d")
    api.tickets.update_ticket(ticket.id, priority=3)
    _drain(freshdesk)
    assert len(receiver.received) == 1  # created does not match the rule
    with freshdesk.admin() as admin:
        (delivery,) = admin.get("/deliveries").json()
    assert delivery["attempts"] == [500, 500, 200] and delivery["delivered"] is True


def test_rule_content_must_be_json(freshdesk: FreshdeskEnv, receiver: Receiver) -> None:
    with freshdesk.admin() as admin:
        bad = admin.post(
            "/automations", json={"name": "x", "url": receiver.url, "content": "{oops"}
        )
        assert bad.status_code == 400 and "not valid JSON" in bad.json()["message"]
        wrong = admin.post(
            "/automations", json={"name": "x", "url": receiver.url, "events": ["deleted"]}
        )
        assert wrong.status_code == 400
