"""A worker that dies is taken over by a live one: its pending runs resume elsewhere, once.

DBOS alone resumes a dead executor's runs only when an executor with the same id starts again;
here the dead worker never comes back, and a worker with another id finishes its runs."""

from __future__ import annotations

import signal
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import pytest

from syncwright._time import utcnow
from syncwright.config import load_settings
from syncwright.engine.executors import ExecutorRegistry, Heartbeat
from syncwright.errors import ConfigError
from syncwright.runtime import Runtime
from syncwright.sandbox import FaultPlan
from syncwright.store import Database
from tests._support import (
    Erp,
    accept_customer_events,
    kill_worker_mid_write,
    start_worker,
    wait_every_run_succeeded,
    wait_until,
    write_config,
)

CUSTOMERS = 20
FAST_HEARTBEAT = "  heartbeat_seconds: 0.5\n  takeover_after_seconds: 3\n"


def test_a_live_worker_finishes_the_runs_of_one_killed_mid_step(
    tmp_path: Path, sqlite_url: str, erp: Erp
) -> None:
    # ERP writes are applied at once and answered a second later: the kill lands mid-step.
    erp.faults.configure(
        FaultPlan(lost_response_rate=1.0, stall_seconds=1.0, only_methods=frozenset({"PUT"}))
    )
    configs = {
        name: write_config(
            tmp_path / name,
            db_url=sqlite_url,
            erp_url=erp.url,
            timeout_seconds=5,
            executor_id=name,
            engine_extra=FAST_HEARTBEAT,
        )
        for name in ("worker-a", "worker-b")
    }
    accept_customer_events(configs["worker-a"], CUSTOMERS)

    log = tmp_path / "workers.log"
    kill_worker_mid_write(configs["worker-a"], log, erp, CUSTOMERS)

    live = start_worker(configs["worker-b"], log)
    try:
        wait_until(lambda: len(erp.state.customers) == CUSTOMERS, 120, "worker-b to finish")
        wait_every_run_succeeded(configs["worker-b"], CUSTOMERS)
        with Runtime(load_settings(configs["worker-b"]), upgrade=False) as runtime:
            rows = {row.executor_id: row for row in ExecutorRegistry(runtime.db).all()}
        live.send_signal(signal.SIGTERM)
        assert live.wait(30) == 0, log.read_text()
    finally:
        if live.poll() is None:
            live.kill()

    assert rows["worker-a"].taken_over_by == "worker-b"
    assert rows["worker-a"].runs_taken_over >= 1
    assert rows["worker-b"].taken_over_by is None
    assert sorted(erp.state.applied_by_key.values()) == [1] * CUSTOMERS  # nothing twice


def _registry(db_url: str) -> tuple[Database, ExecutorRegistry]:
    db = Database(db_url)
    db.upgrade()
    return db, ExecutorRegistry(db)


def test_exactly_one_live_executor_claims_a_dead_one(db_url: str) -> None:
    db, registry = _registry(db_url)
    registry.beat("dead", "1.0", starting=True)
    cutoff = utcnow() + timedelta(seconds=1)  # "dead" beat before this: stale
    with ThreadPoolExecutor(8) as pool:
        won = list(pool.map(lambda n: registry.claim("dead", f"live-{n}", cutoff), range(8)))
    assert won.count(True) == 1
    taker = f"live-{won.index(True)}"
    assert registry.all()[0].taken_over_by == taker
    assert registry.stale(cutoff, application_version="1.0", exclude=taker) == []
    db.dispose()


def test_only_silent_executors_of_the_same_version_are_taken_over(db_url: str) -> None:
    db, registry = _registry(db_url)
    for executor, version in (("old", "1.0"), ("other-version", "2.0"), ("me", "1.0")):
        registry.beat(executor, version, starting=True)
    recovered: list[str] = []

    def recover(executor_id: str) -> int:
        recovered.append(executor_id)
        return 3

    heartbeat = Heartbeat(
        registry,
        "me",
        "1.0",
        recover=recover,
        interval_seconds=0.05,
        takeover_after_seconds=0.2,
    )
    assert heartbeat.take_over_stale() == {}  # everyone beat just now
    wait_until(lambda: bool(heartbeat.take_over_stale()), 5, "'old' to go stale")
    assert recovered == ["old"]
    rows = {row.executor_id: row for row in registry.all()}
    assert (rows["old"].taken_over_by, rows["old"].runs_taken_over) == ("me", 3)
    assert rows["other-version"].taken_over_by is None  # only a 2.0 worker may recover it
    assert heartbeat.take_over_stale() == {}  # taken over once
    registry.beat("old", "1.0", starting=True)  # it came back: alive again
    assert {row.executor_id: row for row in registry.all()}["old"].taken_over_by is None
    db.dispose()


def test_takeover_must_wait_longer_than_two_heartbeats(tmp_path: Path) -> None:
    config = write_config(
        tmp_path,
        db_url=f"sqlite:///{tmp_path / 'x.db'}",
        erp_url="http://127.0.0.1:9",
        engine_extra="  heartbeat_seconds: 10\n  takeover_after_seconds: 15\n",
    )
    with pytest.raises(ConfigError) as info:
        load_settings(config)
    assert "takeover_after_seconds (15) must be more than twice heartbeat_seconds (10)" in str(
        info.value.problems
    )
