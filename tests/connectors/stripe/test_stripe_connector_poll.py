"""Polling Stripe's events API: oldest first, resuming after the cursor, a lookback window on
the first poll, and the real poller moving the stored cursor."""

from __future__ import annotations

import json
import time

import pytest
import stripe

from syncwright.connectors._base import PolledEvent
from syncwright.connectors.stripe.connector import StripeConnector
from syncwright.errors import ConfigError
from syncwright.intake.cursors import CursorStore
from syncwright.intake.poller import Poller
from syncwright.sandbox.stripe import StripeState
from tests.connectors.stripe._support import CONNECTION, RuntimeFactory, poll_everything


def _names(events: list[PolledEvent]) -> list[str]:
    return [json.loads(e.body)["data"]["object"]["name"] for e in events]


def test_pages_oldest_first_and_resume_after_the_cursor(
    sdk: stripe.StripeClient, make_runtime: RuntimeFactory
) -> None:
    connector = make_runtime(options={"poll_page_size": 2}).connection(CONNECTION)
    assert isinstance(connector, StripeConnector)
    sdk.v1.products.create({"name": "not an event we map"})
    for n in range(5):
        sdk.v1.customers.create({"name": f"C{n}"})

    first = connector.poll("events", None)
    assert _names(first.events) == ["C0", "C1"] and first.has_more
    assert first.cursor == first.events[-1].vendor_event_id
    second = connector.poll("events", first.cursor)
    assert _names(second.events) == ["C2", "C3"] and second.has_more
    third = connector.poll("events", second.cursor)
    assert _names(third.events) == ["C4"] and not third.has_more
    assert {e.event_type for e in first.events + second.events + third.events} == {
        "customer.created"
    }

    idle = connector.poll("events", third.cursor)
    assert idle.events == [] and idle.cursor is None and not idle.has_more

    sdk.v1.customers.create({"name": "Later"})
    newer = connector.poll("events", third.cursor)
    assert _names(newer.events) == ["Later"] and newer.cursor == newer.events[0].vendor_event_id


def test_first_poll_reads_the_lookback_window_only(
    sdk: stripe.StripeClient, stripe_state: StripeState, make_runtime: RuntimeFactory
) -> None:
    connector = make_runtime(options={"poll_lookback_seconds": 3600}).connection(CONNECTION)
    sdk.v1.customers.create({"name": "Old"})
    sdk.v1.customers.create({"name": "Recent"})
    with stripe_state.lock:
        old = next(e for e in stripe_state.events.values() if e["type"] == "customer.created")
        old["created"] = int(time.time()) - 7200
    events, _ = poll_everything(connector)
    assert _names(events) == ["Recent"]
    # A cursor Stripe no longer knows (events expire after 30 days): start from the window again.
    gone = connector.poll("events", "evt_expired_long_ago")
    assert _names(gone.events) == ["Recent"]


def test_the_poller_lands_events_in_the_inbox_and_moves_the_cursor(
    sdk: stripe.StripeClient, make_runtime: RuntimeFactory
) -> None:
    runtime = make_runtime(options={"poll_page_size": 3})
    for n in range(7):
        sdk.v1.customers.create({"name": f"P{n}"})
    poller = Poller(runtime)
    report = poller.poll_once(CONNECTION, "events")
    assert (report.read, report.accepted) == (7, 7)
    assert runtime.inbox.count() == 7
    cursor = CursorStore(runtime.db).get(CONNECTION, "events")
    newest = json.loads(runtime.inbox.pending(10)[-1].body)
    assert cursor == newest["id"] and newest["data"]["object"]["name"] == "P6"
    assert poller.poll_once(CONNECTION, "events").read == 0
    sdk.v1.customers.create({"name": "P7"})
    assert poller.poll_once(CONNECTION, "events").accepted == 1


def test_unknown_stream_is_a_config_error(connector: StripeConnector) -> None:
    with pytest.raises(ConfigError) as info:
        connector.poll("charges", None)
    assert info.value.code == "stripe.unknown_stream"
