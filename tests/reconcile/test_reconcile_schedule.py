"""The reconciliation clock: slots agree across workers, each slot runs once whichever worker
sees it first, and runs are reachable over the HTTP API."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from syncwright.config import load_settings
from syncwright.demo.billing_world import BillingWorld, start_billing_world
from syncwright.reconcile import Reconciler, ReconcileScheduler
from syncwright.reconcile.schedule import current_slot, next_slot
from syncwright.runtime import Runtime

RULES = """
reconciliation:
  - {name: invoices, check: invoices, schedule: 15m, compare: [stripe, netsuite]}
  - {name: nightly, check: subscriptions, schedule: "0 3 * * *", compare: [stripe, netsuite]}
"""


def test_interval_slots_are_aligned_and_cron_slots_follow_the_expression() -> None:
    now = datetime(2026, 12, 3, 14, 7, 30, tzinfo=UTC)
    assert current_slot(900, now) == datetime(2026, 12, 3, 14, 0, tzinfo=UTC)
    assert next_slot(900, now) == datetime(2026, 12, 3, 14, 15, tzinfo=UTC)
    assert current_slot("0 3 * * *", now) == datetime(2026, 12, 3, 3, 0, tzinfo=UTC)
    assert next_slot("0 3 * * *", now) == datetime(2026, 12, 4, 3, 0, tzinfo=UTC)
    assert current_slot("@hourly", now) == datetime(2026, 12, 3, 14, 0, tzinfo=UTC)


@pytest.fixture
def world(tmp_path: Path) -> Iterator[BillingWorld]:
    started = start_billing_world(tmp_path / "world")
    started.settings_args["extra_sections"] = RULES
    try:
        started.start_syncwright(poll=False)
        yield started
    finally:
        started.close()


def test_each_slot_runs_once_across_workers(world: BillingWorld) -> None:
    # A second worker process's view: its own runtime on the same database.
    other = Runtime(load_settings(world.config_path))
    try:
        assert world.runtime is not None
        schedulers = [
            ReconcileScheduler(Reconciler(world.runtime)),
            ReconcileScheduler(Reconciler(other)),
        ]
        started: list[list[str]] = [[], []]
        barrier = threading.Barrier(2)

        def tick(index: int) -> None:
            barrier.wait()
            started[index] = schedulers[index].run_due()

        threads = [threading.Thread(target=tick, args=(i,)) for i in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        runs = Reconciler(other).runs.list()
        assert sorted(r.rule for r in runs) == ["invoices", "nightly"]
        assert all(r.status == "clean" for r in runs)
        assert sorted(started[0] + started[1]) == sorted(r.id for r in runs)
        # The same slot again: nothing new, on either worker.
        assert schedulers[0].run_due() == [] and schedulers[1].run_due() == []
        assert len(Reconciler(other).runs.list()) == 2
    finally:
        other.close()


def test_the_api_runs_a_rule_and_lists_runs(world: BillingWorld) -> None:
    base = f"http://127.0.0.1:{world.api_port}/api/v1/reconcile"
    with httpx.Client(timeout=60) as client:
        ran = client.post(base, json={"rule": "invoices"})
        assert ran.status_code == 200, ran.text
        body = ran.json()
        assert body["status"] == "clean" and body["report"]["counts"]["drift"] == 0
        listed = client.get(f"{base}/runs", params={"rule": "invoices"}).json()
        assert [r["id"] for r in listed] == [body["id"]]
        shown = client.get(f"{base}/runs/{body['id']}").json()
        assert shown["report"]["check"] == "invoices"
        missing = client.post(base, json={"rule": "nope"})
        assert missing.status_code == 404 and "invoices" in missing.json()["detail"]
        assert client.get(f"{base}/runs/run-nope").status_code == 404
        assert client.get(f"{base}/runs", params={"limit": 5000}).status_code == 422
