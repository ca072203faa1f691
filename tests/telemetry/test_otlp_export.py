"""``telemetry.traces.exporter: otlp`` sends a real run's spans over OTLP/HTTP to a collector
(here: a loopback HTTP server decoding OpenTelemetry's protobuf)."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from syncwright.telemetry.tracing import trace_id_for
from tests._support import Erp, customer_event, start_stack, wait_until, write_config


class Collector(ThreadingHTTPServer):
    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.requests: list[tuple[str, ExportTraceServiceRequest]] = []
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1/traces"

    def stop(self) -> None:
        self.shutdown()
        self.server_close()


class _Handler(BaseHTTPRequestHandler):
    server: Collector

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        request = ExportTraceServiceRequest()
        request.ParseFromString(body)
        self.server.requests.append((self.path, request))
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.end_headers()

    def log_message(self, *_: object) -> None:
        pass


def test_spans_reach_an_otlp_collector(tmp_path: Path, sqlite_url: str, erp: Erp) -> None:
    collector = Collector()
    traces = (
        "telemetry:\n  traces:\n    exporter: otlp\n"
        f"    endpoint: {collector.url}\n    service_name: sync-test\n"
    )
    stack = start_stack(write_config(tmp_path, db_url=sqlite_url, erp_url=erp.url, extra=traces))
    try:
        stack.post(customer_event("evt_o1", "cust_o1"))
        wait_until(lambda: stack.count("SUCCESS") == 1, what="the run")
        [entry] = [
            e for e in stack.runtime.ledger.recent(10) if e.workflow == "account.sync_to_erp"
        ][:1]
    finally:
        stack.close()  # flushes the batch of spans
        collector.stop()

    spans = {}
    for path, request in collector.requests:
        assert path == "/v1/traces"
        for resource_spans in request.resource_spans:
            service = {a.key: a.value.string_value for a in resource_spans.resource.attributes}[
                "service.name"
            ]
            assert service == "sync-test"
            for scope in resource_spans.scope_spans:
                for span in scope.spans:
                    spans[span.name] = span
    run, step = spans["workflow account.sync_to_erp"], spans["erp.upsert_account"]
    expected = trace_id_for(entry.correlation_id).to_bytes(16, "big")
    assert run.trace_id == expected and step.trace_id == expected
    assert step.parent_span_id == run.span_id
    attributes = {a.key: a.value.string_value for a in step.attributes}
    assert attributes["syncwright.outcome"] == "ok"
    assert attributes["syncwright.correlation_id"] == entry.correlation_id
