"""POST /hooks/{connection} over a real HTTP server: status codes, dedupe, security events."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests._support import (
    ERP_TOKEN,
    SHOP_SECRET,
    Erp,
    Stack,
    customer_event,
    start_stack,
    stats,
    wait_until,
    write_config,
)


@pytest.fixture
def stack(tmp_path: Path, sqlite_url: str, erp: Erp) -> Iterator[Stack]:
    started = start_stack(write_config(tmp_path, db_url=sqlite_url, erp_url=erp.url))
    try:
        yield started
    finally:
        started.close()


def test_signed_delivery_is_accepted_and_synced(stack: Stack, erp: Erp) -> None:
    response = stack.post(customer_event("evt_1", "cust_1"))
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "accepted" and body["correlation_id"].startswith("cor_")
    wait_until(lambda: stack.count("SUCCESS") == 1, what="the workflow")
    assert stats(erp)["customers"] == 1
    trace = stack.http.get(f"{stack.api.url}/api/v1/trace/{body['correlation_id']}").json()
    assert trace["deliveries"][0]["vendor_event_id"] == "evt_1"
    assert [e["outcome"] for e in trace["ledger"]] == ["ok"]
    assert trace["systems"]["erp"] == ["C000001"]


def test_bad_or_missing_signature_is_401_and_recorded(
    stack: Stack, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    body = customer_event("evt_2", "cust_2")
    forged = stack.post(body, secret="whsec_wrong")
    missing = stack.http.post(f"{stack.api.url}/hooks/shop", content=body)
    assert forged.status_code == 401 and forged.json()["error"]["code"] == "signature.mismatch"
    assert missing.status_code == 401 and missing.json()["error"]["code"] == "signature.missing"
    assert stack.runtime.inbox.count() == 0  # nothing of the payload is processed
    events = stack.runtime.inbox.security_events()
    assert sorted(e["code"] for e in events) == ["signature.mismatch", "signature.missing"]
    # Secrets never leak: not in responses, the security log, or the process log.
    leaked = forged.text + missing.text + repr(events) + caplog.text
    assert SHOP_SECRET not in leaked and ERP_TOKEN not in leaked


def test_malformed_json_is_400(stack: Stack) -> None:
    response = stack.post(b'{"id": "evt_3", ')
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "intake.malformed_json"
    assert stack.runtime.inbox.count() == 0


def test_unknown_connection_is_404(stack: Stack) -> None:
    response = stack.post(customer_event("evt_4", "cust_4"), connection="nope")
    assert response.status_code == 404
    assert "connections:" in response.json()["error"]["message"]


def test_outbound_only_connection_refuses_webhooks(stack: Stack) -> None:
    response = stack.post(customer_event("evt_5", "cust_5"), connection="erp")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "intake.webhooks_disabled"


def test_oversized_body_is_413(stack: Stack) -> None:
    limit = stack.settings.server.max_body_bytes
    response = stack.post(b'{"pad": "' + b"x" * limit + b'"}')
    assert response.status_code == 413
    assert stack.runtime.inbox.count() == 0


def test_thousand_duplicate_deliveries_make_one_workflow(stack: Stack, erp: Erp) -> None:
    body = customer_event("evt_dup", "cust_dup")
    with ThreadPoolExecutor(16) as pool:
        codes = list(pool.map(lambda _: stack.post(body).status_code, range(1000)))
    assert codes.count(200) == 1000
    assert stack.runtime.inbox.count() == 1
    wait_until(lambda: stack.count("SUCCESS") == 1, what="the one workflow")
    assert len(stack.statuses()) == 1
    assert list(stats(erp)["applied_by_key"].values()) == [1]


def test_poisoned_delivery_is_parked_not_dropped(stack: Stack) -> None:
    response = stack.post(b'{"id": "evt_p", "type": "customer.updated", "data": {}}')
    assert response.status_code == 200
    # The row is parked, then its exception opened (two commits): wait for both.
    wait_until(
        lambda: stack.runtime.inbox.count("parked") == 1 and bool(stack.runtime.exceptions.list()),
        what="parking and its exception",
    )
    [record] = stack.runtime.exceptions.list()
    assert record.source == "inbox" and record.code == "example.payload_invalid"
    assert "resend" in record.remediation
    assert record.inbox_id == response.json()["inbox_id"]
