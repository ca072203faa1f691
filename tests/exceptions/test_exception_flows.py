"""The exception queue end to end against the example shop and ERP emulator: edit a parked
delivery's payload and retry it (CLI, a separate process); a record auto-resolves when another
run for the same record succeeds, and its own run is released; assign, tag, comment and bulk
actions by filter (CLI and API), each recorded with its actor in the history and the audit
trail."""

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
import sqlalchemy as sa

from syncwright.connectors.example.outbound import upsert_account
from syncwright.engine import WorkflowRun, workflow
from syncwright.exceptions.watcher import DependencyWatcher
from syncwright.store.tables import audit
from tests._support import (
    VIEWER_TOKEN,
    Erp,
    Stack,
    bearer,
    customer_event,
    start_stack,
    stats,
    wait_until,
    write_config,
)

ROOT = Path(__file__).resolve().parents[2]
CLI_ACTOR = f"cli:{getpass.getuser()}"
POISON = b'{"id": "evt_%s", "type": "customer.updated", "data": {"customer": {"id": "c_%s"}}}'


@workflow("test.one_account")  # started by the test only
def one_account(run: WorkflowRun, event: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = run.step("erp.account", upsert_account, "erp", event["account"])
    return result


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


def cli(config: Path, *args: str, code: int = 0) -> Any:
    done = subprocess.run(
        [sys.executable, "-m", "syncwright", *args, "--config", str(config), "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=ROOT,
    )
    assert done.returncode == code, done.stderr + done.stdout
    return json.loads(done.stdout)


def _park_poison(stack: Stack, n: int) -> str:
    """A delivery whose customer has no name: parked, its exception opened."""
    before = {r.id for r in stack.runtime.exceptions.list()}
    stack.post(POISON % (str(n).encode(), str(n).encode()))
    wait_until(
        lambda: len(stack.runtime.exceptions.list()) == len(before) + 1, what="the parked delivery"
    )
    [record] = [r for r in stack.runtime.exceptions.list() if r.id not in before]
    return record.id


def _operator_audit(stack: Stack) -> list[tuple[str, str | None]]:
    query = sa.select(audit.c.action, audit.c.actor).where(audit.c.kind == "operator")
    with stack.runtime.db.engine.connect() as conn:
        return [(str(a), b) for a, b in conn.execute(query.order_by(audit.c.seq))]


def test_edit_a_parked_payload_and_retry(stack: Stack, erp: Erp, config: Path) -> None:
    record_id = _park_poison(stack, 1)
    record = stack.runtime.exceptions.get(record_id)
    assert record is not None
    assert (record.error_class, record.source, record.connection) == ("parse", "inbox", "shop")
    assert record.record == "evt_1" and record.guidance

    fixed = customer_event("evt_1", "c_1", name="Fixed Name")
    payload = config.parent / "fixed.json"
    payload.write_bytes(fixed)
    edited = cli(config, "exceptions", "edit", record_id, "--payload", str(payload))
    assert edited["status"] == "resolved" and edited["resolution"] == "re-dispatched"
    wait_until(lambda: stack.count("SUCCESS") == 1, what="the corrected delivery's run")
    assert [c["name"] for c in erp.state.customers.values()] == ["Fixed Name"]
    row = stack.runtime.inbox.get(edited["inbox_id"])
    assert row is not None and row.body == fixed.decode()

    shown = cli(config, "exceptions", "show", record_id)
    [edit] = [e for e in shown["history"] if e["action"] == "edit_payload"]
    assert edit["actor"] == CLI_ACTOR
    assert json.loads(edit["detail"]["previous_body"])["data"] == {"customer": {"id": "c_1"}}
    assert _operator_audit(stack) == [
        ("exceptions.edit_payload", CLI_ACTOR),
        ("exceptions.retry", CLI_ACTOR),
    ]
    assert stack.runtime.audit.verify().ok
    # A workflow step has no stored payload to edit: a clear refusal.
    refused = cli(config, "exceptions", "edit", "exc_missing", "--payload", str(payload), code=1)
    assert "exc_missing" in refused["error"]


def _account(subsidiary: str) -> dict[str, Any]:
    return {
        "global_id": "acco_same",
        "name": "Same Account",
        "billing_email": None,
        "currency": "USD",
        "subsidiary": subsidiary,
    }


def test_a_later_success_for_the_same_record_resolves_and_releases(stack: Stack, erp: Erp) -> None:
    engine = stack.engine
    engine.enqueue(
        "test.one_account",
        workflow_id="wf-first",
        entity_key="account:first",
        correlation_id="cor_first",
        event={"account": _account("DE")},
    )
    wait_until(lambda: stack.runtime.exceptions.count_open() == 1, what="the first run to park")
    [parked] = stack.runtime.exceptions.list()
    assert (parked.error_class, parked.connection, parked.record) == (
        "missing_reference",
        "erp",
        "acco_same",
    )
    httpx.post(f"{erp.url}/_sandbox/subsidiaries/DE").raise_for_status()  # the data is fixed
    engine.enqueue(
        "test.one_account",
        workflow_id="wf-second",
        entity_key="account:second",
        correlation_id="cor_second",
        event={"account": _account("DE")},
    )
    wait_until(lambda: engine.statuses().get("wf-second") == "SUCCESS", what="the second run")
    resolved = stack.runtime.exceptions.get(parked.id)
    assert resolved is not None and resolved.status == "resolved"
    assert resolved.resolution is not None and "wf-second" in resolved.resolution
    assert stack.runtime.exceptions.count_open() == 0
    # The first run still waits in its step; the worker releases it and it finishes.
    assert engine.statuses()["wf-first"] == "PENDING"
    assert DependencyWatcher(stack.runtime, engine).check_due() == 1
    wait_until(lambda: engine.statuses().get("wf-first") == "SUCCESS", what="the released run")
    assert len(erp.state.customers) == 1  # idempotent: one customer, written by both runs
    actions = [e["action"] for e in stack.runtime.exceptions.history(parked.id)]
    assert actions == ["opened", "auto_resolve", "release_run"]


def test_assign_tag_comment_and_bulk_by_filter(stack: Stack, config: Path) -> None:
    first, second = _park_poison(stack, 2), _park_poison(stack, 3)
    stack.post(customer_event("evt_4", "c_4", subsidiary="XX"))
    wait_until(lambda: stack.runtime.exceptions.count_open() == 3, what="three exceptions")

    assigned = cli(config, "exceptions", "assign", first, "ana")
    assert assigned["assignee"] == "ana"
    tagged = cli(config, "exceptions", "tag", first, "urgent", "shop-fix")
    assert tagged["tags"] == ["urgent", "shop-fix"]
    assert cli(config, "exceptions", "tag", first, "--remove", "shop-fix")["tags"] == ["urgent"]
    cli(config, "exceptions", "comment", first, "asked the shop to resend")
    listed = cli(config, "exceptions", "list", "--tag", "urgent")
    assert [r["id"] for r in listed] == [first]
    parse = cli(config, "exceptions", "list", "--class", "parse")
    assert sorted(r["id"] for r in parse) == sorted([first, second])

    # Bulk without --yes only says what it would touch.
    preview = cli(config, "exceptions", "resolve", "--class", "parse", code=2)
    assert sorted(preview["ids"]) == sorted([first, second])
    assert stack.runtime.exceptions.count_open() == 3
    done = cli(config, "exceptions", "resolve", "--class", "parse", "--note", "bad feed", "--yes")
    assert sorted(o["id"] for o in done["outcomes"]) == sorted([first, second])
    assert all(o["ok"] and o["status"] == "resolved" for o in done["outcomes"])
    assert stack.runtime.exceptions.count_open() == 1
    assert stack.runtime.inbox.count("resolved") == 2
    bad = cli(config, "exceptions", "retry", "--older-than", "soon", code=2)
    assert "--older-than" in bad["error"]
    assert cli(config, "exceptions", "retry", code=2)["error"].startswith("bulk retry needs")

    history = [(e["actor"], e["action"]) for e in stack.runtime.exceptions.history(first)]
    assert history == [
        ("syncwright", "opened"),
        (CLI_ACTOR, "assign"),
        (CLI_ACTOR, "tag"),
        (CLI_ACTOR, "tag"),
        (CLI_ACTOR, "comment"),
        (CLI_ACTOR, "resolve"),
    ]
    audited = _operator_audit(stack)
    assert audited.count(("exceptions.resolve", CLI_ACTOR)) == 2
    assert ("exceptions.comment", CLI_ACTOR) in audited


def test_api_actions_and_bulk_preview(stack: Stack, erp: Erp) -> None:
    record_id = _park_poison(stack, 5)
    stack.post(customer_event("evt_6", "c_6", subsidiary="YY"))
    wait_until(lambda: stack.runtime.exceptions.count_open() == 2, what="two exceptions")
    base = f"{stack.api.url}/api/v1/exceptions"
    http = stack.http
    assert (
        http.post(f"{base}/{record_id}/assign", json={"assignee": "bo"}).json()["assignee"] == "bo"
    )
    tagged = http.post(f"{base}/{record_id}/tag", json={"add": ["feed"]}).json()
    assert tagged["tags"] == ["feed"] and tagged["error_class"] == "parse"
    assert http.post(f"{base}/{record_id}/comment", json={"text": "looking"}).status_code == 200
    assert http.post(f"{base}/{record_id}/comment", json={"text": ""}).status_code == 422
    assert [r["id"] for r in http.get(base, params={"tag": "feed"}).json()] == [record_id]
    history = http.get(f"{base}/{record_id}/history").json()
    assert [(e["actor"], e["action"]) for e in history][1:] == [
        ("test-operator", "assign"),
        ("test-operator", "tag"),
        ("test-operator", "comment"),
    ]
    # A viewer may read but not act.
    viewer = httpx.post(
        f"{base}/{record_id}/comment", json={"text": "x"}, headers=bearer(VIEWER_TOKEN)
    )
    assert viewer.status_code == 403
    preview = http.post(f"{base}/retry", json={"class": "missing_reference"}).json()
    assert preview["confirmed"] is False and len(preview["ids"]) == 1
    assert http.post(f"{base}/retry", json={}).status_code == 422
    httpx.post(f"{erp.url}/_sandbox/subsidiaries/YY").raise_for_status()
    retried = http.post(
        f"{base}/retry", json={"class": "missing_reference", "confirm": True}
    ).json()
    assert [o["status"] for o in retried["outcomes"]] == ["retrying"]
    wait_until(lambda: stack.count("SUCCESS") == 1, what="the retried run")
    assert stats(erp)["customers"] == 1
    edited = http.post(f"{base}/{record_id}/edit", json={"payload": "{}"})
    assert edited.status_code == 200  # an empty shop event is acknowledged and ignored
    assert stack.runtime.exceptions.count_open() == 0
