"""A two-way CRM <-> ERP sync under load, over the Salesforce and NetSuite emulators: 100
accounts created and then renamed in Salesforce flow to NetSuite customers, NetSuite's id flows
back onto each Salesforce account, and the whole CDC history delivered again changes nothing.
Vendor writes are counted in the emulators: no echo starts a workflow, nothing ping-pongs.

The same holds for every pair of the four systems: deals onboarded across Salesforce, NetSuite,
Stripe and Zendesk, then every delivery each vendor ever sent delivered again (new delivery ids,
as a vendor's replay or a re-poll does): our own writes coming back and unchanged records start
no workflow, and no system receives another write."""

from __future__ import annotations

import json
import time
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
from syncwright.runtime import Runtime
from syncwright.store.tables import inbox
from tests._support import wait_until

ACCOUNTS = 100
DEALS = 8


@pytest.fixture
def world(tmp_path: Path) -> Iterator[QuoteToCashWorld]:
    started = start_quote_to_cash_world(tmp_path / "q2c")
    try:
        yield started
    finally:
        started.close()


def _count_customer_writes(world: QuoteToCashWorld) -> list[str]:
    """Every customer record NetSuite stores (create or update), as the emulator sees it."""
    state = world.billing.netsuite.state
    writes: list[str] = []
    original = state._store

    def counting(rt: Any, rid: str, record: Any, *, previous: Any) -> None:
        if rt.name == "customer":
            writes.append(rid)
        original(rt, rid, record, previous=previous)

    state._store = counting  # type: ignore[method-assign]
    return writes


def _ours(event: Any) -> bool:
    return "client=syncwright" in event.change_origin


def _settled(world: QuoteToCashWorld, runtime: Runtime, runs: int) -> None:
    engine = world.billing.engine
    assert engine is not None
    wait_until(
        lambda: (
            runtime.inbox.count("pending") == 0
            and len(engine.statuses()) >= runs
            and all(s == "SUCCESS" for s in engine.statuses().values())
        ),
        timeout=600,
        what=f"{runs} account syncs to finish",
    )
    time.sleep(1.5)  # one more CDC poll: an echo would land now
    wait_until(lambda: runtime.inbox.count("pending") == 0, timeout=120, what="inbox drained")


def test_two_way_sync_of_100_accounts_has_no_echo_and_no_ping_pong(
    world: QuoteToCashWorld,
) -> None:
    ns_writes = _count_customer_writes(world)
    runtime = world.billing.start_syncwright()
    engine = world.billing.engine
    assert engine is not None
    rep = world.sdk()
    accounts = [
        rep.create(
            "Account",
            {
                "Name": f"Load {n:03d} Corp",
                "BillingStreet": f"{n} Main St",
                "BillingCity": "Austin",
                "BillingState": "TX",
                "BillingPostalCode": "78701",
                "BillingCountry": "US",
            },
        )
        for n in range(ACCOUNTS)
    ]
    _settled(world, runtime, ACCOUNTS)
    for n, account in enumerate(accounts):
        rep.update("Account", account, {"Name": f"Load {n:03d} Holdings"})
    _settled(world, runtime, 2 * ACCOUNTS)

    # NetSuite: one create and one rename per account, nothing more.
    assert len(ns_writes) == 2 * ACCOUNTS
    assert len(set(ns_writes)) == ACCOUNTS
    # Salesforce: syncwright wrote each account's ERP id once (the rename's write-back found it
    # in place and sent nothing).
    events = world.sf_state.events.since(0)
    ours = [e for e in events if _ours(e)]
    assert len(ours) == ACCOUNTS
    assert all("ERP_Id__c" in e.changed_fields and "Name" not in e.changed_fields for e in ours)
    for n, account in enumerate(accounts):
        record = rep.get("Account", account)
        assert record["ERP_Id__c"] and record["Name"] == f"Load {n:03d} Holdings"
    # Workflows: exactly one per change the rep made; the echoes started none.
    statuses = engine.statuses()
    assert len(statuses) == 2 * ACCOUNTS
    assert all(w.endswith("account.sync_to_erp") for w in statuses), sorted(statuses)[:3]

    # The vendor sends the whole history again (a replay, under new delivery ids): the creates
    # are older than what was applied (stale), the renames read the same record (unchanged),
    # our echoes are recognised: no workflow starts and NetSuite sees no write.
    for event in events:
        runtime.inbox.accept(
            connection="salesforce",
            vendor_event_id=f"replayed:{event.replay_id}",
            event_type=f"{event.entity}.{event.change_type}",
            body=json.dumps(event.to_json()),
            origin="poll",
        )
    _settled(world, runtime, 2 * ACCOUNTS)
    assert len(engine.statuses()) == 2 * ACCOUNTS
    assert len(ns_writes) == 2 * ACCOUNTS
    assert len([e for e in world.sf_state.events.since(0) if _ours(e)]) == ACCOUNTS
    held = runtime.policy_store.counts()
    assert held.get(("stale", "salesforce"), 0) + held.get(("unchanged", "salesforce"), 0) >= (
        ACCOUNTS
    )


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
