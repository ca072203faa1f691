"""``workflows.<name>.priority``: a flood of low-priority runs cannot hold back a high-priority
one (the example shop -> ERP stack, the ERP emulator slowing every write down)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from syncwright.config import load_settings
from syncwright.connectors.example.outbound import upsert_account
from syncwright.engine import WorkflowRun, workflow
from syncwright.errors import ConfigError
from syncwright.sandbox import FaultPlan
from tests._support import Erp, start_stack, wait_until, write_config

FLOOD = 30


@workflow("test.catalogue_update")  # started by the test only
def catalogue_update(run: WorkflowRun, event: dict[str, Any]) -> dict[str, Any]:
    return run.step("erp.upsert_account", upsert_account, "erp", event["account"])


@workflow("test.payment")  # started by the test only
def payment(run: WorkflowRun, event: dict[str, Any]) -> dict[str, Any]:
    return run.step("erp.upsert_account", upsert_account, "erp", event["account"])


def _account(n: int) -> dict[str, Any]:
    return {
        "global_id": f"acco_{n}",
        "name": f"Account {n}",
        "billing_email": None,
        "currency": "USD",
        "subsidiary": "US",
    }


def test_a_payment_overtakes_a_flood_of_low_priority_work(
    tmp_path: Path, sqlite_url: str, erp: Erp
) -> None:
    erp.faults.configure(FaultPlan(latency_ms=150))
    classes = (
        "workflows:\n  test.catalogue_update: {priority: low}\n  test.payment: {priority: high}\n"
    )
    config = write_config(
        tmp_path, db_url=sqlite_url, erp_url=erp.url, engine_extra="  workers: 4\n", extra=classes
    )
    with start_stack(config, dispatch=False) as stack:
        engine = stack.runtime.engine
        assert engine is not None
        flood = [
            engine.enqueue(
                "test.catalogue_update",
                workflow_id=f"wf-catalogue-{n}",
                entity_key=f"account:acco_{n}",
                correlation_id=f"cor-catalogue-{n}",
                event={"account": _account(n)},
            )
            for n in range(FLOOD)
        ]
        urgent = engine.enqueue(
            "test.payment",
            workflow_id="wf-payment",
            entity_key="account:acco_payer",
            correlation_id="cor-payment",
            event={"account": _account(1000)},
        )
        wait_until(lambda: engine.status(urgent) == "SUCCESS", 120, "the payment")
        # The low lane (a quarter of 4 workers: one run at a time) was still working through
        # the flood when the payment, enqueued after all of it, was done.
        finished = sum(engine.status(workflow_id) == "SUCCESS" for workflow_id in flood)
        assert finished < FLOOD
        wait_until(
            lambda: all(engine.status(w) == "SUCCESS" for w in flood), 300, "the whole flood"
        )


def test_priority_and_queue_concurrency_exclude_each_other(tmp_path: Path) -> None:
    path = tmp_path / "syncwright.yaml"
    path.write_text("workflows:\n  account.sync_to_erp: {priority: high, queue_concurrency: 2}\n")
    with pytest.raises(ConfigError, match="priority and queue_concurrency exclude each other"):
        load_settings(path)
