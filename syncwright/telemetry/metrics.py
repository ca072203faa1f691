"""Prometheus metrics. Durable state (inbox, exceptions) is read from the database at scrape
time, so every process -- API or worker -- reports the same truth; the intake counter covers
the hot path of this process."""

from __future__ import annotations

from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from syncwright._time import utcnow
from syncwright.engine.executors import ExecutorRegistry
from syncwright.policy.metrics import PolicyCollector

if TYPE_CHECKING:
    from collections.abc import Iterator

    from prometheus_client.core import Metric

    from syncwright.runtime import Runtime


class _StateCollector(Collector):
    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime

    def collect(self) -> Iterator[Metric]:
        inbox = GaugeMetricFamily(
            "syncwright_inbox_deliveries", "Inbox deliveries by status", labels=["status"]
        )
        for status in ("pending", "dispatched", "parked", "resolved"):
            inbox.add_metric([status], self._runtime.inbox.count(status))
        yield inbox
        yield GaugeMetricFamily(
            "syncwright_exceptions_open",
            "Exceptions waiting for an operator (parked workflows and deliveries)",
            value=self._runtime.exceptions.count_open(),
        )
        yield from self._executors()

    def _executors(self) -> Iterator[Metric]:
        """Workers by state -- live, silent (past takeover_after_seconds, about to be taken
        over) or taken over -- and each one's heartbeat age: a dead worker shows here first."""
        takeover_after = self._runtime.settings.engine.takeover_after_seconds
        states = GaugeMetricFamily(
            "syncwright_executors", "Workflow executors by heartbeat state", labels=["state"]
        )
        ages = GaugeMetricFamily(
            "syncwright_executor_heartbeat_age_seconds",
            "Seconds since each executor's last heartbeat",
            labels=["executor_id"],
        )
        counts = {"live": 0, "silent": 0, "taken_over": 0}
        now = utcnow()
        for row in ExecutorRegistry(self._runtime.db).all():
            age = max(0.0, (now - row.heartbeat_at).total_seconds())
            ages.add_metric([row.executor_id], age)
            if row.taken_over_by is not None:
                counts["taken_over"] += 1
            else:
                counts["live" if age <= takeover_after else "silent"] += 1
        for state, count in counts.items():
            states.add_metric([state], count)
        yield states
        yield ages


class Metrics:
    """One registry per API app, so several apps in one process (tests, demo) never collide."""

    def __init__(self, runtime: Runtime) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.webhooks = Counter(
            "syncwright_webhooks_total",
            "Webhook deliveries by connection and result",
            ["connection", "result"],
            registry=self.registry,
        )
        self.registry.register(_StateCollector(runtime))
        self.registry.register(PolicyCollector(runtime.policy_store))

    def render(self) -> bytes:
        return generate_latest(self.registry)
