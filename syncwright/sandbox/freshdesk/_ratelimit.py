"""Freshdesk's per-minute account rate limit, and 429 storms on demand.

Freshdesk counts calls per account per minute, every agent and app sharing the pool, failed
calls included. Each answer carries ``X-RateLimit-Total``, ``X-RateLimit-Remaining`` and
``X-RateLimit-Used-CurrentRequest``; over the limit it answers 429 with ``Retry-After`` in
seconds (../shared/vendor/freshdesk/errors-and-rate-limits.facts.json;
https://developers.freshdesk.com/api/#ratelimit). The counting is the sandbox's fixed window
(``syncwright/sandbox/_ratelimit.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

from syncwright.sandbox._ratelimit import WindowDecision, WindowLimiter


@dataclass(frozen=True)
class RateDecision(WindowDecision):
    def headers(self) -> dict[str, str]:
        headers = {
            "X-RateLimit-Total": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            # Freshdesk charges extra credits for include=...; the emulator counts one per call.
            "X-RateLimit-Used-CurrentRequest": "1",
        }
        if self.retry_after is not None:
            headers["Retry-After"] = str(self.retry_after)
        return headers


class RateLimiter(WindowLimiter):
    def take(self) -> RateDecision:
        return RateDecision(**vars(self.decide()))
