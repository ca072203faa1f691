"""What this process measures itself: step and run latencies, outcomes, retries -- recorded by
:class:`TelemetryHooks` as the engine reports each step attempt and each run's end -- plus the
OpenTelemetry spans of the same moments.

Histograms and counters are per process: a ``syncwright worker`` serves its own on
``telemetry.worker_metrics_port``; Prometheus sums them across processes (``sum by``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection
from datetime import datetime
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, Counter, Histogram

from syncwright._time import as_utc, utcnow
from syncwright.config import TelemetrySettings
from syncwright.engine import StepContext, StepHooks, WorkflowRun
from syncwright.telemetry.tracing import Tracing

if TYPE_CHECKING:
    from opentelemetry.trace import Span

    from syncwright.errors import SyncwrightError

log = logging.getLogger("syncwright.telemetry")

# Seconds. A step is one vendor call or a few: tens of milliseconds to a timeout of 30 s.
STEP_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
# Seconds from delivery to done: backoffs and parked runs (hours, days) are in there too.
SYNC_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0, 86400.0)
NO_CONNECTION = "none"


class ProcessMetrics:
    """The instruments, in their own registry (several runtimes in one process never collide)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.step_seconds = Histogram(
            "syncwright_step_duration_seconds",
            "Duration of one step attempt, by workflow, connection, action and outcome",
            ["workflow", "connection", "action", "outcome"],
            buckets=STEP_BUCKETS,
            registry=self.registry,
        )
        self.step_retries = Counter(
            "syncwright_step_retries",
            "Step attempts after the first (retries after transient or uncertain failures)",
            ["workflow", "connection", "action"],
            registry=self.registry,
        )
        self.runs = Counter(
            "syncwright_workflow_runs",
            "Workflow run bodies that ended in this process, by workflow and status",
            ["workflow", "status"],
            registry=self.registry,
        )
        self.sync_seconds = Histogram(
            "syncwright_sync_latency_seconds",
            "End-to-end latency: delivery received -> last step of its workflow run done",
            ["workflow"],
            buckets=SYNC_BUCKETS,
            registry=self.registry,
        )


class Telemetry:
    """One per runtime: this process's metrics and tracing."""

    def __init__(self, settings: TelemetrySettings) -> None:
        self.settings = settings
        self.metrics = ProcessMetrics()
        self.tracing = Tracing(settings.traces)

    def close(self) -> None:
        self.tracing.shutdown()


def split_step(step: str, connections: Collection[str]) -> tuple[str, str]:
    """(connection, action) of a step name: ``netsuite.upsert_invoice`` -> (``netsuite``,
    ``upsert_invoice``); steps not named after a connection (``validate.master_data``) have
    connection ``none`` and the whole name as action."""
    prefix, _, rest = step.partition(".")
    if rest and prefix in connections:
        return prefix, rest
    return NO_CONNECTION, step


class TelemetryHooks(StepHooks):
    """Hands every report on to ``inner`` (the ledger); records metrics and spans of step
    attempts and runs."""

    def __init__(self, inner: StepHooks, telemetry: Telemetry, connections: Collection[str]):
        self._inner = inner
        self._metrics = telemetry.metrics
        self._tracing = telemetry.tracing
        self._connections = frozenset(connections)
        self._run_spans: dict[str, Span] = {}

    def attempt_finished(
        self,
        ctx: StepContext,
        outcome: str,
        error: SyncwrightError | None,
        duration_ms: float,
        result: Any = None,
    ) -> None:
        self._inner.attempt_finished(ctx, outcome, error, duration_ms, result)
        connection, action = split_step(ctx.step, self._connections)
        self._metrics.step_seconds.labels(ctx.workflow, connection, action, outcome).observe(
            duration_ms / 1000.0
        )
        if ctx.attempt > 1:
            self._metrics.step_retries.labels(ctx.workflow, connection, action).inc()
        self._tracing.step(
            self._run_spans.get(ctx.workflow_id),
            ctx,
            connection=connection,
            action=action,
            outcome=outcome,
            error=error,
            duration_ms=duration_ms,
        )

    def workflow_started(self, run: WorkflowRun) -> None:
        self._inner.workflow_started(run)
        span = self._tracing.start_run(run)
        if span is not None:
            self._run_spans[run.workflow_id] = span

    def workflow_finished(self, run: WorkflowRun, status: str, received_at: str | None) -> None:
        self._inner.workflow_finished(run, status, received_at)
        self._tracing.end_run(self._run_spans.pop(run.workflow_id, None), status)
        if status == "interrupted":
            return  # it resumes (and is counted) later, here or in another process
        self._metrics.runs.labels(run.workflow, status).inc()
        if received_at is not None and status == "completed":
            waited = (utcnow() - as_utc(datetime.fromisoformat(received_at))).total_seconds()
            self._metrics.sync_seconds.labels(run.workflow).observe(max(0.0, waited))


def _forwarding(name: str) -> Callable[..., Any]:
    def forward(self: TelemetryHooks, *args: Any, **kwargs: Any) -> Any:
        return getattr(self._inner, name)(*args, **kwargs)

    forward.__name__ = name
    return forward


# Every other hook goes straight to the inner hooks -- also one the engine gains later, which
# an explicit list would silently swallow (StepHooks' defaults do nothing).
for _name in [n for n in vars(StepHooks) if not n.startswith("_")]:
    if _name not in vars(TelemetryHooks):
        setattr(TelemetryHooks, _name, _forwarding(_name))
