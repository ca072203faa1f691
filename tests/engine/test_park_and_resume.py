"""Business errors park a workflow before any downstream write; after a fix, the operator's
``exceptions retry`` (a separate CLI process) resumes it from the failed step, exactly once.
``exceptions resolve`` aborts it and runs the declared compensations."""

from __future__ import annotations

import getpass
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from syncwright.connectors.example.outbound import delete_account, upsert_account
from syncwright.engine import WorkflowRun, workflow
from tests._support import Erp, Stack, customer_event, start_stack, stats, wait_until, write_config


@workflow("test.two_accounts_saga")  # no `handles`: started by the test only
def two_accounts_saga(run: WorkflowRun, event: dict[str, Any]) -> dict[str, Any]:
    first = run.step(
        "erp.first", upsert_account, "erp", event["first"], compensation=delete_account
    )
    second = run.step("erp.second", upsert_account, "erp", event["second"])
    return {"ids": [first["native_id"], second["native_id"]]}


@pytest.fixture
def config(tmp_path: Path, sqlite_url: str, erp: Erp) -> Path:
    return write_config(tmp_path, db_url=sqlite_url, erp_url=erp.url)


@pytest.fixture
def stack(config: Path) -> Iterator[Stack]:
    started = start_stack(config)
    try:
        yield started
    finally:
        started.close()


def cli(config: Path, *args: str) -> Any:
    done = subprocess.run(
        [sys.executable, "-m", "syncwright", *args, "--config", str(config), "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr + done.stdout
    return json.loads(done.stdout)


def test_business_rejection_parks_then_cli_retry_finishes_once(
    stack: Stack, erp: Erp, config: Path
) -> None:
    accepted = stack.post(customer_event("evt_de", "cust_de", subsidiary="DE")).json()
    wait_until(lambda: stack.runtime.exceptions.count_open() == 1, what="parking")
    [record] = cli(config, "exceptions", "list")
    assert record["code"] == "example.UNKNOWN_SUBSIDIARY"
    assert "Create the subsidiary" in record["remediation"]
    assert record["correlation_id"] == accepted["correlation_id"]
    assert stack.count("PENDING") == 1  # waiting durably, not failed
    assert stats(erp)["customers"] == 0  # nothing written downstream of the parked step

    shown = cli(config, "exceptions", "show", record["id"])
    assert shown["workflow_id"] == record["workflow_id"]

    httpx.post(f"{erp.url}/_sandbox/subsidiaries/DE").raise_for_status()
    retried = cli(config, "exceptions", "retry", record["id"])
    assert retried["status"] == "retrying"
    wait_until(lambda: stack.count("SUCCESS") == 1, what="the resumed workflow")
    after = stack.runtime.exceptions.get(record["id"])
    assert after is not None and after.status == "resolved"
    assert after.resolution == "retried successfully"
    assert list(stats(erp)["applied_by_key"].values()) == [1]
    ledger = cli(config, "trace", record["correlation_id"])["ledger"]
    assert [e["outcome"] for e in ledger] == ["business", "parked", "operator", "ok"]
    assert ledger[2]["step"] == "exception.retry"
    assert ledger[2]["actor"] == f"cli:{getpass.getuser()}"


def test_retry_of_unfixed_data_parks_again(stack: Stack, erp: Erp, config: Path) -> None:
    stack.post(customer_event("evt_fr", "cust_fr", subsidiary="FR"))
    wait_until(lambda: stack.runtime.exceptions.count_open() == 1, what="parking")
    [record] = stack.runtime.exceptions.list()
    cli(config, "exceptions", "retry", record.id)
    wait_until(
        lambda: len(stack.runtime.ledger.for_workflow(record.workflow_id or "")) >= 4,
        what="the second attempt",
    )
    again = stack.runtime.exceptions.get(record.id)
    assert again is not None and again.status == "open" and again.retries == 1
    assert stats(erp)["customers"] == 0


def test_resolve_aborts_and_runs_compensations(stack: Stack, erp: Erp, config: Path) -> None:
    def account(n: int, subsidiary: str) -> dict[str, Any]:
        return {
            "global_id": f"acco_{n}",
            "name": f"Account {n}",
            "billing_email": None,
            "currency": "USD",
            "subsidiary": subsidiary,
        }

    assert stack.runtime.engine is not None
    workflow_id = stack.runtime.engine.enqueue(
        "test.two_accounts_saga",
        workflow_id="wf-test-saga",
        entity_key="account:acco_1",
        correlation_id="cor_saga",
        event={"first": account(1, "US"), "second": account(2, "XX")},
    )
    wait_until(lambda: stack.runtime.exceptions.count_open() == 1, what="parking")
    assert stats(erp)["customers"] == 1  # the first step had written

    [record] = stack.runtime.exceptions.list()
    resolved = cli(config, "exceptions", "resolve", record.id, "--note", "deal withdrawn")
    assert resolved["status"] == "resolved" and resolved["resolution"] == "deal withdrawn"
    wait_until(lambda: stack.count("SUCCESS") == 1, what="the aborted run to end")
    assert stack.runtime.engine.result(workflow_id)["status"] == "aborted"
    assert stats(erp)["customers"] == 0
    assert stats(erp)["deleted"] == ["acco_1"]
    steps = [(e.step, e.outcome) for e in stack.runtime.ledger.for_correlation("cor_saga")]
    assert steps == [
        ("erp.first", "ok"),
        ("erp.second", "business"),
        ("erp.second", "parked"),
        ("exception.resolve", "operator"),
        ("erp.first.compensate", "compensated"),
    ]


def test_cli_refuses_unknown_and_resolved_exceptions(stack: Stack, config: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "syncwright",
            "exceptions",
            "retry",
            "exc_nope",
            "--config",
            str(config),
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1
    assert json.loads(done.stdout)["error"] == "no exception with id 'exc_nope'"
