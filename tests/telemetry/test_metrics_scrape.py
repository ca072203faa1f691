"""/metrics scraped over HTTP from a real server, read with Prometheus's own text parser,
before and after real workflow runs against the example ERP emulator."""

from __future__ import annotations

from pathlib import Path

from syncwright.sandbox import FaultPlan
from tests._support import Erp, Stack, customer_event, start_stack, wait_until, write_config
from tests.telemetry._metrics import scrape, value

STEP = {"workflow": "account.sync_to_erp", "connection": "erp", "action": "upsert_account"}


def test_histograms_move_with_real_runs(stack: Stack, erp: Erp) -> None:
    before = scrape(stack.api.url)
    assert value(before, "syncwright_step_duration_seconds_count", **STEP, outcome="ok") == 0
    for n in range(3):
        stack.post(customer_event(f"evt_h{n}", f"cust_h{n}"))
    wait_until(lambda: stack.count("SUCCESS") == 3, what="three runs")
    after = scrape(stack.api.url)

    ok = {**STEP, "outcome": "ok"}
    assert value(after, "syncwright_step_duration_seconds_count", **ok) == 3
    assert value(after, "syncwright_step_duration_seconds_sum", **ok) > 0
    assert value(after, "syncwright_step_duration_seconds_bucket", **ok, le="+Inf") == 3
    workflow = {"workflow": "account.sync_to_erp"}
    assert value(after, "syncwright_sync_latency_seconds_count", **workflow) == 3
    assert value(after, "syncwright_sync_latency_seconds_sum", **workflow) > 0
    assert value(after, "syncwright_workflow_runs_total", **workflow, status="completed") == 3
    assert value(after, "syncwright_workflow_runs_open", **workflow, state="queued") == 0
    # The database work behind them: three runs wrote (inbox, ledger, checkpoints) and read.
    for kind in ("read", "write"):
        moved = value(after, "syncwright_db_statements_total", kind=kind)
        assert moved > value(before, "syncwright_db_statements_total", kind=kind)
    for tables in ("syncwright", "engine"):  # ledger rows; run checkpoints
        labels = {"kind": "write", "tables": tables}
        moved = value(after, "syncwright_db_commits_total", **labels)
        assert moved - value(before, "syncwright_db_commits_total", **labels) >= 3


def test_retries_are_counted(stack: Stack, erp: Erp) -> None:
    erp.faults.plan = FaultPlan(error_5xx_rate=1.0)
    stack.post(customer_event("evt_r1", "cust_r1"))
    wait_until(lambda: erp.faults.injected["error_5xx"] >= 2, what="two refused attempts")
    erp.faults.plan = FaultPlan()
    wait_until(lambda: stack.count("SUCCESS") == 1, what="the run")
    after = scrape(stack.api.url)
    transient = {**STEP, "outcome": "transient"}
    failed = value(after, "syncwright_step_duration_seconds_count", **transient)
    assert failed >= 2
    # Every attempt after the first is a retry: the failed ones plus the one that succeeded,
    # minus the first.
    assert value(after, "syncwright_step_retries_total", **STEP) == failed


def test_metrics_can_be_turned_off(tmp_path: Path, sqlite_url: str, erp: Erp) -> None:
    config = write_config(
        tmp_path, db_url=sqlite_url, erp_url=erp.url, extra="telemetry:\n  metrics_enabled: false\n"
    )
    stack = start_stack(config)
    try:
        assert stack.http.get(f"{stack.api.url}/metrics").status_code == 404
        assert stack.http.get(f"{stack.api.url}/healthz").status_code == 200
    finally:
        stack.close()


def test_a_parked_run_is_open_until_resolved(stack: Stack) -> None:
    stack.post(customer_event("evt_p1", "cust_p1", subsidiary="NOWHERE"))  # the ERP refuses it
    wait_until(lambda: stack.runtime.exceptions.count_open() == 1, what="the parked run")
    samples = scrape(stack.api.url)
    workflow = {"workflow": "account.sync_to_erp"}
    assert value(samples, "syncwright_workflow_runs_open", **workflow, state="running") == 1
    [parked] = stack.runtime.exceptions.list(status="open")
    labels = {"class": str(parked.error_class), "code": parked.code, "age": "lt_1h"}
    assert parked.error_class  # classified when it was opened
    assert value(samples, "syncwright_exceptions_open_by_age", **labels) == 1
    assert value(samples, "syncwright_step_duration_seconds_count", **STEP, outcome="business") == 1
    assert value(samples, "syncwright_workflow_runs_total", **workflow, status="completed") == 0
