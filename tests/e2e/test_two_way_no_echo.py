"""A two-way CRM <-> ERP sync under load, over the Salesforce and NetSuite emulators: 100
accounts created and then renamed in Salesforce flow to NetSuite customers, NetSuite's id flows
back onto each Salesforce account, and the whole CDC history delivered again changes nothing.
Vendor writes are counted in the emulators: no echo starts a workflow, nothing ping-pongs."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from syncwright.demo.quote_to_cash import QuoteToCashWorld, start_quote_to_cash_world
from syncwright.runtime import Runtime
from tests._support import wait_until

ACCOUNTS = 100


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
