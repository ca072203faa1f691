"""A delivery whose normalization fails transiently (an enrichment read that cannot reach the
vendor) stays pending and is retried in order; it is parked only after repeated failures."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from syncwright.config import load_settings
from syncwright.intake import dispatcher as dispatch_module
from syncwright.intake.dispatcher import Dispatcher
from syncwright.runtime import Runtime


def test_transient_normalize_failure_keeps_the_row_pending(
    tmp_path: Path, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "key").write_text("sk_test_dispatch")
    config = tmp_path / "syncwright.yaml"
    config.write_text(
        f"database: {{url: '{sqlite_url}'}}\n"
        "connections:\n  stripe:\n    vendor: stripe\n    base_url: http://127.0.0.1:9\n"
        "    credentials: {api_key: 'file:key'}\n    limits: {timeout_seconds: 1}\n"
    )
    invoice = {
        "id": "in_1",
        "object": "invoice",
        "customer": "cus_1",
        "currency": "usd",
        "status": "open",
        "total": 100,
        "subtotal": 100,
        "amount_due": 100,
        "amount_paid": 0,
        "amount_remaining": 100,
        "created": 1767225600,
        "lines": {"object": "list", "data": [], "has_more": True, "url": "/v1/invoices/in_1/lines"},
    }
    body = {
        "id": "evt_1",
        "object": "event",
        "type": "invoice.finalized",
        "created": 1767225600,
        "data": {"object": invoice},
    }
    with Runtime(load_settings(config)) as runtime:
        runtime.start_engine()
        row = runtime.inbox.accept(
            connection="stripe",
            vendor_event_id="evt_1",
            event_type="invoice.finalized",
            body=json.dumps(body),
        )
        assert row.inbox_id is not None
        dispatcher = Dispatcher(runtime)
        dispatcher._stop.set()  # no waiting between passes in this test
        report = dispatcher.dispatch_pending()
        assert report.parked == 0 and report.workflows_started == 0
        pending = runtime.inbox.get(row.inbox_id)
        assert pending is not None and pending.status == "pending" and pending.attempts == 1
        assert pending.last_error and "stripe" in pending.last_error.lower()

        monkeypatch.setattr(dispatch_module, "MAX_TRANSIENT_ATTEMPTS", 2)
        report = dispatcher.dispatch_pending()
        assert report.parked == 1
        parked = runtime.inbox.get(row.inbox_id)
        assert parked is not None and parked.status == "parked"
        assert runtime.exceptions.count_open() == 1
