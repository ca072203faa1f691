"""No echo and no ping-pong between any pair of the four systems: deals onboarded across
Salesforce, NetSuite, Stripe and Zendesk, then every delivery each vendor ever sent delivered
again (new delivery ids, as a vendor's replay or a re-poll does). Our own writes coming back
and unchanged records start no workflow, and no system receives another write -- counted in
the emulators, per system (NetSuite's write log, Stripe's and Zendesk's records, Salesforce's
change events of our client)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from syncwright.demo.quote_to_cash import (
    QuoteToCashWorld,
    check_deals,
    close_deals,
    start_quote_to_cash_world,
    wait_onboarded,
)
from syncwright.store.tables import inbox

DEALS = 8


@pytest.fixture
def world(tmp_path: Path) -> Iterator[QuoteToCashWorld]:
    started = start_quote_to_cash_world(tmp_path / "q2c")
    try:
        yield started
    finally:
        started.close()


def _snapshot(world: QuoteToCashWorld) -> dict[str, Any]:
    """What each system holds or received that a ping-pong would change."""
    billing = world.billing
    stripe = billing.stripe.v1
    return {
        "netsuite_writes": len(billing.netsuite.writes.entries()),
        "stripe_customers": sorted(
            (c.id, c.name) for c in stripe.customers.list({"limit": 100}).data
        ),
        "stripe_subscriptions": sorted(
            (s.id, s.status) for s in stripe.subscriptions.list({"limit": 100}).data
        ),
        "zendesk_orgs": sorted((o["id"], o["updated_at"]) for o in world.zendesk_orgs()),
        "salesforce_ours": len(
            [e for e in world.sf_state.events.since(0) if "client=syncwright" in e.change_origin]
        ),
    }


def test_redelivering_every_systems_history_writes_nothing_anywhere(
    world: QuoteToCashWorld,
) -> None:
    runtime = world.billing.start_syncwright()
    engine = world.billing.engine
    assert engine is not None
    deals = close_deals(world, DEALS)
    wait_onboarded(world, deals)
    check = check_deals(world, deals)
    assert check.problems == [] and check.onboarded == DEALS and check.duplicates == 0
    runs = set(engine.statuses())
    before = _snapshot(world)
    assert before["netsuite_writes"] > 0 and len(before["stripe_subscriptions"]) == DEALS
    assert before["salesforce_ours"] >= DEALS  # each onboarded account got its billing fields

    with runtime.db.engine.connect() as conn:
        history = list(conn.execute(inbox.select().order_by(inbox.c.id)))
    senders = {row.connection for row in history}
    assert {"salesforce", "stripe"} <= senders, senders
    for row in history:
        runtime.inbox.accept(
            connection=row.connection,
            vendor_event_id=f"replayed:{row.vendor_event_id}",
            event_type=row.event_type,
            body=row.body,
            origin="poll",
        )
    world.billing.wait_settled(300)

    assert set(engine.statuses()) == runs  # not one workflow started
    assert _snapshot(world) == before  # and no system received another write
    held = runtime.policy_store.counts()
    for connection in senders:
        assert sum(n for (_, c), n in held.items() if c == connection) > 0, (connection, held)
