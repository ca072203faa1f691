"""Scale-out on PostgreSQL: three ``syncwright worker`` processes drain one backlog together;
two are SIGKILLed mid-write, the third takes their runs over. Nothing is lost, nothing is
applied twice, and each customer's events are applied in arrival order."""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

import pytest

from syncwright.config import load_settings
from syncwright.runtime import Runtime
from syncwright.sandbox import FaultPlan
from tests._postgres import PostgresServer
from tests._support import (
    Erp,
    customer_event,
    start_worker,
    stats,
    wait_every_run_succeeded,
    wait_until,
    write_config,
)

ENTITIES = 6
VERSIONS = 5
TOTAL = ENTITIES * VERSIONS
FAST_HEARTBEAT = "  heartbeat_seconds: 0.5\n  takeover_after_seconds: 3\n"
WORKERS = ("worker-a", "worker-b", "worker-c")


def _accept_histories(config: Path) -> None:
    """Every customer's versions in the inbox, in arrival order, not yet dispatched."""
    with Runtime(load_settings(config)) as runtime:
        for version in range(1, VERSIONS + 1):
            for entity in range(ENTITIES):
                event_id = f"evt_{entity}_{version}"
                body = customer_event(event_id, f"cust_{entity}", name=f"c{entity} v{version}")
                runtime.inbox.accept(
                    connection="shop",
                    vendor_event_id=event_id,
                    event_type="customer.updated",
                    body=body.decode(),
                )


@pytest.mark.postgres
def test_workers_killed_mid_write_lose_nothing_duplicate_nothing_keep_order(
    tmp_path: Path, postgres: PostgresServer, erp: Erp
) -> None:
    db_url = postgres.create_database()
    # Writes are applied at once and answered late: a kill lands between effect and checkpoint.
    erp.faults.configure(
        FaultPlan(lost_response_rate=1.0, stall_seconds=0.5, only_methods=frozenset({"PUT"}))
    )
    configs = {
        name: write_config(
            tmp_path / name,
            db_url=db_url,
            erp_url=erp.url,
            timeout_seconds=5,
            executor_id=name,
            engine_extra=FAST_HEARTBEAT,
        )
        for name in WORKERS
    }
    _accept_histories(configs["worker-a"])
    log = tmp_path / "workers.log"
    workers: dict[str, subprocess.Popen[bytes]] = {}
    try:
        for name in WORKERS:
            workers[name] = start_worker(configs[name], log)
        wait_until(
            lambda: len(erp.state.applied_by_key) >= 4 and erp.state.in_flight > 1,
            120,
            "the first writes with more in flight",
        )
        for name in WORKERS[:2]:
            workers[name].send_signal(signal.SIGKILL)
            workers[name].wait(10)
        assert len(erp.state.applied_by_key) < TOTAL, "killed too late to prove anything"
        erp.faults.configure(FaultPlan())

        wait_every_run_succeeded(configs["worker-c"], TOTAL)
        survivor = workers["worker-c"]
        survivor.send_signal(signal.SIGTERM)
        assert survivor.wait(30) == 0, log.read_text()
    finally:
        for worker in workers.values():
            if worker.poll() is None:
                worker.kill()
                worker.wait()

    assert sorted(erp.state.applied_by_key.values()) == [1] * TOTAL  # nothing twice, none lost
    writes = stats(erp)["write_log"]
    for entity in range(ENTITIES):
        names = [w["name"] for w in writes if w["name"].startswith(f"c{entity} ")]
        assert names == [f"c{entity} v{v}" for v in range(1, VERSIONS + 1)], names
    finals = {c["name"] for c in erp.state.customers.values()}
    assert finals == {f"c{e} v{VERSIONS}" for e in range(ENTITIES)}
