"""Structured logs: level and format from ``telemetry``, the correlation id of the run a line
belongs to, and no secret in any line."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from syncwright.config import MASK, load_settings
from syncwright.errors import TransientError
from syncwright.sandbox import FaultPlan
from syncwright.telemetry import configure_logging
from tests._support import (
    ERP_TOKEN,
    SHOP_SECRET,
    Erp,
    customer_event,
    start_stack,
    wait_until,
    write_config,
)


@pytest.fixture
def restore_root_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    syncwright_level = logging.getLogger("syncwright").level
    yield
    for handler in [h for h in root.handlers if h not in handlers]:
        root.removeHandler(handler)
    root.setLevel(level)
    logging.getLogger("syncwright").setLevel(syncwright_level)


@pytest.mark.usefixtures("restore_root_logging")
@pytest.mark.parametrize("log_format", ["json", "text"])
def test_secrets_of_a_failing_connector_call_are_masked(
    tmp_path: Path, sqlite_url: str, erp: Erp, log_format: str
) -> None:
    config = write_config(
        tmp_path,
        db_url=sqlite_url,
        erp_url=erp.url,
        extra=f"telemetry:\n  log_level: debug\n  log_format: {log_format}\n",
    )
    settings = load_settings(config)
    out = io.StringIO()
    configure_logging(settings, stream=out)
    stack = start_stack(config)
    log = logging.getLogger("syncwright.test")
    try:
        connector = stack.runtime.connection("erp")
        client = connector.client  # type: ignore[attr-defined]
        erp.faults.plan = FaultPlan(error_5xx_rate=1.0)
        with pytest.raises(TransientError) as failed:
            client.upsert_customer("cust_x", {"name": "X"}, idempotency_key="k", timeout=5)
        # What careless code would log: the request headers and the credential itself.
        try:
            raise RuntimeError(f"ERP refused token {ERP_TOKEN}")
        except RuntimeError:
            log.exception(
                "erp call failed (%s); headers %s; webhook secret %s",
                failed.value.code,
                # The kit adds the bearer header per request (httpx auth), so add it as a
                # request's headers would carry it.
                {**dict(client._http.headers), "authorization": f"Bearer {ERP_TOKEN}"},
                SHOP_SECRET,
            )
    finally:
        stack.close()
    text = out.getvalue()
    assert f"erp call failed ({failed.value.code})" in text
    assert ERP_TOKEN not in text and SHOP_SECRET not in text
    assert f"'authorization': '{MASK}'" in text  # the whole header value, scheme included
    assert f"webhook secret {MASK}" in text
    assert f"ERP refused token {MASK}" in text  # inside the traceback
    if log_format == "json":
        lines = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
        [line] = [entry for entry in lines if entry["logger"] == "syncwright.test"]
        assert line["level"] == "error" and MASK in line["exception"]


@pytest.mark.usefixtures("restore_root_logging")
def test_json_lines_carry_the_runs_correlation_id(
    tmp_path: Path, sqlite_url: str, erp: Erp
) -> None:
    config = write_config(
        tmp_path,
        db_url=sqlite_url,
        erp_url=erp.url,
        extra="telemetry:\n  log_level: warning\n  log_format: json\n",
    )
    out = io.StringIO()
    configure_logging(load_settings(config), stream=out)
    stack = start_stack(config)
    try:
        # A run whose ERP keeps refusing: after its retries it parks, and says so in the log.
        erp.faults.plan = FaultPlan(error_5xx_rate=1.0)
        stack.post(customer_event("evt_l1", "cust_l1"))
        # And a delivery that cannot be normalized: the dispatcher parks it.
        stack.post(b'{"id": "evt_poison", "type": "customer.updated", "data": {}}')
        wait_until(lambda: stack.runtime.exceptions.count_open() == 2, what="both parked")
        by_source = {r.source: r for r in stack.runtime.exceptions.list(status="open")}
    finally:
        stack.close()
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert all(line["level"] in ("warning", "error", "critical") for line in lines)
    run, delivery = by_source["workflow"], by_source["inbox"]
    assert any(
        line["correlation_id"] == run.correlation_id and line["workflow_id"] == run.workflow_id
        for line in lines
    ), lines
    assert any(
        line["correlation_id"] == delivery.correlation_id and "parking inbox row" in line["message"]
        for line in lines
    ), lines
