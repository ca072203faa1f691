"""A worker killed with SIGKILL in the middle of a step resumes after restart, and no step's
side effect is applied twice (idempotency keys derived from workflow id and step)."""

from __future__ import annotations

import signal
from pathlib import Path

from syncwright.sandbox import FaultPlan
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


def test_sigkill_mid_step_resumes_without_double_effects(
    tmp_path: Path, sqlite_url: str, erp: Erp
) -> None:
    # Every ERP write is applied at once but answered a second later, so the kill lands
    # between a side effect and the checkpoint of the step that caused it.
    erp.faults.configure(
        FaultPlan(lost_response_rate=1.0, stall_seconds=1.0, only_methods=frozenset({"PUT"}))
    )
    config = write_config(tmp_path, db_url=sqlite_url, erp_url=erp.url, timeout_seconds=5)
    accept_customer_events(config, CUSTOMERS)

    log = tmp_path / "worker.log"
    kill_worker_mid_write(config, log, erp, CUSTOMERS)

    worker = start_worker(config, log)
    try:
        wait_until(lambda: len(erp.state.customers) == CUSTOMERS, 120, "recovery to finish")
        wait_every_run_succeeded(config, CUSTOMERS)
        # Graceful stop: SIGTERM ends the worker promptly and cleanly.
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(30) == 0, log.read_text()
    finally:
        if worker.poll() is None:
            worker.kill()

    assert sorted(erp.state.applied_by_key.values()) == [1] * CUSTOMERS
    # The interrupted step ran again after the restart and was answered from the ERP's
    # idempotency store instead of being applied a second time.
    assert erp.state.replays >= 1
