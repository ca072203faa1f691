"""Ownership and deltas through the whole stack: real webhooks into the intake, the dispatcher,
workflows writing to the example ERP emulator, and the report by CLI (a separate process) and
API."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from syncwright.connectors.example.signature import HEADER, sign
from tests._support import (
    VIEWER_TOKEN,
    Erp,
    Stack,
    bearer,
    customer_event,
    start_stack,
    wait_until,
    write_config,
)

PAY_SECRET = "whsec_test_pay_secret_value"
EXTRA = """\
  pay:
    vendor: example
    webhook:
      secrets: ["file:secrets/pay"]
ownership:
  account: {system: shop, fields: {billing_email: pay}}
"""


@pytest.fixture
def stack(tmp_path: Path, sqlite_url: str, erp: Erp) -> Iterator[tuple[Stack, Path]]:
    config = write_config(tmp_path, db_url=sqlite_url, erp_url=erp.url, extra=EXTRA)
    (tmp_path / "secrets" / "pay").write_text(PAY_SECRET)
    started = start_stack(config)
    try:
        yield started, config
    finally:
        started.close()


def _event(event_id: str, email: str) -> bytes:
    body = json.loads(customer_event(event_id, "cust_1"))
    body["data"]["customer"]["email"] = email
    return json.dumps(body).encode()


def _post(stack: Stack, body: bytes, connection: str = "shop") -> int:
    secret = PAY_SECRET if connection == "pay" else None
    headers = {"content-type": "application/json", HEADER: sign(body, secret or "")}
    if connection == "shop":
        response = stack.post(body)
    else:
        response = stack.http.post(
            f"{stack.api.url}/hooks/{connection}", content=body, headers=headers
        )
    assert response.status_code == 200, response.text
    inbox_id = int(response.json()["inbox_id"])
    wait_until(
        lambda: (
            (row := stack.runtime.inbox.get(inbox_id)) is not None and row.status == "dispatched"
        ),
        what=f"inbox row {inbox_id} dispatched",
    )
    wait_until(
        lambda: all(s == "SUCCESS" for s in stack.statuses().values()), what="workflows done"
    )
    return len(stack.statuses())


def test_billing_email_edited_in_the_crm_is_not_propagated_and_is_reported(
    stack: tuple[Stack, Path], erp: Erp
) -> None:
    app, config = stack
    assert _post(app, _event("evt_1", "ap@acme.test")) == 1
    global_id = app.runtime.xref.global_id_for("account", "shop", "cust_1")
    assert global_id is not None
    assert erp.state.customers[global_id]["email"] == "ap@acme.test"

    # The same content again under a new event id: unchanged, no workflow.
    assert _post(app, _event("evt_2", "ap@acme.test")) == 1
    # The shop (the CRM here) edits the billing email, which `pay` owns: nothing propagates.
    assert _post(app, _event("evt_3", "someone@acme.test")) == 1
    assert erp.state.customers[global_id]["email"] == "ap@acme.test"
    assert len(erp.state.write_log) == 1

    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "syncwright",
            "ownership",
            "report",
            "--json",
            "--since",
            "1h",
            "--config",
            str(config),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    [violation] = report["violations"]
    assert {k: violation[k] for k in ("field", "entity_type", "global_id", "writer", "owner")} == {
        "field": "billing_email",
        "entity_type": "account",
        "global_id": global_id,
        "writer": "shop",
        "owner": "pay",
    }
    assert report["totals"] == [
        {
            "domain": "account",
            "field": "billing_email",
            "writer": "shop",
            "owner": "pay",
            "count": 1,
        }
    ]
    text = subprocess.run(
        [sys.executable, "-m", "syncwright", "ownership", "report", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "COLUMNS": "250"},
    )
    assert "account.billing_email" in text.stdout and "pay" in text.stdout

    api = httpx.get(
        f"{app.api.url}/api/v1/ownership/violations",
        params={"since": "1h"},
        headers=bearer(VIEWER_TOKEN),
    )
    assert api.status_code == 200
    assert [v["event_id"] for v in api.json()["violations"]] == [violation["event_id"]]
    bad = httpx.get(
        f"{app.api.url}/api/v1/ownership/violations",
        params={"since": "soon"},
        headers=bearer(VIEWER_TOKEN),
    )
    assert bad.status_code == 422 and "duration" in bad.json()["detail"]
    metrics = httpx.get(f"{app.api.url}/metrics").text
    assert 'syncwright_policy_held_back_total{connection="shop",reason="ownership"} 1.0' in metrics
    assert 'syncwright_policy_held_back_total{connection="shop",reason="unchanged"} 1.0' in metrics

    # The owner changes it: that travels to the ERP.
    app.runtime.xref.link("account", global_id, "pay", "cust_1")
    assert _post(app, _event("pay_1", "billing@acme.test"), connection="pay") == 2
    assert erp.state.customers[global_id]["email"] == "billing@acme.test"
