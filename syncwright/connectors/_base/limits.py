"""Per-target throughput limits: never more than N requests in flight, never more than R per
second, nothing before a vendor's Retry-After has passed. Connectors take a slot around every
request to their vendor.

The classes here hold per process (``limits.scope: process``). A connector gets its pair from
:func:`limiters_for`, which asks the factory the runtime installs while it builds connectors:
with ``limits.scope: shared`` that factory returns limiters held in the database and shared by
every process of the deployment (:mod:`syncwright.runtime_budgets`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any


class ConcurrencyLimiter:
    """A counting semaphore that also measures how much of the limit was in use."""

    def __init__(self, limit: int | None) -> None:
        self.limit = limit
        self._cond = threading.Condition()
        self._in_flight = 0
        self.max_in_flight = 0
        self._busy_area = 0.0  # integral of in-flight over time, for utilisation
        self._last = time.monotonic()
        self._started = self._last
        # Requests that found the limit full, and how long they waited in all (for /metrics).
        self.waits = 0
        self.wait_seconds = 0.0

    def _account(self) -> None:
        now = time.monotonic()
        self._busy_area += self._in_flight * (now - self._last)
        self._last = now

    @contextmanager
    def slot(self) -> Iterator[None]:
        with self._cond:
            if self.limit is not None and self._in_flight >= self.limit:
                self.waits += 1
                waiting_since = time.monotonic()
                while self._in_flight >= self.limit:
                    self._cond.wait()
                self.wait_seconds += time.monotonic() - waiting_since
            self._account()
            self._in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self._in_flight)
        try:
            yield
        finally:
            with self._cond:
                self._account()
                self._in_flight -= 1
                self._cond.notify()

    @property
    def in_flight(self) -> int:
        return self._in_flight

    def utilisation(self) -> float:
        """Average share of the limit in use since creation (or the last :meth:`reset_stats`)."""
        with self._cond:
            self._account()
            elapsed = self._last - self._started
        if not self.limit or elapsed <= 0:
            return 0.0
        return self._busy_area / (self.limit * elapsed)

    def reset_stats(self) -> None:
        with self._cond:
            self._busy_area = 0.0
            self._last = self._started = time.monotonic()
            self.max_in_flight = self._in_flight


class RateLimiter:
    """Token bucket: at most ``per_second`` starts per second, bursts up to ``burst``."""

    def __init__(self, per_second: float | None, burst: int | None = None) -> None:
        self.per_second = per_second
        self._capacity = float(burst or max(1, int(per_second or 1)))
        self._tokens = self._capacity
        self._last = time.monotonic()
        self._lock = threading.Lock()
        # Starts that had to wait for a token, and how long they waited in all (for /metrics).
        self.waits = 0
        self.wait_seconds = 0.0
        self._blocked_until = 0.0  # monotonic; set from a vendor's Retry-After

    def block_for(self, seconds: float) -> None:
        """A vendor asked us to wait (Retry-After): no request starts for ``seconds``."""
        with self._lock:
            self._blocked_until = max(self._blocked_until, time.monotonic() + seconds)

    def _wait_if_blocked(self) -> None:
        while (pause := self._blocked_until - time.monotonic()) > 0:
            time.sleep(pause)

    def acquire(self) -> None:
        self._wait_if_blocked()
        if self.per_second is None:
            return
        waited = False
        while True:
            with self._lock:
                now = time.monotonic()
                self._tokens = min(
                    self._capacity, self._tokens + (now - self._last) * self.per_second
                )
                self._last = now
                if self._tokens >= 1:
                    self._tokens -= 1
                    return
                wait = (1 - self._tokens) / self.per_second
                self.waits += 0 if waited else 1
                self.wait_seconds += wait
                waited = True
            time.sleep(wait)


# (connection name, limits settings, default concurrency, default requests per second) ->
# the connection's concurrency and rate limiters.
LimiterFactory = Callable[
    [str, Any, int | None, float | None], tuple[ConcurrencyLimiter, RateLimiter]
]


def process_limiters(
    connection: str, limits: Any, concurrency: int | None, per_second: float | None
) -> tuple[ConcurrencyLimiter, RateLimiter]:
    """Limiters held in this process only (``limits.scope: process``, the default)."""
    if getattr(limits, "scope", "process") == "shared":
        raise RuntimeError(
            f"connections.{connection}.limits.scope is 'shared' but this connector was built "
            "outside a runtime (no database to hold the budget); build it through Runtime"
        )
    return ConcurrencyLimiter(concurrency), RateLimiter(per_second)


_factory: ContextVar[LimiterFactory] = ContextVar("limiter_factory", default=process_limiters)


@contextmanager
def limiter_factory(factory: LimiterFactory) -> Iterator[None]:
    """Connectors built inside this block get their limiters from ``factory`` (the runtime
    installs its database-backed one while it builds the connections)."""
    token = _factory.set(factory)
    try:
        yield
    finally:
        _factory.reset(token)


def current_limiter_factory() -> LimiterFactory:
    """The factory in effect here; a connector keeps the one in effect when it was built, so
    that clients it builds later, on any thread, get limiters of the same kind."""
    return _factory.get()
