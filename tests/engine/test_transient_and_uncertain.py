"""Transient failures retry with backoff and honour Retry-After; uncertain writes are probed
before any retry, so a lost response never turns into a second write."""

from __future__ import annotations

from pathlib import Path

from syncwright.sandbox import FaultPlan
from tests._support import Erp, customer_event, start_stack, stats, wait_until, write_config


def test_rate_limited_target_is_retried_after_retry_after(
    tmp_path: Path, sqlite_url: str, erp: Erp
) -> None:
    erp.state.requests_per_second = 3
    stack = start_stack(write_config(tmp_path, db_url=sqlite_url, erp_url=erp.url))
    try:
        for n in range(12):
            assert stack.post(customer_event(f"evt_{n}", f"cust_{n}")).status_code == 200
        wait_until(lambda: stack.count("SUCCESS") == 12, 120, "all workflows")
        entries = stack.runtime.ledger.recent(500)
        throttled = [e for e in entries if e.outcome == "transient"]
        assert throttled, "the ERP's rate limit was never hit"
        assert {e.error_code for e in throttled} == {"example.RATE_LIMITED"}
        assert sum(1 for e in entries if e.outcome == "ok") == 12
        assert stats(erp)["customers"] == 12
        assert stack.runtime.exceptions.count_open() == 0
    finally:
        stack.close()


def test_5xx_and_lost_responses_end_with_exactly_one_write_each(
    tmp_path: Path, sqlite_url: str, erp: Erp
) -> None:
    erp.faults.configure(
        FaultPlan(error_5xx_rate=0.2, lost_response_rate=0.2, stall_seconds=2.0, seed=11)
    )
    # A client timeout shorter than the stall: lost responses surface as uncertain outcomes.
    config = write_config(tmp_path, db_url=sqlite_url, erp_url=erp.url, timeout_seconds=0.5)
    stack = start_stack(config)
    try:
        for n in range(25):
            stack.post(customer_event(f"evt_{n}", f"cust_{n}"))
        wait_until(lambda: stack.count("SUCCESS") == 25, 180, "all workflows")
        outcomes = {e.outcome for e in stack.runtime.ledger.recent(1000)}
        assert {"transient", "uncertain", "probe"} <= outcomes
        injected = stats(erp)["faults_injected"]
        assert injected["error_5xx"] > 0 and injected["lost_response"] > 0
        assert sorted(stats(erp)["applied_by_key"].values()) == [1] * 25
        assert stats(erp)["customers"] == 25
    finally:
        stack.close()
