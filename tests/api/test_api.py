"""The HTTP API over a real server: health, readiness, metrics, exceptions, OpenAPI."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from syncwright._time import utcnow
from syncwright.engine.executors import ExecutorRegistry
from syncwright.store.tables import executors
from tests._support import Erp, Stack, customer_event, start_stack, wait_until, write_config


@pytest.fixture
def stack(tmp_path: Path, sqlite_url: str, erp: Erp) -> Iterator[Stack]:
    started = start_stack(write_config(tmp_path, db_url=sqlite_url, erp_url=erp.url))
    try:
        yield started
    finally:
        started.close()


def test_health_ready_and_openapi(stack: Stack) -> None:
    base = stack.api.url
    assert stack.http.get(f"{base}/healthz").json() == {"status": "ok"}
    assert stack.http.get(f"{base}/readyz").json()["schema_revision"] == "0013_budgets"
    paths = stack.http.get(f"{base}/openapi.json").json()["paths"]
    for path in ("/hooks/{connection}", "/api/v1/trace/{correlation_id}", "/api/v1/exceptions"):
        assert path in paths


def test_metrics_report_intake_and_durable_state(stack: Stack) -> None:
    stack.post(customer_event("evt_m1", "cust_m1"))
    stack.post(customer_event("evt_m1", "cust_m1"))
    stack.post(b"{", secret="wrong")
    wait_until(lambda: stack.count("SUCCESS") == 1, what="the workflow")
    text = stack.http.get(f"{stack.api.url}/metrics").text
    assert 'syncwright_webhooks_total{connection="shop",result="accepted"} 1.0' in text
    assert 'syncwright_webhooks_total{connection="shop",result="duplicate"} 1.0' in text
    assert 'syncwright_webhooks_total{connection="shop",result="401"} 1.0' in text
    assert 'syncwright_inbox_deliveries{status="dispatched"} 1.0' in text
    assert "syncwright_exceptions_open 0.0" in text
    assert 'syncwright_executors{state="live"} 1.0' in text  # this stack's engine
    assert 'syncwright_executors{state="silent"} 0.0' in text


def test_metrics_show_a_silent_worker_and_one_taken_over(stack: Stack) -> None:
    registry = ExecutorRegistry(stack.runtime.db)
    version = stack.settings.engine.application_version
    for executor in ("gone-quiet", "taken"):
        registry.beat(executor, version, starting=True)
    an_hour_ago = utcnow() - timedelta(hours=1)
    with stack.runtime.db.engine.begin() as conn:
        conn.execute(
            sa.update(executors)
            .where(executors.c.executor_id.in_(["gone-quiet", "taken"]))
            .values(heartbeat_at=an_hour_ago)
        )
    assert registry.claim("taken", "someone-else", utcnow())
    text = stack.http.get(f"{stack.api.url}/metrics").text
    assert 'syncwright_executors{state="silent"} 1.0' in text
    assert 'syncwright_executors{state="taken_over"} 1.0' in text
    ages = [line for line in text.splitlines() if 'executor_id="gone-quiet"' in line]
    assert len(ages) == 1 and float(ages[0].split()[-1]) >= 3600


def test_exception_endpoints(stack: Stack) -> None:
    stack.post(customer_event("evt_x", "cust_x", subsidiary="ZZ"))
    wait_until(lambda: stack.runtime.exceptions.count_open() == 1, what="parking")
    base = f"{stack.api.url}/api/v1/exceptions"
    [listed] = stack.http.get(base, params={"status": "open"}).json()
    shown = stack.http.get(f"{base}/{listed['id']}").json()
    assert shown["code"] == "example.UNKNOWN_SUBSIDIARY"
    assert stack.http.get(f"{base}/exc_missing").status_code == 404
    resolved = stack.http.post(f"{base}/{listed['id']}/resolve", json={"note": "test"})
    assert resolved.status_code == 200 and resolved.json()["status"] == "resolved"
    again = stack.http.post(f"{base}/{listed['id']}/retry")
    assert again.status_code == 409
    wait_until(lambda: stack.count("SUCCESS") == 1, what="the aborted run to end")
    ledger = stack.http.get(
        f"{stack.api.url}/api/v1/ledger", params={"correlation_id": listed["correlation_id"]}
    ).json()
    assert [e["outcome"] for e in ledger] == ["business", "parked", "operator"]
    # The token's name is the actor.
    assert (ledger[-1]["step"], ledger[-1]["actor"]) == ("exception.resolve", "test-operator")
    assert ledger[-1]["message"] == f"resolve of exception {listed['id']} by test-operator: test"
