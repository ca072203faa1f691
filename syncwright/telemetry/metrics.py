"""Metrics are read from the database at scrape time, so every process (API, workers) reports
the same truth about durable state; per-process counters cover the hot intake path."""

from __future__ import annotations

from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from collections.abc import Iterator

    from prometheus_client.core import Metric

    from syncwright.runtime import Runtime

REGISTRY = CollectorRegistry(auto_describe=True)

WEBHOOKS = Counter(
    "syncwright_webhooks_total",
    "Webhook deliveries by connection and result",
    ["connection", "result"],
    registry=REGISTRY,
)


class StateCollector(Collector):
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


def register_state_collector(runtime: Runtime) -> None:
    REGISTRY.register(StateCollector(runtime))


def render_metrics() -> bytes:
    return generate_latest(REGISTRY)
