"""Account-wide concurrency governance: 429 past the limit, and the numbers behind it."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from syncwright.sandbox import FaultPlan
from syncwright.sandbox.netsuite import ConcurrencyGovernor

CUSTOMER_110 = "/services/rest/record/v1/customer/110"


def _burst(ns, threads: int) -> list[httpx.Response]:
    """``threads`` signed GETs released together, each held in flight by injected latency."""
    barrier = threading.Barrier(threads)

    def one(_: int) -> httpx.Response:
        with ns.client() as client:
            barrier.wait()
            return client.get(CUSTOMER_110)

    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(one, range(threads)))


def test_parallel_requests_over_the_limit_get_429(ns) -> None:
    ns.sandbox.configure_faults(FaultPlan(latency_ms=500))
    responses = _burst(ns, 12)
    statuses = sorted(r.status_code for r in responses)
    refused = [r for r in responses if r.status_code == 429]
    assert refused, statuses
    assert set(statuses) == {200, 429}
    body = refused[0].json()
    assert body["status"] == 429
    assert body["title"] == "Too Many Requests"
    assert body["o:errorDetails"][0]["o:errorCode"] == "CONCURRENCY_LIMIT_EXCEEDED"

    sandbox = ns.sandbox
    assert sandbox.max_in_flight_observed == 5
    assert sandbox.breaches == len(refused)
    assert statuses.count(200) == 12 - len(refused)
    assert 0 < sandbox.utilisation <= 1

    stats = httpx.get(ns.url + "/_sandbox/stats").json()
    assert stats["max_in_flight_observed"] == 5
    assert stats["breaches"] == len(refused)
    assert stats["concurrency_limit"] == 5
    assert stats["in_flight"] == 0
    assert 0 < stats["utilisation"] <= 1


def test_limit_changes_at_runtime(ns) -> None:
    ns.sandbox.configure_faults(FaultPlan(latency_ms=400))
    response = httpx.post(ns.url + "/_sandbox/concurrency", json={"limit": 2})
    assert response.status_code == 200
    assert response.json()["concurrency_limit"] == 2
    responses = _burst(ns, 6)
    assert sum(r.status_code == 200 for r in responses) == 2
    assert ns.sandbox.max_in_flight_observed == 2
    assert ns.sandbox.breaches == 4
    assert httpx.post(ns.url + "/_sandbox/concurrency", json={"limit": 0}).status_code == 422


def test_admin_api_is_outside_governance_and_auth(ns) -> None:
    ns.sandbox.set_concurrency_limit(1)
    for _ in range(3):
        assert httpx.get(ns.url + "/_sandbox/stats").status_code == 200
    assert ns.sandbox.breaches == 0


def test_time_weighted_utilisation() -> None:
    now = [0.0]
    governor = ConcurrencyGovernor(2, clock=lambda: now[0])
    assert governor.try_acquire()  # t=0: 1 in flight
    now[0] = 1.0
    assert governor.try_acquire()  # t=1: 2 in flight
    now[0] = 2.0
    assert not governor.try_acquire()  # t=2: refused, still 2
    now[0] = 3.0
    governor.release()  # t=3: 1
    now[0] = 4.0
    governor.release()  # t=4: 0
    # (1/2 * 1 s) + (2/2 * 2 s) + (1/2 * 1 s) = 3 over 4 s
    assert governor.utilisation == pytest.approx(0.75)
    assert (governor.max_in_flight_observed, governor.breaches, governor.admitted) == (2, 1, 2)

    governor.limit = 4  # a licence change: later load weighs against the new limit
    assert governor.try_acquire()
    now[0] = 8.0
    assert governor.utilisation == pytest.approx((3 + 4 * 0.25) / 8)
    governor.reset()
    assert (governor.breaches, governor.max_in_flight_observed) == (0, 1)
    with pytest.raises(ValueError):
        governor.limit = 0
