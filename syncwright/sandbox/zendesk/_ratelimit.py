"""Zendesk's per-minute account rate limit, and 429 storms on demand.

https://developer.zendesk.com/api-reference/introduction/rate-limits/: every answer carries
``X-Rate-Limit`` / ``X-Rate-Limit-Remaining`` (and the newer ``ratelimit-limit``,
``ratelimit-remaining``, ``ratelimit-reset``); over the limit Zendesk answers 429 with
``Retry-After`` in whole seconds (see ../shared/vendor/RATE-LIMITS.json). The counting is
the sandbox's fixed window (``syncwright/sandbox/_ratelimit.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

from syncwright.sandbox._ratelimit import WindowDecision, WindowLimiter


@dataclass(frozen=True)
class RateDecision(WindowDecision):
    def headers(self) -> dict[str, str]:
        headers = {
            "X-Rate-Limit": str(self.limit),
            "X-Rate-Limit-Remaining": str(self.remaining),
            "ratelimit-limit": str(self.limit),
            "ratelimit-remaining": str(self.remaining),
            "ratelimit-reset": str(self.reset_seconds),
        }
        if self.retry_after is not None:
            headers["Retry-After"] = str(self.retry_after)
        return headers


class RateLimiter(WindowLimiter):
    def take(self) -> RateDecision:
        return RateDecision(**vars(self.decide()))
