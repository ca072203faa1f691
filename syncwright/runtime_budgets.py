"""Per-connection budgets held in the database and shared by every process of a deployment
(``connections.<name>.limits.scope: shared``).

Three things are shared, all in the runtime's own database (SQLite or PostgreSQL):

- **Concurrent requests**: ``limits.concurrency`` rows in ``sw_budget_leases``, one per slot. A
  request takes a free slot as a *lease* that expires after ``2 x limits.timeout_seconds + 5``
  seconds, and gives it back when its response has been read. A process killed while holding
  slots cannot give them back; their leases run out and the slots return by themselves.
- **Requests per window**: ``sw_budgets.window_start``/``used``. ``requests_per_second`` becomes
  ``floor(requests_per_second)`` requests (at least 1) per window of that many requests' worth of
  seconds, so the average rate is exactly the configured one and a burst is at most one window.
- **Retry-After**: ``sw_budgets.blocked_until``. A vendor's 429/503 with Retry-After blocks the
  connection for every process until then.

Cost per request to a shared connection: one short write transaction (a single ``UPDATE``) to
take the rate token when ``requests_per_second`` is set (otherwise a read of ``blocked_until``
at most every 0.25 s per process), one single-statement write to take a slot and one to give it
back. A request that finds the budget spent polls again after 2 ms, doubling up to 50 ms, and
at once when another request of the same process gives a slot back.

Times are seconds since the epoch from each process's own clock: hosts sharing a database keep
their clocks in step (NTP), as they must for the executors' heartbeats anyway.
"""

from __future__ import annotations

import logging
import math
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from syncwright.connectors._base.limits import ConcurrencyLimiter, RateLimiter, process_limiters
from syncwright.store._upsert import insert_many_ignore_duplicates
from syncwright.store.tables import budget_leases, budgets

log = logging.getLogger("syncwright.limits")

__all__ = ["SharedBudgets", "SharedConcurrencyLimiter", "SharedRateLimiter", "lease_seconds"]

_FIRST_POLL = 0.002
_LAST_POLL = 0.05
_BLOCK_RECHECK = 0.25


def lease_seconds(timeout_seconds: float) -> float:
    """How long a slot stays taken without being given back: a request's timeout, plus the
    same again that NetSuite keeps a timed-out request's slot, plus a margin."""
    return 2 * timeout_seconds + 5


def _holder_prefix() -> str:
    return f"{socket.gethostname()[:60]}:{os.getpid()}"


def _seed_budget_row(connection: Connection, name: str) -> None:
    insert_many_ignore_duplicates(
        connection,
        budgets,
        [{"connection": name, "window_start": 0.0, "used": 0, "blocked_until": 0.0}],
        key=("connection",),
        returning=budgets.c.connection,
    )


class SharedConcurrencyLimiter(ConcurrencyLimiter):
    """At most ``limit`` requests in flight to ``connection`` across all processes. The counts
    of the base class (``in_flight``, ``max_in_flight``, waits, utilisation) stay this
    process's own, for ``/metrics``."""

    def __init__(
        self, engine: Engine, connection: str, limit: int | None, *, lease_seconds: float
    ) -> None:
        super().__init__(limit)
        self._engine = engine
        self._connection = connection
        self._lease_seconds = lease_seconds
        self._holder_base = _holder_prefix()
        self._postgres = engine.dialect.name == "postgresql"
        if limit is not None:
            with engine.begin() as conn:
                insert_many_ignore_duplicates(
                    conn,
                    budget_leases,
                    [
                        {"connection": connection, "slot": n, "holder": None, "expires_at": 0.0}
                        for n in range(limit)
                    ],
                    key=("connection", "slot"),
                    returning=budget_leases.c.slot,
                )

    def _claim(self, holder: str) -> bool:
        """Take one free (or expired) slot in one statement; whether one was free."""
        leases = budget_leases.c
        now = time.time()
        free = sa.or_(leases.holder.is_(None), leases.expires_at < now)
        candidate = (
            sa.select(leases.slot)
            .where(leases.connection == self._connection, leases.slot < self.limit, free)
            .order_by(leases.slot)
            .limit(1)
        )
        if self._postgres:  # concurrent claimers skip each other's row instead of queueing
            candidate = candidate.with_for_update(skip_locked=True)
        claim = (
            sa.update(budget_leases)
            .where(
                leases.connection == self._connection,
                leases.slot == candidate.scalar_subquery(),
                free,  # re-checked on the row itself: a racing claimer that won leaves 0 rows
            )
            .values(holder=holder, expires_at=now + self._lease_seconds)
        )
        with self._engine.begin() as conn:
            return conn.execute(claim).rowcount == 1

    def _give_back(self, holder: str) -> None:
        leases = budget_leases.c
        with self._engine.begin() as conn:
            conn.execute(
                sa.update(budget_leases)
                .where(leases.connection == self._connection, leases.holder == holder)
                .values(holder=None, expires_at=0.0)
            )

    def _take(self) -> str:
        holder = f"{self._holder_base}:{uuid.uuid4().hex[:16]}"
        if self._claim(holder):
            return holder
        self.waits += 1
        waiting_since = time.monotonic()
        pause = _FIRST_POLL
        while True:
            with self._cond:  # woken early when a request of this process gives a slot back
                self._cond.wait(pause)
            if self._claim(holder):
                self.wait_seconds += time.monotonic() - waiting_since
                return holder
            pause = min(pause * 2, _LAST_POLL)

    @contextmanager
    def slot(self) -> Iterator[None]:
        if self.limit is None:
            with super().slot():
                yield
            return
        holder = self._take()
        try:
            with self._cond:
                self._account()
                self._in_flight += 1
                self.max_in_flight = max(self.max_in_flight, self._in_flight)
            yield
        finally:
            with self._cond:
                self._account()
                self._in_flight -= 1
            try:
                self._give_back(holder)
            except sa.exc.SQLAlchemyError as exc:  # the lease runs out instead
                log.warning(
                    "could not give back a slot of %s (%s); it returns when its lease expires",
                    self._connection,
                    type(exc).__name__,
                )
            with self._cond:
                self._cond.notify()


