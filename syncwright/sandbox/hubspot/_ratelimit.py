"""HubSpot's API limits for a private app: a burst limit per rolling 10 seconds, a daily limit,
and the search API's own per-second limit; 429 storms on demand.

Every answer carries ``X-HubSpot-RateLimit-Daily``, ``-Daily-Remaining``,
``-Interval-Milliseconds``, ``-Max`` and ``-Remaining`` (search answers carry none: HubSpot's
search guide says its endpoints do not include the standard rate-limit headers). Over a limit
HubSpot answers 429 with ``policyName`` ``TEN_SECONDLY_ROLLING``, ``DAILY`` or ``SECONDLY``.
Numbers: ../shared/vendor/RATE-LIMITS.json (Professional: 190 per 10 s, 650,000 a day; search
4-5 per second).
https://developers.hubspot.com/docs/api/usage-details
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class RateDecision:
    policy: str | None  # None: allowed; else the policy that refused
    headers: dict[str, str]


class RateLimiter:
    def __init__(
        self,
        per_interval: int = 190,
        *,
        interval_seconds: float = 10.0,
        daily: int = 650_000,
        search_per_second: int = 5,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.per_interval = per_interval
        self.interval_seconds = interval_seconds
        self.daily = daily
        self.search_per_second = search_per_second
        self._clock = clock
        self._lock = threading.Lock()
        self._recent: deque[float] = deque()
        self._search: deque[float] = deque()
        self.daily_used = 0
        self._storm: list[str] = []
        self.rejected = 0

    def take(self, *, search: bool = False) -> RateDecision:
        with self._lock:
            now = self._clock()
            while self._recent and now - self._recent[0] >= self.interval_seconds:
                self._recent.popleft()
            while self._search and now - self._search[0] >= 1.0:
                self._search.popleft()
            policy: str | None = None
            if self._storm:
                policy = self._storm.pop(0)
            elif self.daily_used >= self.daily:
                policy = "DAILY"
            elif search and len(self._search) >= self.search_per_second:
                policy = "SECONDLY"
            elif not search and len(self._recent) >= self.per_interval:
                policy = "TEN_SECONDLY_ROLLING"
            if policy is None:
                self.daily_used += 1
                (self._search if search else self._recent).append(now)
            else:
                self.rejected += 1
            headers: dict[str, str] = {}
            if not search:
                headers.update(
                    {
                        "X-HubSpot-RateLimit-Daily": str(self.daily),
                        "X-HubSpot-RateLimit-Daily-Remaining": str(
                            max(0, self.daily - self.daily_used)
                        ),
                    }
                )
                headers.update(
                    {
                        "X-HubSpot-RateLimit-Interval-Milliseconds": str(
                            int(self.interval_seconds * 1000)
                        ),
                        "X-HubSpot-RateLimit-Max": str(self.per_interval),
                        "X-HubSpot-RateLimit-Remaining": str(
                            max(0, self.per_interval - len(self._recent))
                        ),
                    }
                )
            return RateDecision(policy, headers)

    def storm(self, requests: int, policy: str = "TEN_SECONDLY_ROLLING") -> None:
        """Answer the next ``requests`` API calls with 429 of ``policy``."""
        with self._lock:
            self._storm = [policy] * max(0, requests)

    def use_daily(self, used: int) -> None:
        """Set how much of today's allocation is used (``daily``: all of it)."""
        with self._lock:
            self.daily_used = max(0, used)

    def reset(self) -> None:
        with self._lock:
            self._recent.clear()
            self._search.clear()
            self.daily_used = 0
            self._storm = []
            self.rejected = 0
