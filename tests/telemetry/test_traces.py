"""OpenTelemetry spans of a real workflow run, caught by the SDK's in-memory exporter: one
trace per business event, its id derived from the correlation id; a span per run and per step
attempt with connection, action and outcome."""

from __future__ import annotations

from pathlib import Path

from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from syncwright.config import TraceSettings
from syncwright.sandbox import FaultPlan
from syncwright.telemetry.tracing import Tracing, root_span_id_for, trace_id_for
from tests._support import Erp, customer_event, start_stack, wait_until, write_config


def test_one_trace_per_event_with_a_span_per_step(
    tmp_path: Path, sqlite_url: str, erp: Erp
) -> None:
    stack = start_stack(write_config(tmp_path, db_url=sqlite_url, erp_url=erp.url))
    exporter = InMemorySpanExporter()
    try:
        assert not stack.runtime.telemetry.tracing.enabled  # exporter: none by default
        stack.runtime.telemetry.tracing.add_span_processor(SimpleSpanProcessor(exporter))
        erp.faults.plan = FaultPlan(error_5xx_rate=1.0)
        stack.post(customer_event("evt_t1", "cust_t1"))
        wait_until(lambda: erp.faults.injected["error_5xx"] >= 1, what="a refused attempt")
        erp.faults.plan = FaultPlan()
        stack.post(customer_event("evt_t2", "cust_t2"))
        wait_until(lambda: stack.count("SUCCESS") == 2, what="both runs")
        wait_until(lambda: len(_runs(exporter)) == 2, what="both run spans")
        correlations = {
            e.correlation_id
            for e in stack.runtime.ledger.recent(100)
            if e.workflow == "account.sync_to_erp"
        }
    finally:
        stack.close()

    assert len(correlations) == 2
    spans = exporter.get_finished_spans()
    for correlation_id in correlations:
        mine = [s for s in spans if s.attributes["syncwright.correlation_id"] == correlation_id]
        assert {s.context.trace_id for s in mine} == {trace_id_for(correlation_id)}
        [run] = [s for s in mine if s.name == "workflow account.sync_to_erp"]
        assert run.parent is not None and run.parent.span_id == root_span_id_for(correlation_id)
        assert run.attributes["syncwright.status"] == "completed"
        steps = [s for s in mine if s is not run]
        assert steps and all(s.parent and s.parent.span_id == run.context.span_id for s in steps)
        upserts = [s for s in steps if s.name == "erp.upsert_account"]
        assert upserts[-1].attributes["syncwright.connection"] == "erp"
        assert upserts[-1].attributes["syncwright.action"] == "upsert_account"
        assert upserts[-1].attributes["syncwright.outcome"] == "ok"
        assert upserts[-1].end_time >= upserts[-1].start_time
    failed = [s for s in spans if s.attributes.get("syncwright.outcome") == "transient"]
    assert failed and all(s.attributes["syncwright.error_code"] for s in failed)
    assert all(not s.status.is_ok for s in failed)


def _runs(exporter: InMemorySpanExporter) -> list[object]:
    return [s for s in exporter.get_finished_spans() if s.name.startswith("workflow ")]


def test_trace_ids_are_deterministic_and_distinct() -> None:
    assert trace_id_for("cor_a") == trace_id_for("cor_a")
    assert trace_id_for("cor_a") != trace_id_for("cor_b")
    assert 0 < trace_id_for("cor_a") < 2**128
    assert 0 < root_span_id_for("cor_a") < 2**64


def test_no_exporter_records_nothing() -> None:
    assert not Tracing(TraceSettings()).enabled
    console = Tracing(TraceSettings(exporter="console"))
    assert console.enabled
    console.shutdown()
