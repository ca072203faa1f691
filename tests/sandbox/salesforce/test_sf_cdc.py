"""Change Data Capture: event shape, changeOrigin from Sforce-Call-Options, replay, push."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest
from fastapi import FastAPI, Request, Response
from simple_salesforce import Salesforce

from syncwright.sandbox import ServerThread

if TYPE_CHECKING:
    from tests.sandbox.salesforce.conftest import SalesforceEnv

OURS = {"Sforce-Call-Options": "client=syncwright"}


def _events(
    env: SalesforceEnv, *, replay_id: int = -2, limit: int = 1000, entity: str | None = None
) -> list[dict[str, Any]]:
    """The org's change event log (what the Pub/Sub API serves, in CometD's JSON shape)."""
    return [e.to_json() for e in env.state.events.since(replay_id, limit=limit, entity=entity)]


def _header(event: dict[str, Any]) -> dict[str, Any]:
    header: dict[str, Any] = event["payload"]["ChangeEventHeader"]
    return header


def test_create_update_delete_events(sf: Salesforce, env: SalesforceEnv) -> None:
    account_id = sf.Account.create(
        {"Name": "Acme", "BillingCity": "Lyon", "Phone": "1"}, headers=OURS
    )["id"]
    sf.Account.update(account_id, {"Name": "Acme SA", "Phone": None, "BillingCity": "Paris"})
    sf.Account.delete(account_id, headers=OURS)
    created, updated, deleted = _events(env)

    assert set(created) == {"schema", "payload", "event"}
    assert (
        created["event"]["replayId"] < updated["event"]["replayId"] < deleted["event"]["replayId"]
    )
    header = _header(created)
    assert header["entityName"] == "Account"
    assert header["recordIds"] == [account_id]
    assert header["changeType"] == "CREATE"
    assert header["changeOrigin"] == "com/salesforce/api/rest/59.0;client=syncwright"
    assert header["changedFields"] == [] and header["sequenceNumber"] == 1
    assert header["commitUser"].startswith("005")
    assert isinstance(header["commitTimestamp"], int) and isinstance(header["commitNumber"], int)
    payload = created["payload"]
    assert payload["Name"] == "Acme" and payload["BillingAddress"]["City"] == "Lyon"
    assert payload["Type"] is None and "Id" not in payload  # nulls included, id in recordIds

    header = _header(updated)
    assert header["changeType"] == "UPDATE"
    # No Sforce-Call-Options on the update: the origin names the API only.
    assert header["changeOrigin"] == "com/salesforce/api/rest/59.0"
    assert header["changedFields"] == ["BillingAddress.City", "Name", "Phone", "LastModifiedDate"]
    assert header["nulledFields"] == ["Phone"]
    assert header["diffFields"] == []
    payload = updated["payload"]
    assert payload["Name"] == "Acme SA" and payload["Phone"] is None
    assert payload["BillingAddress"] == {"City": "Paris"}
    assert "LastModifiedDate" in payload and "Website" not in payload

    header = _header(deleted)
    assert header["changeType"] == "DELETE"
    assert header["changeOrigin"].endswith(";client=syncwright")
    assert set(deleted["payload"]) == {"ChangeEventHeader"}


def test_contact_name_is_a_compound_field(sf: Salesforce, env: SalesforceEnv) -> None:
    contact = sf.Contact.create({"FirstName": "Ada", "LastName": "Byron"})["id"]
    sf.Contact.update(contact, {"LastName": "Lovelace"})
    created, updated = _events(env, entity="Contact")
    assert created["payload"]["Name"] == {
        "Salutation": None,
        "FirstName": "Ada",
        "LastName": "Byron",
    }
    assert _header(updated)["changedFields"] == ["Name.LastName", "LastModifiedDate"]
    assert updated["payload"]["Name"] == {"LastName": "Lovelace"}


def test_line_item_rolls_up_into_an_opportunity_update(sf: Salesforce, env: SalesforceEnv) -> None:
    product = sf.Product2.create({"Name": "Seat", "IsActive": True})["id"]
    entry = sf.PricebookEntry.create(
        {
            "Pricebook2Id": env.state.standard_pricebook_id,
            "Product2Id": product,
            "UnitPrice": 50,
            "IsActive": True,
        }
    )["id"]
    opp = sf.Opportunity.create(
        {"Name": "Deal", "StageName": "Qualification", "CloseDate": "2026-05-01"}
    )["id"]
    start = env.state.events.latest_replay_id
    sf.OpportunityLineItem.create({"OpportunityId": opp, "PricebookEntryId": entry, "Quantity": 2})
    item_event, opp_event = _events(env, replay_id=start)
    assert _header(item_event)["entityName"] == "OpportunityLineItem"
    assert _header(opp_event)["entityName"] == "Opportunity"
    assert _header(opp_event)["transactionKey"] == _header(item_event)["transactionKey"]
    assert _header(opp_event)["sequenceNumber"] == 2
    assert "Amount" in _header(opp_event)["changedFields"]
    assert opp_event["payload"]["Amount"] == 100.0


def test_replay_semantics(sf: Salesforce, env: SalesforceEnv) -> None:
    for name in ("A", "B", "C"):
        sf.Account.create({"Name": name})
    sf.Contact.create({"LastName": "D"})
    everything = _events(env)  # replay_id=-2: all retained events
    assert len(everything) == 4
    second = everything[1]["event"]["replayId"]
    after = _events(env, replay_id=second)
    assert [e["event"]["replayId"] for e in after] == [
        e["event"]["replayId"] for e in everything[2:]
    ]
    assert _events(env, replay_id=-1) == []  # -1: only new events from now on
    assert [e["payload"]["Name"] for e in _events(env, entity="Account", limit=2)] == ["A", "B"]


class _Receiver:
    """An HTTP endpoint that fails the first ``fail_first`` deliveries with a 503."""

    def __init__(self, fail_first: int = 0) -> None:
        self.received: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.calls = 0
        self.fail_first = fail_first
        self.lock = threading.Lock()
        self.app = FastAPI()

        @self.app.post("/cdc")
        async def cdc(request: Request) -> Response:
            body = await request.json()
            with self.lock:
                self.calls += 1
                if self.calls <= self.fail_first:
                    return Response(status_code=503)
                self.received.append(body)
                self.headers.append(dict(request.headers))
            return Response(status_code=204)


@pytest.fixture
def receiver() -> Iterator[tuple[_Receiver, ServerThread]]:
    target = _Receiver(fail_first=2)
    server = ServerThread(target.app).start()
    try:
        yield target, server
    finally:
        server.stop()


def test_push_delivery_with_retries(
    sf: Salesforce, env: SalesforceEnv, receiver: tuple[_Receiver, ServerThread]
) -> None:
    target, server = receiver
    sf.Account.create({"Name": "Before subscription"})
    response = env.session().post(
        f"{env.url}/_sandbox/cdc/subscribers", json={"url": f"{server.url}/cdc"}
    )
    assert response.status_code == 201
    sub_id = response.json()["id"]
    account = sf.Account.create({"Name": "Pushed"}, headers=OURS)["id"]
    sf.Account.update(account, {"Name": "Pushed again"}, headers=OURS)
    env.wait_for(lambda: len(target.received) >= 2)
    # Only events after subscribing (replayId -1), in order, each once despite two 503s.
    assert [_header(e)["changeType"] for e in target.received] == ["CREATE", "UPDATE"]
    assert all(_header(e)["recordIds"] == [account] for e in target.received)
    assert _header(target.received[0])["changeOrigin"].endswith("client=syncwright")
    assert target.headers[0]["x-sandbox-channel"] == "/data/AccountChangeEvent"
    subscribers = env.session().get(f"{env.url}/_sandbox/cdc/subscribers").json()
    stats = next(s for s in subscribers if s["id"] == sub_id)
    assert stats["delivered"] == 2 and stats["failures"] == 2 and stats["deadLetters"] == []
    assert env.session().delete(f"{env.url}/_sandbox/cdc/subscribers/{sub_id}").status_code == 204


def test_push_dead_letters_after_max_attempts(
    sf: Salesforce, env: SalesforceEnv, receiver: tuple[_Receiver, ServerThread]
) -> None:
    target, server = receiver
    target.fail_first = 3
    env.state.pusher.max_attempts = 3
    sub = env.state.pusher.add(f"{server.url}/cdc", replay_id=-2, entities=["Account"])
    sf.Contact.create({"LastName": "filtered out"})
    first = sf.Account.create({"Name": "Poisoned"})["id"]
    second = sf.Account.create({"Name": "Fine"})["id"]
    env.wait_for(lambda: len(target.received) >= 1)
    assert [_header(e)["recordIds"] for e in target.received] == [[second]]
    assert len(sub.dead_letters) == 1
    poisoned = env.state.events.since(sub.dead_letters[0] - 1, limit=1)[0]
    assert poisoned.record_ids == (first,)
