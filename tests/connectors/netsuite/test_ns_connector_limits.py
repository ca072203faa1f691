"""NetSuite connector: this process never breaches the account's concurrency limit."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

from syncwright.connectors.netsuite.outbound import upsert_customer
from syncwright.errors import SyncwrightError, TransientError
from syncwright.sandbox import FaultPlan
from tests._support import wait_until

if TYPE_CHECKING:
    from tests.connectors.netsuite.conftest import Emulator, NsWorld

THREADS = 20
SLOW_EVERYTHING = FaultPlan(
    latency_ms=80, only_methods=frozenset({"GET", "POST", "PUT", "PATCH", "DELETE"})
)


def _burst(world: NsWorld, prefix: str) -> list[Any]:
    """20 threads released together, each upserting a customer."""
    barrier = threading.Barrier(THREADS)

    def one(n: int) -> Any:
        barrier.wait()
        try:
            return upsert_customer(world.ctx(), "netsuite", world.account(f"{prefix}_{n}"))
        except SyncwrightError as exc:
            return exc

    with ThreadPoolExecutor(THREADS) as pool:
        return list(pool.map(one, range(THREADS)))


def _world(emulator: Emulator, directory: Path, concurrency: int) -> NsWorld:
    from tests.connectors.netsuite.conftest import make_ns_world

    # A request another test left stalled on the shared emulator still holds an account slot.
    governor = emulator.sandbox.governor
    wait_until(lambda: governor.in_flight == 0, timeout=10, what="emulator idle")
    return make_ns_world(emulator, directory, concurrency=concurrency)


def test_limiter_keeps_in_flight_within_the_account_limit(
    emulator: Emulator, tmp_path: Path
) -> None:
    sandbox = emulator.sandbox
    sandbox.set_concurrency_limit(3)
    world = _world(emulator, tmp_path, concurrency=3)
    try:
        sandbox.configure_faults(SLOW_EVERYTHING)
        results = _burst(world, "gov")
        assert all(isinstance(r, dict) for r in results), results
        limiter = world.connector.limiter
        assert limiter.max_in_flight == 3  # the limit was used, never exceeded
        assert sandbox.max_in_flight_observed <= 3
        assert sandbox.breaches == 0
        assert len({r["native_id"] for r in results}) == THREADS
        stats = world.connector.stats()
        assert stats["concurrency_limit"] == 3
        assert stats["in_flight"] == 0
        assert 0 < stats["utilisation"] <= 1
    finally:
        world.runtime.close()


def test_without_a_matching_limit_netsuite_refuses_with_a_transient_error(
    emulator: Emulator, tmp_path: Path
) -> None:
    """The contrast: a connection allowed 10 in flight against an account limit of 3."""
    sandbox = emulator.sandbox
    sandbox.set_concurrency_limit(3)
    world = _world(emulator, tmp_path, concurrency=10)
    try:
        sandbox.configure_faults(SLOW_EVERYTHING)
        results = _burst(world, "over")
        refused = [r for r in results if isinstance(r, TransientError)]
        assert refused
        assert refused[0].code == "netsuite.CONCURRENCY_LIMIT_EXCEEDED"
        assert sandbox.breaches == len(refused)
        assert world.connector.limiter.max_in_flight > 3
    finally:
        world.runtime.close()
