"""What ``connections.*.limits`` and ``workflows.*`` configure acts on real runs: the example
shop -> ERP stack on SQLite, the ERP emulator injecting the faults."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from syncwright.config import load_settings
from syncwright.engine import RetryPolicy, StepPolicy, policy_for
from syncwright.errors import ConfigError
from syncwright.exceptions import ExceptionService
from syncwright.runtime import Runtime
from syncwright.sandbox import FaultPlan
from syncwright.trace import build_trace
from tests._support import Erp, customer_event, start_stack, stats, wait_until, write_config

WORKFLOW = "account.sync_to_erp"
STEP = "erp.upsert_account"


def test_policy_precedence_connection_retry_replaces_the_steps_own() -> None:
    declared = StepPolicy(timeout_seconds=7.0, retry=RetryPolicy(max_attempts=8))
    configured = RetryPolicy(max_attempts=2, base_delay_seconds=0.1, max_delay_seconds=0.2)
    chosen = policy_for(declared, "erp", {"erp": configured})
    assert chosen.retry == configured and chosen.timeout_seconds == 7.0
    assert policy_for(declared, "crm", {"erp": configured}) == declared
    assert policy_for(declared, None, {"erp": configured}) == declared
    assert policy_for(None, None, {}) == StepPolicy()


def test_connection_retry_policy_bounds_the_attempts_of_its_steps(
    tmp_path: Path, sqlite_url: str, erp: Erp
) -> None:
    erp.faults.configure(FaultPlan(error_5xx_rate=1.0))
    retry = "      retry: {max_attempts: 2, base_delay_seconds: 0.01, max_delay_seconds: 0.02}\n"
    with start_stack(
        write_config(tmp_path, db_url=sqlite_url, erp_url=erp.url, erp_limits=retry)
    ) as stack:
        assert stack.post(customer_event("evt_1", "cust_1")).status_code == 200
        wait_until(lambda: stack.runtime.exceptions.count_open() == 1, 60, "the parked step")
        entries = [e for e in stack.runtime.ledger.recent(100) if e.step == STEP]
        # The workflow declares 6 attempts for this step; the connection's policy says 2.
        assert sorted(e.attempt for e in entries if e.outcome == "transient") == [1, 2]
        assert [e.outcome for e in entries if e.outcome == "parked"] == ["parked"]
        assert stats(erp)["customers"] == 0


def test_example_connector_honours_concurrency_and_requests_per_second(
    tmp_path: Path, sqlite_url: str, erp: Erp
) -> None:
    erp.faults.configure(FaultPlan(latency_ms=100))
    limits = "      concurrency: 1\n      requests_per_second: 4\n"
    config = write_config(
        tmp_path,
        db_url=sqlite_url,
        erp_url=erp.url,
        engine_extra="  workers: 8\n",
        erp_limits=limits,
    )
    with start_stack(config) as stack:
        started = time.monotonic()
        for n in range(8):
            assert stack.post(customer_event(f"evt_{n}", f"cust_{n}")).status_code == 200
        wait_until(lambda: stack.count("SUCCESS") == 8, 120, "all workflows")
        elapsed = time.monotonic() - started
        assert stats(erp)["customers"] == 8
        assert erp.state.max_in_flight == 1
        # 8 writes at 4 per second with a burst of 4: the last one cannot start before 1 s.
        assert elapsed >= 1.0


def test_disabled_workflow_is_not_started_and_the_skip_is_recorded(
    tmp_path: Path, sqlite_url: str, erp: Erp
) -> None:
    disabled = f"workflows:\n  {WORKFLOW}: {{enabled: false}}\n"
    with start_stack(
        write_config(tmp_path, db_url=sqlite_url, erp_url=erp.url, extra=disabled)
    ) as stack:
        assert stack.post(customer_event("evt_1", "cust_1")).status_code == 200
        wait_until(lambda: stack.runtime.inbox.count("skipped") == 1, 60, "the skipped delivery")
        assert stack.statuses() == {}
        row = stack.runtime.inbox.get(1)
        assert row is not None and row.status == "skipped"
        trace = build_trace(stack.runtime, row.correlation_id)
        assert [d["status"] for d in trace["deliveries"]] == ["skipped"]
        [skip] = trace["ledger"]
        assert skip["outcome"] == "skipped" and skip["workflow"] == WORKFLOW
        assert skip["error_code"] == "workflow.disabled"
        assert f"workflows.{WORKFLOW}.enabled: false" in skip["message"]
        assert stats(erp)["customers"] == 0


def test_queue_concurrency_limits_concurrent_runs_of_the_workflow(
    tmp_path: Path, db_url: str, erp: Erp
) -> None:
    erp.faults.configure(FaultPlan(latency_ms=300))
    limited = f"workflows:\n  {WORKFLOW}: {{queue_concurrency: 1}}\n"
    config = write_config(
        tmp_path, db_url=db_url, erp_url=erp.url, engine_extra="  workers: 8\n", extra=limited
    )
    with start_stack(config) as stack:
        for n in range(4):
            assert stack.post(customer_event(f"evt_{n}", f"cust_{n}")).status_code == 200
        wait_until(lambda: stack.count("SUCCESS") == 4, 120, "all workflows")
        # Four customers (four partitions) and eight workers: only the limit serialises them.
        assert erp.state.max_in_flight == 1
        assert stats(erp)["customers"] == 4


def test_timed_out_run_becomes_an_exception_and_retry_restarts_it(
    tmp_path: Path, db_url: str, erp: Erp
) -> None:
    # The limit is long enough for the restarted run (one write) on a loaded machine; the ERP
    # answers the first run's write after it.
    erp.faults.configure(FaultPlan(latency_ms=8000))
    limited = f"workflows:\n  {WORKFLOW}: {{timeout_seconds: 4}}\n"
    config = write_config(
        tmp_path, db_url=db_url, erp_url=erp.url, timeout_seconds=10, extra=limited
    )
    with start_stack(config) as stack:
        assert stack.post(customer_event("evt_1", "cust_1")).status_code == 200

        def reported() -> bool:
            stack.engine.report_timeouts()
            return stack.runtime.exceptions.count_open() == 1

        wait_until(reported, 60, "the timed-out run's exception")
        [record] = stack.runtime.exceptions.list(status="open")
        assert record.code == "workflow.timed_out" and record.workflow == WORKFLOW
        assert f"workflows.{WORKFLOW}.timeout_seconds" in record.remediation
        assert record.workflow_id is not None
        assert stack.engine.status(record.workflow_id) == "CANCELLED"
        # A second look reports nothing new.
        stack.engine.report_timeouts()
        assert len(stack.runtime.exceptions.list()) == 1
        timed_out = [e for e in stack.runtime.ledger.recent(100) if e.outcome == "timed_out"]
        assert [e.workflow_id for e in timed_out] == [record.workflow_id]

        erp.faults.configure(FaultPlan())
        service = ExceptionService(
            stack.runtime.exceptions,
            stack.runtime.inbox,
            stack.engine,
            ledger=stack.runtime.ledger,
            audit=stack.runtime.audit,
        )
        assert service.retry(record.id, actor="test").status == "resolved"
        wait_until(lambda: stack.count("SUCCESS") == 1, 60, "the restarted run")
        assert stats(erp)["customers"] == 1


def test_unknown_workflow_name_stops_the_engine_from_starting(
    tmp_path: Path, sqlite_url: str, erp: Erp
) -> None:
    unknown = "workflows:\n  activation: {enabled: false}\n"
    settings = load_settings(
        write_config(tmp_path, db_url=sqlite_url, erp_url=erp.url, extra=unknown)
    )
    with Runtime(settings) as runtime, pytest.raises(ConfigError) as raised:
        runtime.start_engine()
    [problem] = raised.value.problems
    assert problem.startswith("workflows.activation: unknown workflow; use one of: ")
    assert WORKFLOW in problem and "subscription.activate_in_erp" in problem


def test_parked_run_past_its_time_limit_is_stopped_and_its_park_superseded(
    tmp_path: Path, sqlite_url: str, erp: Erp
) -> None:
    erp.faults.configure(FaultPlan(error_5xx_rate=1.0))
    config = write_config(
        tmp_path,
        db_url=sqlite_url,
        erp_url=erp.url,
        erp_limits="      retry: {max_attempts: 1}\n",
        extra=f"workflows:\n  {WORKFLOW}: {{timeout_seconds: 5}}\n",
    )
    with start_stack(config) as stack:
        assert stack.post(customer_event("evt_1", "cust_1")).status_code == 200
        wait_until(lambda: stack.runtime.exceptions.count_open() == 1, 60, "the parked step")
        [parked] = stack.runtime.exceptions.list(status="open")
        assert parked.step == STEP

        def timed_out() -> bool:
            stack.engine.report_timeouts()
            return bool(stack.runtime.exceptions.list(status="open")) and all(
                r.code == "workflow.timed_out" for r in stack.runtime.exceptions.list(status="open")
            )

        wait_until(timed_out, 60, "the parked run's time-out")
        superseded = stack.runtime.exceptions.get(parked.id)
        assert superseded is not None and superseded.status == "resolved"
        assert superseded.resolution is not None and "stopped" in superseded.resolution
        [record] = stack.runtime.exceptions.list(status="open")

        erp.faults.configure(FaultPlan())
        service = ExceptionService(
            stack.runtime.exceptions,
            stack.runtime.inbox,
            stack.engine,
            ledger=stack.runtime.ledger,
            audit=stack.runtime.audit,
        )
        service.retry(record.id, actor="test")
        wait_until(lambda: stack.count("SUCCESS") == 1, 60, "the restarted run")
        assert stats(erp)["customers"] == 1
