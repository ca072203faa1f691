"""A per-account request limit in fixed windows, and 429 storms on demand.

Zendesk and Freshdesk both count an account's calls per minute; the counting is shared here,
while each emulator names its own headers (``RateDecision.headers`` in its ``_ratelimit``).
The window is ``window_seconds`` long (60 by default; tests shorten it) and windows follow
each other from the limiter's start.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["WindowDecision", "WindowLimiter"]


@dataclass(frozen=True)
class WindowDecision:
    allowed: bool
    limit: int
    remaining: int
    reset_seconds: int
    retry_after: int | None = None


class WindowLimiter:
    """``limit`` requests per fixed window; a storm answers the next N requests with 429."""

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
        self._window_start = clock()
        self._used = 0
        self._storm_left = 0
        self._storm_retry_after = 1
        self.rejected = 0

    def decide(self) -> WindowDecision:
        with self._lock:
            now = self._clock()
            if now - self._window_start >= self.window_seconds:
                elapsed_windows = (now - self._window_start) // self.window_seconds
                self._window_start += elapsed_windows * self.window_seconds
                self._used = 0
            reset = max(1, math.ceil(self._window_start + self.window_seconds - now))
            if self._storm_left > 0:
                self._storm_left -= 1
                self.rejected += 1
                remaining = max(0, self.limit - self._used)
                return WindowDecision(False, self.limit, remaining, reset, self._storm_retry_after)
            if self._used >= self.limit:
                self.rejected += 1
                return WindowDecision(False, self.limit, 0, reset, reset)
            self._used += 1
            return WindowDecision(True, self.limit, self.limit - self._used, reset)

    def storm(self, requests: int, retry_after: int) -> None:
        """Answer the next ``requests`` API calls with 429 and ``Retry-After: retry_after``."""
        with self._lock:
            self._storm_left = max(0, requests)
            self._storm_retry_after = max(0, retry_after)

    @property
    def storm_left(self) -> int:
        with self._lock:
            return self._storm_left

    def reset(self) -> None:
        with self._lock:
            self._window_start = self._clock()
            self._used = 0
            self._storm_left = 0
            self.rejected = 0
