"""Backoff schedule: exponential, jittered within bounds, Retry-After honoured and capped."""

from __future__ import annotations

import random

from syncwright.engine import RetryPolicy


def test_delays_grow_exponentially_up_to_the_cap_without_jitter() -> None:
    policy = RetryPolicy(base_delay_seconds=0.5, max_delay_seconds=3.0, jitter=False)
    assert [policy.delay(n) for n in range(1, 6)] == [0.5, 1.0, 2.0, 3.0, 3.0]


def test_jitter_stays_between_half_and_full_delay() -> None:
    policy = RetryPolicy(base_delay_seconds=1.0, max_delay_seconds=100.0)
    rng = random.Random(1)
    delays = [policy.delay(3, rng=rng) for _ in range(200)]
    assert all(2.0 <= d <= 4.0 for d in delays)
    assert len({round(d, 6) for d in delays}) > 100  # actually spread, not constant


def test_retry_after_wins_when_longer_and_is_capped() -> None:
    policy = RetryPolicy(base_delay_seconds=0.1, max_retry_after_seconds=30.0, jitter=False)
    assert policy.delay(1, retry_after=5.0) == 5.0
    assert policy.delay(1, retry_after=0.01) == 0.1  # our own schedule when it is longer
    assert policy.delay(1, retry_after=3600.0) == 30.0
