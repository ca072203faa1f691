"""OpenTelemetry traces: one trace per business event, one span per workflow run and per step
attempt.

The trace id is derived from the correlation id (:func:`trace_id_for`), so every process and
every run an event causes -- on any worker, before or after a restart -- lands in the same
trace without passing a context around; the correlation id is also on every span as the
attribute ``syncwright.correlation_id``. A run's span is the parent of its steps' spans; the
runs of one event share a virtual root (a remote parent whose span id is also derived from the
correlation id). Nothing is recorded unless an exporter is configured
(``telemetry.traces.exporter``) or a span processor is added (:meth:`Tracing.add_span_processor`).
"""

from __future__ import annotations

import hashlib
import time
from typing import TYPE_CHECKING

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter
from opentelemetry.trace import NonRecordingSpan, SpanContext, Status, StatusCode, TraceFlags

from syncwright.config import TraceSettings
from syncwright.errors import ConfigError

if TYPE_CHECKING:
    from opentelemetry.trace import Span

    from syncwright.engine import StepContext, WorkflowRun
    from syncwright.errors import SyncwrightError

TRACER_NAME = "syncwright"
FAILED_OUTCOMES = frozenset({"transient", "business", "uncertain", "failed", "probe_miss"})


def _digest(correlation_id: str) -> bytes:
    return hashlib.sha256(f"syncwright:{correlation_id}".encode()).digest()


def trace_id_for(correlation_id: str) -> int:
    """The 128-bit trace id of a business event (never 0, which OpenTelemetry reserves)."""
    return int.from_bytes(_digest(correlation_id)[:16], "big") or 1


def root_span_id_for(correlation_id: str) -> int:
    """The 64-bit id of the event's virtual root span, parent of its runs' spans."""
    return int.from_bytes(_digest(correlation_id)[16:24], "big") or 1


def _exporter(settings: TraceSettings) -> SpanExporter | None:
    if settings.exporter == "console":
        return ConsoleSpanExporter()
    if settings.exporter == "otlp":
        try:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        except ImportError as exc:
            raise ConfigError(
                "telemetry.traces.exporter is otlp, but the OTLP exporter is not installed",
                code="config.otel_missing",
                problems=[
                    "telemetry.traces.exporter: install it with pip install 'syncwright[otel]'"
                ],
            ) from exc
        return OTLPSpanExporter(endpoint=settings.endpoint)
    return None


class Tracing:
    def __init__(self, settings: TraceSettings) -> None:
        self._resource = Resource.create({"service.name": settings.service_name})
        self._provider: TracerProvider | None = None
        exporter = _exporter(settings)
        if exporter is not None:
            self.add_span_processor(BatchSpanProcessor(exporter))

    @property
    def enabled(self) -> bool:
        return self._provider is not None

    def add_span_processor(self, processor: SpanProcessor) -> None:
        """Send spans to ``processor`` too (e.g. the SDK's in-memory exporter); turns tracing
        on if no exporter was configured."""
        if self._provider is None:
            self._provider = TracerProvider(resource=self._resource)
        self._provider.add_span_processor(processor)

    def _tracer(self) -> trace.Tracer | None:
        return None if self._provider is None else self._provider.get_tracer(TRACER_NAME)

    @staticmethod
    def _event_root(correlation_id: str) -> NonRecordingSpan:
        return NonRecordingSpan(
            SpanContext(
                trace_id=trace_id_for(correlation_id),
                span_id=root_span_id_for(correlation_id),
                is_remote=True,
                trace_flags=TraceFlags(TraceFlags.SAMPLED),
            )
        )

    def start_run(self, run: WorkflowRun) -> Span | None:
        tracer = self._tracer()
        if tracer is None:
            return None
        parent = trace.set_span_in_context(self._event_root(run.correlation_id))
        return tracer.start_span(
            f"workflow {run.workflow}",
            context=parent,
            attributes={
                "syncwright.correlation_id": run.correlation_id,
                "syncwright.workflow": run.workflow,
                "syncwright.workflow_id": run.workflow_id,
                "syncwright.entity_key": run.entity_key,
            },
        )

    @staticmethod
    def end_run(span: Span | None, status: str) -> None:
        if span is None:
            return
        span.set_attribute("syncwright.status", status)
        if status == "failed":
            span.set_status(Status(StatusCode.ERROR, "the run raised"))
        span.end()

    def step(
        self,
        parent: Span | None,
        ctx: StepContext,
        *,
        connection: str,
        action: str,
        outcome: str,
        error: SyncwrightError | None,
        duration_ms: float,
    ) -> None:
        """One finished step attempt, as a span that lasted ``duration_ms`` and ended now."""
        tracer = self._tracer()
        if tracer is None:
            return
        end = time.time_ns()
        context = trace.set_span_in_context(parent or self._event_root(ctx.correlation_id))
        span = tracer.start_span(
            ctx.step,
            context=context,
            start_time=end - int(duration_ms * 1_000_000),
            attributes={
                "syncwright.correlation_id": ctx.correlation_id,
                "syncwright.workflow": ctx.workflow,
                "syncwright.workflow_id": ctx.workflow_id,
                "syncwright.step": ctx.step,
                "syncwright.attempt": ctx.attempt,
                "syncwright.connection": connection,
                "syncwright.action": action,
                "syncwright.outcome": outcome,
            },
        )
        if error is not None:
            span.set_attribute("syncwright.error_code", error.code)
        if outcome in FAILED_OUTCOMES:
            span.set_status(Status(StatusCode.ERROR, error.code if error else outcome))
        span.end(end_time=end)

    def shutdown(self) -> None:
        """Flush spans still buffered and stop the exporters."""
        if self._provider is not None:
            self._provider.shutdown()
