"""Account-wide concurrency governance, as NetSuite applies it to web services and RESTlets.

NetSuite counts the requests *in flight* for the whole account (not a rate): the one that would
exceed the limit is refused at once with 429 (REST web services). The limit depends on the
service tier and SuiteCloud Plus licences (shared tier: 5); it can be changed at runtime here to
model a licence change. Oracle: "Web Services and RESTlet Concurrency Governance"
https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/subsect_1559222360.html

Utilisation is time-weighted: the integral of ``in_flight / limit`` over time, divided by the
time observed -- what a capacity dashboard would show.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

__all__ = ["ConcurrencyGovernor"]


class ConcurrencyGovernor:
    def __init__(self, limit: int = 5, *, clock: Callable[[], float] = time.monotonic) -> None:
        if limit < 1:
            raise ValueError("concurrency limit must be at least 1")
        self._clock = clock
        self._lock = threading.Lock()
        self._limit = limit
        self.in_flight = 0
        self.max_in_flight_observed = 0
        self.breaches = 0
        self.admitted = 0
        self._started = clock()
        self._last = self._started
        self._area = 0.0  # integral of in_flight / limit dt

    @property
    def limit(self) -> int:
        return self._limit

    @limit.setter
    def limit(self, value: int) -> None:
        if value < 1:
            raise ValueError("concurrency limit must be at least 1")
        with self._lock:
            self._advance()
            self._limit = value

    def _advance(self) -> None:
        now = self._clock()
        self._area += (now - self._last) * self.in_flight / self._limit
        self._last = now

    def try_acquire(self) -> bool:
        """Admit one request, or count a breach and refuse it."""
        with self._lock:
            if self.in_flight >= self._limit:
                self.breaches += 1
                return False
            self._advance()
            self.in_flight += 1
            self.admitted += 1
            self.max_in_flight_observed = max(self.max_in_flight_observed, self.in_flight)
            return True

    def release(self) -> None:
        with self._lock:
            self._advance()
            self.in_flight -= 1

    @property
    def utilisation(self) -> float:
        """Time-weighted mean of in-flight / limit since start or the last reset (0..1)."""
        with self._lock:
            self._advance()
            elapsed = self._last - self._started
            return self._area / elapsed if elapsed > 0 else 0.0

    def reset(self) -> None:
        """Zero the counters (requests still in flight stay counted)."""
        with self._lock:
            self.max_in_flight_observed = self.in_flight
            self.breaches = 0
            self.admitted = 0
            self._started = self._last = self._clock()
            self._area = 0.0

    def stats(self) -> dict[str, Any]:
        utilisation = self.utilisation
        with self._lock:
            return {
                "concurrency_limit": self._limit,
                "in_flight": self.in_flight,
                "max_in_flight_observed": self.max_in_flight_observed,
                "breaches": self.breaches,
                "admitted": self.admitted,
                "utilisation": round(utilisation, 6),
            }
