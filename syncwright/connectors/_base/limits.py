"""Per-target throughput limits: never more than N requests in flight, never more than R per
second. Connectors take a slot around every request to their vendor.

Limits hold per process. Several ``syncwright worker`` processes against one vendor account
share its limit by each taking a share (``limits.concurrency`` divided by the worker count).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager


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

    def acquire(self) -> None:
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
