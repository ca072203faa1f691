"""The concurrency limiter counts the requests that had to wait for a slot (for /metrics)."""

from __future__ import annotations

import threading

from syncwright.connectors._base.limits import ConcurrencyLimiter
from tests._support import wait_until


def test_a_request_that_finds_the_limit_full_is_counted() -> None:
    limiter = ConcurrencyLimiter(1)
    release = threading.Event()
    holding = threading.Event()

    def hold() -> None:
        with limiter.slot():
            holding.set()
            release.wait(30)

    def queue_up() -> None:
        with limiter.slot():
            pass

    first = threading.Thread(target=hold)
    first.start()
    holding.wait(30)
    second = threading.Thread(target=queue_up)
    second.start()
    wait_until(lambda: limiter.waits == 1, what="the second request to wait")
    assert limiter.in_flight == 1
    release.set()
    first.join(30)
    second.join(30)
    assert limiter.waits == 1 and limiter.wait_seconds > 0 and limiter.in_flight == 0
    with limiter.slot():  # a free slot: no wait
        pass
    assert limiter.waits == 1
