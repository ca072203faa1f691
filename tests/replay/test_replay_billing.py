"""Replay over the Stripe and NetSuite emulators: a dry run shows what the workflows would get,
sending nothing; a real replay runs again under new correlation ids linked to the originals,
and idempotent writes leave NetSuite with exactly the same records."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from syncwright.demo.billing_world import BillingWorld, start_billing_world
from syncwright.demo.stripe_netsuite import Scenario, drive_scenario
from syncwright.replay import field_changes


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[BillingWorld, Scenario]]:
    started = start_billing_world(tmp_path / "world")
    try:
        started.start_syncwright(poll=False)
        scenario = drive_scenario(started, customers=3, seed=5)
        started.wait_settled(timeout=120)
        yield started, scenario
    finally:
        started.close()


def _cli(world: BillingWorld, *args: str) -> tuple[int, dict[str, Any]]:
    command = [sys.executable, "-m", "syncwright", "replay", *args, "--json"]
    done = subprocess.run(
        [*command, "--config", str(world.config_path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return done.returncode, json.loads(done.stdout)


def _netsuite_counts(world: BillingWorld) -> dict[str, int]:
    return world.netsuite.state.counts()


def test_field_changes_are_leaf_paths() -> None:
    before = {"invoice": {"total": {"amount": 100}, "lines": [{"q": 1}, {"q": 2}]}}
    after = {"invoice": {"total": {"amount": 120}, "lines": [{"q": 1}], "memo": "x"}}
    changes = {c.path: (c.before, c.after) for c in field_changes(before, after)}
    assert changes == {
        "invoice.total.amount": (100, 120),
        "invoice.lines[1].q": (2, None),
        "invoice.memo": (None, "x"),
    }


def test_dry_run_then_replay_of_a_customers_events(
    world: tuple[BillingWorld, Scenario],
) -> None:
    billing, scenario = world
    assert billing.runtime is not None
    customer = scenario.customers[0]
    account = billing.runtime.xref.global_id_for("account", "stripe", customer)
    assert account is not None
    before = _netsuite_counts(billing)

    code, plan = _cli(billing, "--entity", f"account:{account}", "--dry-run")
    assert code == 0, plan
    deliveries = plan["deliveries"]
    assert deliveries and all(d["error"] is None for d in deliveries)
    # Same payloads, same mapping: the workflows would get exactly what they got.
    assert not any(d["changed"] for d in deliveries), [d for d in deliveries if d["changed"]][:2]
    handled = {w for d in deliveries for e in d["events"] for w in e["workflows"]}
    assert "invoice.finalize_in_erp" in handled
    assert billing.runtime.inbox.count("pending") == 0  # a dry run sends nothing

    refused, message = _cli(billing, "--entity", f"account:{account}")
    assert refused == 1 and "--yes" in message["error"]

    code, done = _cli(billing, "--entity", f"account:{account}", "--yes")
    assert code == 0, done
    replayed = done["replayed"]
    assert len(replayed) == len(deliveries)
    billing.wait_settled(timeout=120)
    assert _netsuite_counts(billing) == before  # idempotent: nothing new, nothing twice

    first = replayed[0]
    new_trail = billing.runtime.ledger.for_correlation(first["new_correlation_id"])
    assert any(
        e.step == "replay" and first["correlation_id"] in (e.message or "") for e in new_trail
    )
    assert any(e.workflow for e in new_trail), "the replayed delivery ran its workflows again"
    old_trail = billing.runtime.ledger.for_correlation(first["correlation_id"])
    assert any(
        e.step == "replay" and first["new_correlation_id"] in (e.message or "") for e in old_trail
    )


def test_the_api_replays_one_business_event(world: tuple[BillingWorld, Scenario]) -> None:
    billing, _ = world
    assert billing.runtime is not None
    row = billing.runtime.inbox.get(1)
    assert row is not None
    url = f"http://127.0.0.1:{billing.api_port}/api/v1/replay"
    with httpx.Client(timeout=60) as client:
        planned = client.post(url, json={"correlation_id": row.correlation_id, "dry_run": True})
        assert planned.status_code == 200, planned.text
        assert [d["inbox_id"] for d in planned.json()["deliveries"]] == [row.id]
        sent = client.post(url, json={"correlation_id": row.correlation_id})
        assert sent.status_code == 200, sent.text
        (item,) = sent.json()["replayed"]
        assert item["new_correlation_id"] != row.correlation_id
        assert client.post(url, json={}).status_code == 422
        assert client.post(url, json={"correlation_id": "nope"}).status_code == 404
    billing.wait_settled(timeout=60)
    copy = billing.runtime.inbox.get(item["new_inbox_id"])
    assert copy is not None and copy.origin == "replay" and copy.body == row.body


def test_replay_from_a_step_reruns_only_that_step_and_after(
    world: tuple[BillingWorld, Scenario],
) -> None:
    billing, scenario = world
    assert billing.runtime is not None
    stripe = billing.stripe.v1
    invoice = stripe.invoices.list({"customer": scenario.customers[0]}).data[0]
    gid = billing.runtime.xref.global_id_for("invoice", "stripe", invoice.id)
    assert gid is not None
    # An ERP invoice's amount edited by hand; the finalized event's run is replayed from its
    # write, which puts it back.
    ns = billing.netsuite.state
    lost = ns.find_by_external_id("invoice", gid)
    assert lost is not None
    with ns.lock:
        stored = ns.raw("invoice", str(lost["id"]))
        assert stored is not None
        stored["total"] = float(lost["total"]) + 1
    (row,) = [
        r
        for r in (billing.runtime.inbox.get(i) for i in range(1, 200))
        if r is not None and r.event_type == "invoice.finalized" and invoice.id in r.body
    ]

    code, refused = _cli(billing, "--inbox-id", str(row.id), "--from-step", "nope")
    assert code == 1 and "netsuite.upsert_invoice" in refused["error"]

    code, done = _cli(billing, "--inbox-id", str(row.id), "--from-step", "netsuite.upsert_invoice")
    assert code == 0, done
    (item,) = done["replayed"]
    billing.wait_settled(timeout=120)
    restored = ns.find_by_external_id("invoice", gid)
    assert restored is not None and restored["id"] == lost["id"]
    assert float(restored["total"]) == float(lost["total"])
    steps = [e.step for e in billing.runtime.ledger.for_correlation(item["new_correlation_id"])]
    assert "netsuite.upsert_invoice" in steps
    # The steps before it kept their recorded results: they were not run again.
    assert "netsuite.customer_known" not in steps
    copy = billing.runtime.inbox.get(item["new_inbox_id"])
    assert copy is not None and copy.status == "dispatched"
