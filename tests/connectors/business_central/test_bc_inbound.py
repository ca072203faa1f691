"""Customer changes come in from Business Central: a real subscription whose validation
handshake our intake answers, notification batches checked by clientState into the inbox,
normalized by reading the customer; and the customers poll stream, which heals a missed
notification with the same vendor event id (so the two never double)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from syncwright.api.hooks_app import create_hooks_api
from syncwright.connectors.business_central.inbound import ClientStateVerifier
from syncwright.errors import AuthError
from syncwright.intake.dispatcher import delivery_of
from syncwright.intake.poller import Poller
from syncwright.model.event_data import AccountUpsertedV1
from syncwright.sandbox import ServerThread
from syncwright.telemetry import Metrics
from tests.connectors.business_central.conftest import CONNECTION, WEBHOOK_SECRET, BcWorld


@pytest.fixture
def hooks(bc_world: BcWorld) -> Iterator[str]:
    app = create_hooks_api(bc_world.runtime, Metrics(bc_world.runtime))
    with ServerThread(app) as server:
        yield f"{server.url}/hooks/{CONNECTION}"


def _customer(bc_world: BcWorld, number: str) -> dict[str, Any]:
    return bc_world.connector.client.create(
        "customers",
        {
            "number": number,
            "displayName": f"Customer {number}",
            "addressLine1": "1 High Street",
            "city": "London",
            "country": "GB",
            "currencyCode": "GBP",
            "email": "ap@example.com",
        },
    )


def test_subscription_handshake_and_notifications_reach_the_inbox(
    bc_world: BcWorld, hooks: str
) -> None:
    client = bc_world.connector.client
    subscription = client.subscribe(hooks, "customers", WEBHOOK_SECRET)
    assert subscription["clientState"] == WEBHOOK_SECRET  # the handshake was answered
    assert bc_world.runtime.inbox.count() == 0  # a handshake stores nothing
    created = _customer(bc_world, "HOOK-1")
    client.update("customers", created, {"displayName": "Hooked Ltd"})
    assert bc_world.emulator.sandbox.subscriptions.deliver() == 2
    [row] = bc_world.runtime.inbox.pending()  # one batch of two notifications
    assert row.event_type == "notification.batch"
    events = bc_world.connector.normalize(delivery_of(row))
    assert len(events) == 2
    for event in events:
        assert event.type == "syncwright.account.upserted.v1"
        data = event.data
        assert isinstance(data, AccountUpsertedV1)
        # read fresh: both carry the customer as it is now
        assert data.account.name == "Hooked Ltd" and data.account.currency == "GBP"
        assert data.account.bill_to is not None and data.account.bill_to.city == "London"
    again = bc_world.connector.normalize(delivery_of(row))
    assert [e.id for e in again] == [e.id for e in events]


def test_forged_client_state_is_refused_and_recorded(bc_world: BcWorld, hooks: str) -> None:
    body = {"value": [{"resource": "api/v2.0/companies(x)/customers(y)", "clientState": "guess"}]}
    answer = httpx.post(hooks, json=body)
    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "business_central.client_state_mismatch"
    assert WEBHOOK_SECRET not in answer.text
    assert bc_world.runtime.inbox.count() == 0
    [event] = bc_world.runtime.inbox.security_events()
    assert event["code"] == "business_central.client_state_mismatch"


def test_poll_heals_a_missed_notification_without_doubling(bc_world: BcWorld, hooks: str) -> None:
    client = bc_world.connector.client
    client.subscribe(hooks, "customers", WEBHOOK_SECRET)
    poller = Poller(bc_world.runtime)
    poller.poll_once(CONNECTION, "customers")  # the seeded customer; the cursor is set
    seen = bc_world.runtime.inbox.count()
    delivered = _customer(bc_world, "HEAL-1")
    bc_world.emulator.sandbox.subscriptions.deliver()  # pushed: one notification
    missed = _customer(bc_world, "HEAL-2")
    bc_world.emulator.sandbox.subscriptions.pending.clear()  # this one is lost on the way
    report = poller.poll_once(CONNECTION, "customers")
    assert (report.read, report.accepted) == (2, 1)  # HEAL-1 again (deduped), HEAL-2 new
    assert bc_world.runtime.inbox.count() == seen + 2
    names = set()
    for row in bc_world.runtime.inbox.pending():
        for event in bc_world.connector.normalize(delivery_of(row)):
            names.add(event.data.account.name)
    assert {f"Customer {delivered['number']}", f"Customer {missed['number']}"} <= names
    assert poller.poll_once(CONNECTION, "customers").read == 0


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"\xff\xfe",
        b"[]",
        b'{"value": null}',
        b'{"value": [1, "x", null]}',
        b'{"value": [{"clientState": 7}]}',
        b'{"value": [{"clientState": ["' + WEBHOOK_SECRET.encode() + b'"]}]}',
        b'{"value": [{"clientState": "' + WEBHOOK_SECRET.encode() + b'"}, {}]}',
    ],
)
def test_malformed_batches_are_refused_as_auth_errors_only(body: bytes) -> None:
    verifier = ClientStateVerifier([WEBHOOK_SECRET])
    with pytest.raises(AuthError):
        verifier.verify(body, {})
