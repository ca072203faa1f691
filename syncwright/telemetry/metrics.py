"""Prometheus metrics. Durable state (inbox, exceptions, runs, business figures) is read from
the database at scrape time, so every process -- API or worker -- reports the same truth; the
intake counter, limiters and the step and run instruments (``process.py``) cover this process.
docs/telemetry.md lists every metric."""

from __future__ import annotations

from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, generate_latest, start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from syncwright._time import utcnow
from syncwright.connectors._base import Connector
from syncwright.connectors._base.http import VendorHttpClient
from syncwright.connectors._base.limits import ConcurrencyLimiter, RateLimiter
from syncwright.engine.executors import ExecutorRegistry
from syncwright.policy.metrics import PolicyCollector
from syncwright.telemetry import business

if TYPE_CHECKING:
    from collections.abc import Iterator
    from wsgiref.simple_server import WSGIServer

    from prometheus_client.core import Metric

    from syncwright.runtime import Runtime


class _StateCollector(Collector):
    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime

    def collect(self) -> Iterator[Metric]:
        inbox = GaugeMetricFamily(
            "syncwright_inbox_deliveries", "Inbox deliveries by status", labels=["status"]
        )
        for status in ("pending", "dispatched", "parked", "resolved", "skipped"):
            inbox.add_metric([status], self._runtime.inbox.count(status))
        yield inbox
        yield GaugeMetricFamily(
            "syncwright_exceptions_open",
            "Exceptions waiting for an operator (parked workflows and deliveries)",
            value=self._runtime.exceptions.count_open(),
        )
        yield from self._executors()
        yield from self._runs()
        yield from self._business()

    def _runs(self) -> Iterator[Metric]:
        depth = GaugeMetricFamily(
            "syncwright_workflow_runs_open",
            "Runs not yet finished, by workflow and state (queued: waiting for a slot; "
            "running: executing, backing off or parked)",
            labels=["workflow", "state"],
        )
        for (workflow, state), count in sorted(business.queue_depths(self._runtime.db).items()):
            depth.add_metric([workflow, state], count)
        yield depth

    def _business(self) -> Iterator[Metric]:
        figures = business.business_figures(self._runtime.db)
        for name, help_text, value in (
            (
                "orders_awaiting_erp_validation",
                "Onboarding runs whose ERP master-data validation has not passed yet",
                figures.orders_awaiting_erp_validation,
            ),
            (
                "subscriptions_pending_activation",
                "Subscriptions created by onboarding, not yet active (nor cancelled)",
                figures.subscriptions_pending_activation,
            ),
            (
                "invoices_blocked_by_master_data",
                "Invoice runs parked on an ERP business rejection (master data)",
                figures.invoices_blocked_by_master_data,
            ),
            (
                "renewals_not_in_crm",
                "Subscription renewals not yet written to the CRM",
                figures.renewals_not_in_crm,
            ),
            (
                "customers_in_dunning",
                "Customers whose latest ERP collection event is a failed payment",
                figures.customers_in_dunning,
            ),
        ):
            yield GaugeMetricFamily(f"syncwright_{name}", help_text, value=value)
        by_age = GaugeMetricFamily(
            "syncwright_exceptions_open_by_age",
            "Open exceptions by class, error code and age bucket",
            labels=["class", "code", "age"],
        )
        for bucket in figures.open_exceptions:
            by_age.add_metric([bucket.error_class, bucket.code, bucket.age], bucket.count)
        yield by_age

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


