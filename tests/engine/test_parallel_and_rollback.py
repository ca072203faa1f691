"""Independent branches run in parallel as child workflows; a failure after downstream writes
runs the declared compensations (saga), and the ledger shows both."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from syncwright.connectors.example.outbound import delete_account, upsert_account
from syncwright.engine import Branch, WorkflowRun, workflow
from syncwright.sandbox import FaultPlan
from tests._support import Erp, Stack, start_stack, stats, wait_until, write_config


def account(n: int, subsidiary: str = "US") -> dict[str, Any]:
    return {
        "global_id": f"acco_p{n}",
        "name": f"Parallel {n}",
        "billing_email": None,
        "currency": "USD",
        "subsidiary": subsidiary,
    }


@workflow("test.parallel_upserts")
def parallel_upserts(run: WorkflowRun, event: dict[str, Any]) -> dict[str, Any]:
    results = run.parallel(
        [
            Branch(f"erp.upsert_{a['global_id']}", "erp", "upsert_account", (a,))
            for a in event["accounts"]
        ],
        on_failure=event["on_failure"],
    )
    return {"ids": [r["native_id"] for r in results]}


@workflow("test.write_then_fail")
def write_then_fail(run: WorkflowRun, event: dict[str, Any]) -> dict[str, Any]:
    run.step("erp.first", upsert_account, "erp", event["first"], compensation=delete_account)
    run.step("erp.second", upsert_account, "erp", event["second"], on_failure="compensate")
    return {}


@pytest.fixture
def stack(tmp_path: Path, sqlite_url: str, erp: Erp) -> Iterator[Stack]:
    started = start_stack(write_config(tmp_path, db_url=sqlite_url, erp_url=erp.url))
    try:
        yield started
    finally:
        started.close()


def _start(stack: Stack, workflow: str, correlation_id: str, event: dict[str, Any]) -> str:
    assert stack.runtime.engine is not None
    return stack.runtime.engine.enqueue(
        workflow,
        workflow_id=f"wf-{correlation_id}",
        entity_key=f"deal:{correlation_id}",
        correlation_id=correlation_id,
        event=event,
    )


def test_branches_run_at_the_same_time(stack: Stack, erp: Erp) -> None:
    erp.faults.configure(FaultPlan(latency_ms=300, only_methods=frozenset({"PUT"})))
    workflow_id = _start(
        stack,
        "test.parallel_upserts",
        "cor_par",
        {"accounts": [account(1), account(2), account(3)], "on_failure": "park"},
    )
    wait_until(lambda: stack.engine.status(workflow_id) == "SUCCESS", what="the parent run")
    assert (
        stack.engine.result(workflow_id)["ids"] == ["C000001", "C000002", "C000003"]
        or len(set(stack.engine.result(workflow_id)["ids"])) == 3
    )
    assert erp.state.max_in_flight == 3  # all three writes were in flight together
    steps = {e.step for e in stack.runtime.ledger.for_correlation("cor_par")}
    assert steps == {"erp.upsert_acco_p1", "erp.upsert_acco_p2", "erp.upsert_acco_p3"}


def test_failed_branch_rolls_back_the_others(stack: Stack, erp: Erp) -> None:
    workflow_id = _start(
        stack,
        "test.parallel_upserts",
        "cor_rb",
        {"accounts": [account(4), account(5, subsidiary="XX")], "on_failure": "compensate"},
    )
    wait_until(lambda: stack.engine.status(workflow_id) == "SUCCESS", what="the parent run")
    assert stack.engine.result(workflow_id)["status"] == "aborted"
    assert stats(erp)["customers"] == 0 and stats(erp)["deleted"] == ["acco_p4"]
    outcomes = sorted((e.step, e.outcome) for e in stack.runtime.ledger.for_correlation("cor_rb"))
    assert outcomes == [
        ("erp.upsert_acco_p4", "ok"),
        ("erp.upsert_acco_p4.compensate", "compensated"),
        ("erp.upsert_acco_p5", "business"),
    ]
    [record] = stack.runtime.exceptions.list(correlation_id="cor_rb")
    assert record.status == "resolved" and record.code == "example.UNKNOWN_SUBSIDIARY"
    assert record.resolution is not None and "rolled back" in record.resolution


def test_step_failure_under_compensate_policy_undoes_earlier_steps(stack: Stack, erp: Erp) -> None:
    workflow_id = _start(
        stack,
        "test.write_then_fail",
        "cor_wtf",
        {"first": account(6), "second": account(7, subsidiary="XX")},
    )
    wait_until(lambda: stack.engine.status(workflow_id) == "SUCCESS", what="the run")
    assert stack.engine.result(workflow_id)["status"] == "aborted"
    assert stats(erp)["deleted"] == ["acco_p6"] and stats(erp)["customers"] == 0
    steps = [(e.step, e.outcome) for e in stack.runtime.ledger.for_correlation("cor_wtf")]
    assert steps == [
        ("erp.first", "ok"),
        ("erp.second", "business"),
        ("erp.first.compensate", "compensated"),
    ]
    [record] = stack.runtime.exceptions.list(correlation_id="cor_wtf")
    assert record.status == "resolved" and record.details == {"rolled_back": ["erp.first"]}
