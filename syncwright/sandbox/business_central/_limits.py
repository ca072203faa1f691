"""Business Central's request limit: a sliding window per user/service principal.

Microsoft, "Working with API limits in Dynamics 365 Business Central"
(dev-itpro/api-reference/v2.0/dynamics-rate-limits.md and dynamics-current-limits.md): 6,000
OData requests per 5-minute sliding window per user; over it, HTTP 429 Too Many Requests.
The window and the count are parameters so tests can reach the limit in a few requests.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque

__all__ = ["SlidingWindow"]

DEFAULT_REQUESTS = 6000
DEFAULT_WINDOW_SECONDS = 300.0


class SlidingWindow:
    def __init__(
        self, requests: int = DEFAULT_REQUESTS, window_seconds: float = DEFAULT_WINDOW_SECONDS
    ) -> None:
        self.requests = requests
        self.window_seconds = window_seconds
        self._seen: dict[str, deque[float]] = {}
        self._lock = threading.Lock()
        self.refused = 0
        self.forced = 0  # the next N requests are refused whatever the count (tests, demos)
        self.forced_retry_after = 1

    def configure(self, requests: int, window_seconds: float) -> None:
        with self._lock:
            self.requests, self.window_seconds = requests, window_seconds
            self._seen.clear()

    def force(self, count: int, retry_after: int) -> None:
        with self._lock:
            self.forced, self.forced_retry_after = count, retry_after

    def admit(self, principal: str) -> int | None:
        """None when the request may run; else the seconds until the window has room."""
        now = time.monotonic()
        with self._lock:
            if self.forced > 0:
                self.forced -= 1
                self.refused += 1
                return self.forced_retry_after
            seen = self._seen.setdefault(principal, deque())
            while seen and seen[0] <= now - self.window_seconds:
                seen.popleft()
            if len(seen) >= self.requests:
                self.refused += 1
                return max(1, math.ceil(seen[0] + self.window_seconds - now))
            seen.append(now)
            return None
