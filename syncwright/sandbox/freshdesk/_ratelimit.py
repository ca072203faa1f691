"""Freshdesk's per-minute account rate limit, and 429 storms on demand.

Freshdesk counts calls per account per minute, every agent and app sharing the pool, failed
calls included. Each answer carries ``X-RateLimit-Total``, ``X-RateLimit-Remaining`` and
``X-RateLimit-Used-CurrentRequest``; over the limit it answers 429 with ``Retry-After`` in
seconds (../shared/vendor/freshdesk/errors-and-rate-limits.facts.json;
https://developers.freshdesk.com/api/#ratelimit). The window is a fixed window of
``window_seconds`` (60 by default; tests shorten it).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class RateDecision:
    allowed: bool
    limit: int
    remaining: int
    retry_after: int | None = None

    def headers(self) -> dict[str, str]:
        headers = {
            "X-RateLimit-Total": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Used-CurrentRequest": "1",
        }
        if self.retry_after is not None:
            headers["Retry-After"] = str(self.retry_after)
        return headers


class RateLimiter:
    """``limit`` calls per fixed window; a storm answers the next N calls with 429."""

    def __init__(
        self,
        limit: int,
        *,
        window_seconds: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if limit < 1 or window_seconds <= 0:
            raise ValueError("limit and window_seconds must be positive")
        self.limit = limit
        self.window_seconds = window_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._window_start: float = clock()
        self._used = 0
        self._storm_left = 0
        self._storm_retry_after = 1
        self.rejected = 0

    def take(self) -> RateDecision:
        with self._lock:
            now = self._clock()
            if now - self._window_start >= self.window_seconds:
                self._window_start = now
                self._used = 0
            retry = max(1, math.ceil(self._window_start + self.window_seconds - now))
            if self._storm_left > 0:
                self._storm_left -= 1
                self.rejected += 1
                remaining = max(0, self.limit - self._used)
                return RateDecision(False, self.limit, remaining, self._storm_retry_after)
            if self._used >= self.limit:
                self.rejected += 1
                return RateDecision(False, self.limit, 0, retry)
            self._used += 1
            return RateDecision(True, self.limit, self.limit - self._used)

    def storm(self, requests: int, retry_after: int) -> None:
        """Answer the next ``requests`` calls with 429 and ``Retry-After: retry_after``."""
        with self._lock:
            self._storm_left = max(0, requests)
            self._storm_retry_after = max(0, retry_after)

    def reset(self) -> None:
        with self._lock:
            self._window_start = self._clock()
            self._used = 0
            self._storm_left = 0
            self._storm_retry_after = 1
            self.rejected = 0
