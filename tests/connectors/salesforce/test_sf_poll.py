"""Polling both streams: ``cdc`` (the Pub/Sub API, more in test_sf_pubsub.py) and ``soql``
(won opportunities by SystemModstamp), through the real Poller, inbox and cursor store."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from simple_salesforce import Salesforce

from syncwright.connectors._base import Delivery
from syncwright.errors import ConfigError
from syncwright.intake.cursors import CursorStore
from syncwright.intake.poller import Poller
from syncwright.sandbox.salesforce._pubsub import PubSubServer, replay_bytes
from tests.connectors.salesforce._support import CONNECTION, Org, World, normalize_pending
from tests.connectors.salesforce.conftest import WorldFactory


def _names(batch_events: list[Any]) -> list[str]:
    return [json.loads(e.body)["payload"].get("Name") for e in batch_events]


def _opp(org: Org, account: str, name: str, stage: str = "Closed Won") -> str:
    return org.state.insert(
        "Opportunity",
        {"Name": name, "AccountId": account, "StageName": stage, "CloseDate": "2026-03-01"},
    )


def test_soql_stream_cursor_ties_and_overlap(make_world: WorldFactory, org: Org) -> None:
    world = make_world(org, options={"poll_page_size": 1, "poll_streams": ["soql"]})
    t0 = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(seconds=30)
    org.clock.set(t0)
    account = org.state.insert("Account", {"Name": "Acme"})
    o1 = _opp(org, account, "one")
    _opp(org, account, "open", stage="Prospecting")
    org.clock.advance(1)
    o3, o4 = _opp(org, account, "three"), _opp(org, account, "four")  # same second

    first = world.connector.poll("soql", None)
    assert [e.vendor_event_id for e in first.events] == [f"soql:Opportunity:{o1}:closed_won"]
    assert (
        first.has_more
        and first.cursor is not None
        and first.cursor.startswith(t0.strftime("%Y-%m-%dT%H:%M:%S"))
    )
    # A page never ends inside one second (o3 and o4 share it); o1 is re-read (the overlap)
    # but does not count towards the page.
    second = world.connector.poll("soql", first.cursor)
    assert {e.vendor_event_id.split(":")[2] for e in second.events} == {o1, o3, o4}
    assert not second.has_more and second.cursor is not None and second.cursor > first.cursor
    third = world.connector.poll("soql", second.cursor)
    assert third.cursor is None and not third.has_more

    # The synthetic delivery normalizes like the CDC event that won the deal.
    (event,) = world.connector.normalize(
        Delivery(
            1,
            CONNECTION,
            first.events[0].vendor_event_id,
            "Opportunity.UPDATE",
            first.events[0].body,
            "cor-soql",
            dt.datetime.now(dt.UTC),
        )
    )
    assert event.type == "syncwright.deal.closed_won.v1"
    assert event.id == f"{CONNECTION}:soql:Opportunity:{o1}:closed_won:0"
    assert event.data.deal.global_id == world.gid("deal", o1)


def test_both_streams_through_the_poller(
    make_world: WorldFactory, org: Org, sf: Salesforce, pubsub: PubSubServer
) -> None:
    options = {"poll_streams": ["cdc", "soql"], "pubsub_endpoint": pubsub.endpoint}
    world = make_world(org, options=options)
    assert world.connector.poll_streams == ("cdc", "soql")
    account = sf.Account.create({"Name": "Acme"})["id"]
    opp = sf.Opportunity.create(
        {
            "Name": "Deal",
            "AccountId": account,
            "StageName": "Prospecting",
            "CloseDate": "2026-03-01",
        }
    )["id"]
    poller = Poller(world.runtime)
    reports = poller.poll_all()
    assert reports[f"{CONNECTION}.cdc"].accepted == 2
    assert reports[f"{CONNECTION}.soql"].accepted == 0
    sf.Opportunity.update(opp, {"StageName": "Closed Won"})
    reports = poller.poll_all()
    assert reports[f"{CONNECTION}.cdc"].accepted == 1
    assert reports[f"{CONNECTION}.soql"].accepted == 1
    again = poller.poll_all()
    assert again[f"{CONNECTION}.soql"].accepted == 0  # re-read in the overlap, deduped
    cursors = CursorStore(world.runtime.db)
    assert cursors.get(CONNECTION, "cdc") == replay_bytes(org.mark()).hex()
    assert cursors.get(CONNECTION, "soql") is not None
    types = [e.type for e in normalize_pending(world.runtime)]
    # Both streams saw the close: one deal event each (run one stream per connection in
    # production -- see the README).
    assert types.count("syncwright.deal.closed_won.v1") == 2
    assert types.count("syncwright.account.upserted.v1") == 1


def test_stream_and_option_errors(make_world: WorldFactory, org: Org, pubsub: PubSubServer) -> None:
    # Change events come over the Pub/Sub API: without its endpoint the connection polls SOQL,
    # and asking for cdc says what to set.
    assert make_world(org).connector.poll_streams == ("soql",)
    with pytest.raises(ConfigError) as err:
        make_world(org, options={"poll_streams": ["cdc"]})
    assert err.value.code == "salesforce.bad_option" and "pubsub_endpoint" in err.value.problems[0]
    world = make_world(org, options={"pubsub_endpoint": pubsub.endpoint})
    assert world.connector.poll_streams == ("cdc",)
    with pytest.raises(ConfigError) as err:
        world.connector.poll("events", None)
    assert err.value.code == "salesforce.unknown_stream"
    with pytest.raises(ConfigError):
        world.connector.poll("cdc", "not-a-replay-id")
    # Types and ranges are caught by the config check (the connector's options model) ...
    for options in ({"poll_streams": ["pubsub"]}, {"poll_page_size": 0}):
        with pytest.raises(ConfigError) as err:
            make_world(org, options=options)
        assert err.value.code == "config.invalid"
        assert err.value.problems[0].startswith(
            f"connections.salesforce.options.{next(iter(options))}"
        )
    # ... what needs the vendor's rules by the connector at start-up.
    for options in ({"billing_fields": {"erp_id": "bad name"}}, {"client_name": "has space"}):
        with pytest.raises(ConfigError) as err:
            make_world(org, options=options)
        assert err.value.code == "salesforce.bad_option"


def test_identify_and_no_webhooks(world: World, org: Org) -> None:
    org.state.insert("Account", {"Name": "A"})
    (event,) = org.cdc(0)
    identity = world.connector.identify(event, json.dumps(event).encode())
    assert identity.vendor_event_id == str(event["event"]["replayId"])
    assert identity.event_type == "Account.CREATE"
    assert world.connector.identify({"odd": 1}, b'{"odd": 1}').vendor_event_id.startswith("sha256:")
    assert world.connector.webhook_verifier() is None
