"""The overview's technical figures, read from our tables (inbox, ledger, exceptions,
reconciliation runs) at request time, so the console shows the same truth whichever process
serves it. The business figures and queue depths come from ``syncwright.telemetry.business``,
the module ``/metrics`` reads too, so the console and Prometheus never disagree.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa

from syncwright._time import as_utc, utcnow
from syncwright.connectors._base.limits import ConcurrencyLimiter
from syncwright.runtime import Runtime
from syncwright.store.tables import exceptions, inbox, ledger
from syncwright.telemetry.business import AGE_BUCKETS, business_figures, queue_depths

#: Buckets on every chart: enough to show a shape, few enough to read.
BUCKETS = 30
#: Ledger outcomes that mean a step went wrong (a retry, probe or park follows).
FAILED_OUTCOMES = ("transient", "business", "uncertain", "failed", "parked")
RETRY_OUTCOMES = ("transient", "uncertain")
#: How the age buckets of ``syncwright.telemetry.business`` read on the page.
AGE_LABELS = {"lt_1h": "< 1 h", "1h_1d": "1 h - 1 d", "1d_7d": "1 - 7 d", "ge_7d": "> 7 d"}


@dataclass(frozen=True)
class Figure:
    label: str
    value: int
    hint: str
    href: str | None = None


@dataclass(frozen=True)
class Series:
    title: str
    unit: str
    starts: list[datetime]
    values: list[float]

    @property
    def peak(self) -> float:
        return max(self.values, default=0.0)


@dataclass(frozen=True)
class QueueDepth:
    target: str
    pending_deliveries: int
    queued_runs: int
    running_runs: int


@dataclass(frozen=True)
class LimiterUse:
    connection: str
    in_flight: int
    limit: int | None


@dataclass(frozen=True)
class ConnectionHealth:
    name: str
    vendor: str
    state: str  # ok | failing | idle
    calls: int
    failures: int
    last_ok: datetime | None
    last_failure: datetime | None
    last_error_code: str | None
    last_event: datetime | None


@dataclass
class Overview:
    window_start: datetime
    now: datetime
    business: list[Figure]
    exceptions_by_class: list[tuple[tuple[str, str], dict[str, int]]]
    """(class, code) -> count per age bucket, the largest first."""
    age_buckets: list[str]
    events_per_second: float
    deliveries: int
    latency_ms: dict[str, float | None]
    latency_samples: int
    queue_depth: list[QueueDepth]
    retries: int
    limiters: list[LimiterUse]
    health: list[ConnectionHealth]
    series: list[Series] = field(default_factory=list)


def _percentile(sorted_values: Sequence[float], q: int) -> float | None:
    if not sorted_values:
        return None
    if len(sorted_values) == 1:
        return sorted_values[0]
    cut = statistics.quantiles(sorted_values, n=100, method="inclusive")
    return cut[int(q) - 1]


class OverviewQueries:
    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime

    def business(self) -> tuple[list[Figure], list[tuple[tuple[str, str], dict[str, int]]]]:
        figures = business_figures(self._runtime.db)
        cards = [
            Figure(
                "Orders awaiting ERP validation",
                figures.orders_awaiting_erp_validation,
                "closed deals not yet validated against the ERP's master data",
                "/exceptions?workflow=deal.onboard",
            ),
            Figure(
                "Subscriptions pending activation",
                figures.subscriptions_pending_activation,
                "created by onboarding, not active yet, neither activated nor cancelled since",
            ),
            Figure(
                "Invoices blocked by master data",
                figures.invoices_blocked_by_master_data,
                "invoice runs parked on a business rejection by the ERP",
                "/exceptions?workflow=invoice.",
            ),
            Figure(
                "Renewals not yet in the CRM",
                figures.renewals_not_in_crm,
                "renewals whose run to the CRM has not finished",
            ),
            Figure(
                "Customers in dunning",
                figures.customers_in_dunning,
                "latest collection event in the ERP is a failed payment",
            ),
        ]
        by_class: dict[tuple[str, str], dict[str, int]] = {}
        for item in figures.open_exceptions:
            key = (item.error_class, item.code)
            by_class.setdefault(key, {})[AGE_LABELS[item.age]] = item.count
        ranked = sorted(by_class.items(), key=lambda kv: (-sum(kv[1].values()), kv[0]))
        return cards, ranked

    # --- technical --------------------------------------------------------------------------

    def _bucket_edges(self, start: datetime, now: datetime) -> list[datetime]:
        step = max((now - start) / BUCKETS, timedelta(seconds=1))
        return [start + step * i for i in range(BUCKETS)]

    def _bucketed(
        self, edges: list[datetime], now: datetime, samples: Iterable[tuple[datetime, float]]
    ) -> list[list[float]]:
        step = (now - edges[0]) / BUCKETS if edges else timedelta(seconds=1)
        buckets: list[list[float]] = [[] for _ in edges]
        for at, value in samples:
            index = int((at - edges[0]) / step) if step else 0
            buckets[min(max(index, 0), len(edges) - 1)].append(value)
        return buckets

    def overview(self, window: timedelta) -> Overview:
        now = utcnow()
        since = now - window
        with self._runtime.db.engine.connect() as conn:
            received = [
                (as_utc(at), str(cid))
                for at, cid in conn.execute(
                    sa.select(inbox.c.received_at, inbox.c.correlation_id).where(
                        inbox.c.received_at >= since
                    )
                )
            ]
            finished: dict[str, datetime] = {
                str(cid): as_utc(last)
                for cid, last in conn.execute(
                    sa.select(ledger.c.correlation_id, sa.func.max(ledger.c.at))
                    .where(ledger.c.at >= since)
                    .group_by(ledger.c.correlation_id)
                )
            }
            attempts = [
                (as_utc(at), str(outcome))
                for at, outcome in conn.execute(
                    sa.select(ledger.c.at, ledger.c.outcome).where(ledger.c.at >= since)
                )
            ]
            opened = [
                as_utc(at)
                for at in conn.execute(
                    sa.select(exceptions.c.created_at).where(exceptions.c.created_at >= since)
                ).scalars()
            ]
        first = min([at for at, _ in received] + [at for at, _ in attempts], default=now)
        # The charts cover what happened: from the first event in the window until now.
        edges = self._bucket_edges(min(first, now - timedelta(seconds=30)), now)
        span_seconds = max((now - edges[0]).total_seconds(), 1.0)
        step_seconds = span_seconds / BUCKETS

        latencies = [
            ((finished[cid] - at).total_seconds() * 1000.0, at)
            for at, cid in received
            if cid in finished and finished[cid] >= at
        ]
        ordered = sorted(ms for ms, _ in latencies)
        latency = {str(q): _percentile(ordered, q) for q in (50, 95, 99)}
        retry_samples = [(at, 1.0) for at, outcome in attempts if outcome in RETRY_OUTCOMES]

        event_buckets = self._bucketed(edges, now, ((at, 1.0) for at, _ in received))
        latency_buckets = self._bucketed(edges, now, ((at, ms) for ms, at in latencies))
        retry_buckets = self._bucketed(edges, now, retry_samples)
        opened_buckets = self._bucketed(edges, now, ((at, 1.0) for at in opened))
        series = [
            Series("Events received", "/s", edges, [len(b) / step_seconds for b in event_buckets]),
            Series(
                "Sync latency p95",
                "ms",
                edges,
                [_percentile(sorted(b), 95) or 0.0 for b in latency_buckets],
            ),
            Series("Retries", "", edges, [float(len(b)) for b in retry_buckets]),
            Series("Exceptions opened", "", edges, [float(len(b)) for b in opened_buckets]),
        ]
        cards, by_class = self.business()
        recent = [at for at, _ in received if at >= now - timedelta(minutes=5)]
        recent_span = min(300.0, span_seconds)
        return Overview(
            window_start=edges[0],
            now=now,
            business=cards,
            exceptions_by_class=by_class,
            age_buckets=[AGE_LABELS[name] for name, _ in AGE_BUCKETS],
            events_per_second=len(recent) / recent_span,
            deliveries=len(received),
            latency_ms=latency,
            latency_samples=len(latencies),
            queue_depth=self.queue_depth(),
            retries=len(retry_samples),
            limiters=self.limiters(),
            health=self.health(since),
            series=series,
        )

    def queue_depth(self) -> list[QueueDepth]:
        """Per target: inbox deliveries not yet dispatched (by connection), and workflow runs
        queued or running (by workflow, from the engine's run status)."""
        with self._runtime.db.engine.connect() as conn:
            pending: dict[str, int] = dict(
                conn.execute(
                    sa.select(inbox.c.connection, sa.func.count())
                    .where(inbox.c.status == "pending")
                    .group_by(inbox.c.connection)
                ).all()
            )
        depth = [
            QueueDepth(f"inbox: {name}", int(pending.get(name, 0)), 0, 0)
            for name in sorted(set(self._runtime.connectors) | set(pending))
        ]
        runs = queue_depths(self._runtime.db)
        for name in sorted({workflow for workflow, _state in runs}):
            depth.append(
                QueueDepth(
                    f"workflow: {name}",
                    0,
                    runs.get((name, "queued"), 0),
                    runs.get((name, "running"), 0),
                )
            )
        return depth

    def limiters(self) -> list[LimiterUse]:
        """Concurrency slots in use by this process's connectors (a worker in another process
        keeps its own; `serve --with-worker` and the demo run both in one)."""
        found: list[LimiterUse] = []
        for name, connector in sorted(self._runtime.connectors.items()):
            limiter = _find_limiter(connector)
            configured = self._runtime.settings.connections[name].limits.concurrency
            if limiter is not None:
                found.append(LimiterUse(name, limiter.in_flight, limiter.limit))
            else:
                found.append(LimiterUse(name, 0, configured))
        return found

    def health(self, since: datetime) -> list[ConnectionHealth]:
        names = sorted(self._runtime.settings.connections)
        with self._runtime.db.engine.connect() as conn:
            stats = {
                str(name): (int(calls), int(fails or 0))
                for name, calls, fails in conn.execute(
                    sa.select(
                        ledger.c.connection,
                        sa.func.count(),
                        sa.func.sum(sa.case((ledger.c.outcome.in_(FAILED_OUTCOMES), 1), else_=0)),
                    )
                    .where(ledger.c.at >= since, ledger.c.connection.is_not(None))
                    .group_by(ledger.c.connection)
                )
            }
            last_ok = _latest_by_connection(conn, ledger.c.outcome == "ok")
            last_fail_rows = conn.execute(
                sa.select(ledger.c.connection, ledger.c.at, ledger.c.error_code)
                .where(ledger.c.outcome.in_(FAILED_OUTCOMES), ledger.c.connection.is_not(None))
                .order_by(ledger.c.id.desc())
                .limit(2000)
            ).all()
            last_event = {
                str(name): as_utc(at)
                for name, at in conn.execute(
                    sa.select(inbox.c.connection, sa.func.max(inbox.c.received_at)).group_by(
                        inbox.c.connection
                    )
                )
            }
        last_fail: dict[str, tuple[datetime, str | None]] = {}
        for name, at, code in last_fail_rows:
            last_fail.setdefault(str(name), (as_utc(at), code))
        result: list[ConnectionHealth] = []
        for name in names:
            calls, failures = stats.get(name, (0, 0))
            ok_at = last_ok.get(name)
            fail_at, code = last_fail.get(name, (None, None))
            if ok_at is None and fail_at is None:
                state = "idle"
            elif fail_at is not None and (ok_at is None or fail_at > ok_at):
                state = "failing"
            else:
                state = "ok"
            result.append(
                ConnectionHealth(
                    name=name,
                    vendor=self._runtime.settings.connections[name].vendor,
                    state=state,
                    calls=calls,
                    failures=failures,
                    last_ok=ok_at,
                    last_failure=fail_at,
                    last_error_code=code,
                    last_event=last_event.get(name),
                )
            )
        return result


def _latest_by_connection(
    conn: sa.Connection, condition: sa.ColumnElement[bool]
) -> dict[str, datetime]:
    return {
        str(name): as_utc(at)
        for name, at in conn.execute(
            sa.select(ledger.c.connection, sa.func.max(ledger.c.at))
            .where(condition, ledger.c.connection.is_not(None))
            .group_by(ledger.c.connection)
        )
    }


def _find_limiter(connector: object) -> ConcurrencyLimiter | None:
    """Connectors keep their limiter on themselves or on their HTTP client; look one level
    deep rather than make every connector expose it."""
    for value in vars(connector).values():
        if isinstance(value, ConcurrencyLimiter):
            return value
    for value in vars(connector).values():
        if hasattr(value, "__dict__"):
            for inner in vars(value).values():
                if isinstance(inner, ConcurrencyLimiter):
                    return inner
    return None
