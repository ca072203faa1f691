"""429 over the sliding window (with Retry-After), injected faults, and webhooks: the
subscription handshake, notification batches as Microsoft documents them, renewal, deletion."""

from __future__ import annotations

from typing import Any

import requests

from syncwright.sandbox import FaultPlan
from syncwright.sandbox.business_central import COMPANY_ID
from tests._vendor import vendor_json
from tests.sandbox.business_central.conftest import BcEnv


def _subscribe(s: requests.Session, bc: BcEnv, entity_set: str, state: str = "s3cr3t") -> Any:
    body = {
        "notificationUrl": bc.receiver_url,
        "resource": f"/api/v2.0/companies({COMPANY_ID})/{entity_set}",
        "clientState": state,
    }
    return s.post(f"{bc.api}/subscriptions", json=body)


def test_too_many_requests_over_the_window(bc: BcEnv) -> None:
    s = bc.authed()
    bc.sandbox.limiter.configure(3, 60.0)
    try:
        for _ in range(3):
            assert s.get(f"{bc.api}/companies").status_code == 200
        refused = s.get(f"{bc.api}/companies")
        assert refused.status_code == 429
        assert refused.json()["error"]["code"] == "Application_TooManyRequests"
        assert 1 <= int(refused.headers["Retry-After"]) <= 60
    finally:
        bc.sandbox.limiter.configure(6000, 300.0)
    assert s.get(f"{bc.api}/companies").status_code == 200


def test_injected_server_error_has_the_odata_body(bc: BcEnv) -> None:
    s = bc.authed()
    bc.sandbox.faults.configure(FaultPlan(error_5xx_rate=1.0))
    answer = s.post(f"{bc.company}/customers", json={"displayName": "Never"})
    assert answer.status_code == 500
    assert answer.json()["error"]["code"] == "Internal_ServerError"
    bc.sandbox.faults.configure(FaultPlan())
    found = s.get(f"{bc.company}/customers", params={"$filter": "displayName eq 'Never'"})
    assert found.json()["value"] == []  # refused before it was applied


def test_subscription_handshake_and_notification_batch(bc: BcEnv) -> None:
    s = bc.authed()
    created = _subscribe(s, bc, "customers")
    assert created.status_code == 201, created.text
    sub = created.json()
    assert sub["clientState"] == "s3cr3t" and sub["expirationDateTime"]
    made = s.post(f"{bc.company}/customers", json={"displayName": "Hooked"}).json()
    s.patch(
        f"{bc.company}/customers({made['id']})", json={"email": "a@b.co"}, headers={"If-Match": "*"}
    )
    s.post(f"{bc.company}/items", json={"displayName": "Not subscribed"})
    sent = s.post(f"{bc.url}/_sandbox/webhooks/deliver").json()["sent"]
    assert sent == 2
    [batch] = bc.receiver.batches
    # the shape of Microsoft's example notification (dynamics-subscriptions.md)
    doc = vendor_json("business_central/api-v2.0.resources-and-examples.json")
    example = doc["webhook_subscriptions_doc"]["examples_in_order"][2]["json"]["value"][0]
    assert [set(n) for n in batch["value"]] == [set(example)] * 2
    assert [n["changeType"] for n in batch["value"]] == ["created", "updated"]
    assert (
        batch["value"][0]["resource"] == f"api/v2.0/companies({COMPANY_ID})/customers({made['id']})"
    )
    assert all(
        n["clientState"] == "s3cr3t" and n["subscriptionId"] == sub["subscriptionId"]
        for n in batch["value"]
    )
    # renewal repeats the handshake; deletion stops notifications
    renewed = s.patch(
        f"{bc.api}/subscriptions('{sub['subscriptionId']}')", json={}, headers={"If-Match": "*"}
    )
    assert (
        renewed.status_code == 200
        and renewed.json()["expirationDateTime"] >= sub["expirationDateTime"]
    )
    assert s.delete(f"{bc.api}/subscriptions('{sub['subscriptionId']}')").status_code == 204
    s.post(f"{bc.company}/customers", json={"displayName": "Unheard"})
    assert s.post(f"{bc.url}/_sandbox/webhooks/deliver").json()["sent"] == 0


def test_document_line_change_notifies_the_document(bc: BcEnv) -> None:
    s = bc.authed()
    assert _subscribe(s, bc, "salesOrders").status_code == 201
    order = s.post(f"{bc.company}/salesOrders", json={"customerNumber": "10000"}).json()
    s.post(
        f"{bc.company}/salesOrders({order['id']})/salesOrderLines",
        json={"lineObjectNumber": "SW-PRO"},
    )
    s.post(f"{bc.url}/_sandbox/webhooks/deliver")
    changes = [
        (n["resource"].rsplit("/", 1)[-1], n["changeType"])
        for b in bc.receiver.batches
        for n in b["value"]
    ]
    assert changes == [
        (f"salesOrders({order['id']})", "created"),
        (f"salesOrders({order['id']})", "updated"),
    ]


def test_subscription_refused_without_handshake(bc: BcEnv) -> None:
    s = bc.authed()
    bc.receiver.answer_handshake = False
    refused = _subscribe(s, bc, "customers")
    assert refused.status_code == 400
    assert "validation token" in refused.json()["error"]["message"]
    assert s.get(f"{bc.api}/subscriptions").json()["value"] == []
    bad = s.post(
        f"{bc.api}/subscriptions",
        json={"notificationUrl": bc.receiver_url, "resource": "/api/v2.0/nothing"},
    )
    assert bad.json()["error"]["code"] == "BadRequest_ResourceNotFound"


def test_an_expired_subscription_hears_nothing(bc: BcEnv) -> None:
    s = bc.authed()
    sub = _subscribe(s, bc, "customers").json()
    bc.sandbox.subscriptions.records[sub["subscriptionId"]]["expirationDateTime"] = (
        "2020-01-01T00:00:00Z"
    )
    s.post(f"{bc.company}/customers", json={"displayName": "Too late"})
    assert s.post(f"{bc.url}/_sandbox/webhooks/deliver").json()["sent"] == 0
    renewed = s.patch(f"{bc.api}/subscriptions('{sub['subscriptionId']}')", json={})
    assert renewed.status_code == 200  # renewal (with a new handshake) brings it back
    s.post(f"{bc.company}/customers", json={"displayName": "Heard"})
    assert s.post(f"{bc.url}/_sandbox/webhooks/deliver").json()["sent"] == 1
