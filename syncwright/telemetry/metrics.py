"""Prometheus metrics. Durable state (inbox, exceptions) is read from the database at scrape
time, so every process -- API or worker -- reports the same truth; the intake counter covers
the hot path of this process."""

from __future__ import annotations

from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

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

    def render(self) -> bytes:
        return generate_latest(self.registry)