class _DatabaseCollector(Collector):
    """Statements and commits this process sent to the database (our tables and DBOS's)."""

    def __init__(self, runtime: Runtime) -> None:
        self._counter = runtime.db.statements

    def collect(self) -> Iterator[Metric]:
        counts = self._counter.counts()
        statements = CounterMetricFamily(
            "syncwright_db_statements",
            "SQL statements this process sent to the database, by kind (read or write)",
            labels=["kind"],
        )
        statements.add_metric(["read"], counts.reads)
        statements.add_metric(["write"], counts.writes)
        yield statements
        commits = CounterMetricFamily(
            "syncwright_db_commits",
            "Transactions this process committed, by kind: write (it wrote, so it held the "
            "database's write lock) or read (it only read); writes by whose tables they began "
            "with (syncwright's or the workflow engine's)",
            labels=["kind", "tables"],
        )
        commits.add_metric(["write", "syncwright"], counts.commits - counts.engine_commits)
        commits.add_metric(["write", "engine"], counts.engine_commits)
        commits.add_metric(["read", "any"], counts.read_commits)
        yield commits


class _LimiterCollector(Collector):
    """Each connection's limiters in this process: requests in flight against the limit, and
    how often and how long requests waited for a slot or a rate token."""

    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime

    def collect(self) -> Iterator[Metric]:
        in_flight = GaugeMetricFamily(
            "syncwright_limiter_in_flight",
            "Requests in flight to a connection from this process",
            labels=["connection"],
        )
        limit = GaugeMetricFamily(
            "syncwright_limiter_limit",
            "Concurrency limit of a connection in this process",
            labels=["connection"],
        )
        waits = CounterMetricFamily(
            "syncwright_limiter_waits",
            "Requests that waited for a concurrency slot or a rate token",
            labels=["connection", "limiter"],
        )
        waited = CounterMetricFamily(
            "syncwright_limiter_wait_seconds",
            "Time requests spent waiting for a concurrency slot or a rate token",
            labels=["connection", "limiter"],
        )
        for name, connector in sorted(self._runtime.connectors.items()):
            for held in _limiters_of(connector):
                if isinstance(held, ConcurrencyLimiter):
                    in_flight.add_metric([name], held.in_flight)
                    if held.limit is not None:
                        limit.add_metric([name], held.limit)
                    waits.add_metric([name, "concurrency"], held.waits)
                    waited.add_metric([name, "concurrency"], held.wait_seconds)
                elif isinstance(held, RateLimiter) and held.per_second is not None:
                    waits.add_metric([name, "rate"], held.waits)
                    waited.add_metric([name, "rate"], held.wait_seconds)
        yield from (in_flight, limit, waits, waited)


def _limiters_of(connector: Connector) -> list[ConcurrencyLimiter | RateLimiter]:
    """The limiters a connector holds: as its own attributes (NetSuite), or through its vendor
    client (created on first use, so none before the connection's first request)."""
    found: dict[int, ConcurrencyLimiter | RateLimiter] = {}
    for held in vars(connector).values():
        candidates = held.limiters if isinstance(held, VendorHttpClient) else (held,)
        for candidate in candidates:
            if isinstance(candidate, ConcurrencyLimiter | RateLimiter):
                found[id(candidate)] = candidate
    return list(found.values())


class _ProcessCollector(Collector):
    """The runtime's own instruments (step and run histograms), which outlive any one app."""

    def __init__(self, runtime: Runtime) -> None:
        self._registry = runtime.telemetry.metrics.registry

    def collect(self) -> Iterator[Metric]:
        yield from self._registry.collect()


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
        self.registry.register(_LimiterCollector(runtime))
        self.registry.register(_DatabaseCollector(runtime))
        self.registry.register(_ProcessCollector(runtime))
        self.registry.register(PolicyCollector(runtime.policy_store))

    def render(self) -> bytes:
        return generate_latest(self.registry)


def serve_worker_metrics(runtime: Runtime) -> WSGIServer | None:
    """``syncwright worker``'s own /metrics on ``server.host``:``telemetry.worker_metrics_port``
    (its step and run histograms live in that process only); None when not configured or
    metrics are off. Stop it with ``shutdown()``."""
    telemetry = runtime.settings.telemetry
    if not telemetry.metrics_enabled or telemetry.worker_metrics_port is None:
        return None
    server, _thread = start_http_server(
        telemetry.worker_metrics_port,
        addr=runtime.settings.server.host,
        registry=Metrics(runtime).registry,
    )
    return server
