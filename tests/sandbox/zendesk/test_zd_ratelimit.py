"""Rate limits: the 429 Zendesk sends, and how zenpy deals with it (it sleeps ``Retry-After``
seconds and retries; with a ``ratelimit_budget`` it gives up with ``RatelimitBudgetExceeded``)."""

from __future__ import annotations

import time
from typing import Any

import pytest
from zenpy.lib.exception import RatelimitBudgetExceeded

from syncwright.sandbox.zendesk._ratelimit import RateLimiter


def test_over_the_limit_is_429_with_retry_after(extra_zendesk: Any) -> None:
    env = extra_zendesk(requests_per_minute=3)
    with env.client() as api:
        answers = [api.get("/api/v2/users/me.json") for _ in range(4)]
    assert [r.status_code for r in answers] == [200, 200, 200, 429]
    assert [r.headers["X-Rate-Limit-Remaining"] for r in answers[:3]] == ["2", "1", "0"]
    limited = answers[3]
    assert limited.headers["X-Rate-Limit"] == "3"
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
    assert limited.headers["content-type"].startswith("text/plain")
    assert limited.text == "Number of allowed API requests per minute exceeded"


def test_zenpy_waits_retry_after_and_succeeds(extra_zendesk: Any, make_zenpy: Any) -> None:
    env = extra_zendesk(requests_per_minute=2, rate_window_seconds=1.0)
    zenpy = make_zenpy(env)
    started = time.monotonic()
    emails = [zenpy.users.me().email for _ in range(4)]
    assert emails == ["agent@example.com"] * 4
    assert env.emulator.limiter.rejected >= 1
    assert time.monotonic() - started >= 0.9  # zenpy slept on Retry-After: 1


def test_429_storm_exhausts_zenpy_ratelimit_budget(zendesk: Any, make_zenpy: Any) -> None:
    with zendesk.admin() as admin:
        admin.put(
            "/_sandbox/faults", json={"rate_limit_storm": {"requests": 50, "retry_after": 30}}
        ).raise_for_status()
    zenpy = make_zenpy(ratelimit_budget=1)
    started = time.monotonic()
    with pytest.raises(RatelimitBudgetExceeded):
        zenpy.users.me()
    assert time.monotonic() - started < 5
    with zendesk.admin() as admin:
        assert admin.get("/_sandbox/stats").json()["rate_limited"] == 1


def test_storm_with_short_retry_after_is_ridden_out(zendesk: Any, make_zenpy: Any) -> None:
    with zendesk.admin() as admin:
        admin.put("/_sandbox/faults", json={"rate_limit_storm": {"requests": 1, "retry_after": 1}})
    assert make_zenpy().users.me().role == "admin"
    assert zendesk.emulator.limiter.rejected == 1


def test_fixed_window_with_a_fake_clock() -> None:
    now = [100.0]
    limiter = RateLimiter(2, window_seconds=60, clock=lambda: now[0])
    assert [limiter.take().allowed for _ in range(3)] == [True, True, False]
    now[0] += 45
    refused = limiter.take()
    assert (refused.allowed, refused.retry_after) == (False, 15)
    assert refused.headers()["Retry-After"] == "15"
    now[0] += 15
    assert limiter.take().allowed and limiter.take().remaining == 0
