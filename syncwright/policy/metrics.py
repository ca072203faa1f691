"""Prometheus counters of the policy's decisions, read from ``sw_policy_decisions`` at scrape
time, so the API process reports what the workers held back."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.registry import Collector

from syncwright.policy.store import PolicyStore

__all__ = ["PolicyCollector"]


class PolicyCollector(Collector):
    def __init__(self, store: PolicyStore) -> None:
        self._store = store

    def collect(self) -> Iterator[Metric]:
        held = CounterMetricFamily(
            "syncwright_policy_held_back",
            "Changes the policy did not propagate, by reason (ownership, echo, stale, "
            "unchanged) and writing connection; ownership counts fields, the others events",
            labels=["reason", "connection"],
        )
        for (kind, connection), count in sorted(self._store.counts().items()):
            held.add_metric([kind, connection], count)
        yield held