class SharedRateLimiter(RateLimiter):
    """At most ``per_second`` request starts per second to ``connection`` across all processes,
    and none before a Retry-After any process was given has passed."""

    def __init__(self, engine: Engine, connection: str, per_second: float | None) -> None:
        super().__init__(per_second)
        self._engine = engine
        self._connection = connection
        self.per_window = max(1, math.floor(per_second)) if per_second else 0
        self.window_seconds = self.per_window / per_second if per_second else 0.0
        self._block_checked_at = -math.inf
        self._shared_blocked_until = 0.0
        with engine.begin() as conn:
            _seed_budget_row(conn, connection)

    def block_for(self, seconds: float) -> None:
        super().block_for(seconds)
        until = time.time() + seconds
        row = budgets.c
        with self._engine.begin() as conn:
            conn.execute(
                sa.update(budgets)
                .where(row.connection == self._connection, row.blocked_until < until)
                .values(blocked_until=until)
            )

    def _blocked_for(self) -> float:
        """Seconds until the shared Retry-After has passed (read at most every 0.25 s)."""
        now = time.monotonic()
        if now - self._block_checked_at >= _BLOCK_RECHECK:
            with self._engine.connect() as conn:
                found = conn.execute(
                    sa.select(budgets.c.blocked_until).where(
                        budgets.c.connection == self._connection
                    )
                ).scalar_one_or_none()
            self._shared_blocked_until = float(found or 0.0)
            self._block_checked_at = now
        return self._shared_blocked_until - time.time()

    def _take_token(self) -> float:
        """Take a token in one statement; 0 when taken, else seconds to wait before trying
        again (the window's end, or the Retry-After's)."""
        row = budgets.c
        now = time.time()
        fresh = row.window_start <= now - self.window_seconds
        take = (
            sa.update(budgets)
            .where(
                row.connection == self._connection,
                row.blocked_until <= now,
                sa.or_(fresh, row.used < self.per_window),
            )
            .values(
                window_start=sa.case((fresh, now), else_=row.window_start),
                used=sa.case((fresh, 1), else_=row.used + 1),
            )
        )
        with self._engine.begin() as conn:
            if conn.execute(take).rowcount == 1:
                return 0.0
            state = conn.execute(
                sa.select(row.window_start, row.blocked_until).where(
                    row.connection == self._connection
                )
            ).one()
        window_ends = float(state.window_start) + self.window_seconds - now
        return max(window_ends, float(state.blocked_until) - now, _FIRST_POLL)

    def acquire(self) -> None:
        self._wait_if_blocked()
        if self.per_second is None:
            while (pause := self._blocked_for()) > 0:
                time.sleep(pause)
            return
        waited = False
        while (pause := self._take_token()) > 0:
            if not waited:
                self.waits += 1
                waited = True
            self.wait_seconds += pause
            time.sleep(pause)


class SharedBudgets:
    """The runtime's limiter factory: shared limiters for connections with
    ``limits.scope: shared``, per-process ones for the others."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._lock = threading.Lock()

    def limiters(
        self, connection: str, limits: Any, concurrency: int | None, per_second: float | None
    ) -> tuple[ConcurrencyLimiter, RateLimiter]:
        if limits.scope != "shared":
            return process_limiters(connection, limits, concurrency, per_second)
        with self._lock:
            return (
                SharedConcurrencyLimiter(
                    self._engine,
                    connection,
                    concurrency,
                    lease_seconds=lease_seconds(limits.timeout_seconds),
                ),
                SharedRateLimiter(self._engine, connection, per_second),
            )
