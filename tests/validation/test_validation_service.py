"""The ValidationService: cache, deadline and fallback policies, single flight, config."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

import pytest

from syncwright.errors import ConfigError
from syncwright.sandbox import FaultPlan
from syncwright.validation import InvalidSubject, UnknownCheck, ValidationPolicy
from syncwright.validation._cache import TTLCache
from tests._support import wait_until

if TYPE_CHECKING:
    from tests.validation.conftest import MakeWorld, World

READS = frozenset({"GET", "POST"})  # SuiteQL is a POST


def _subject(world: World, gid: str = "acc-1") -> dict:
    return {"account": world.account(gid)}


def test_second_call_is_answered_from_cache_without_asking_netsuite(world: World) -> None:
    world.customer("acc-1", creditHoldOverride="ON")
    before = world.requests
    first = world.service.validate("credit", _subject(world))
    assert (first.source, first.ok) == ("erp", False)
    assert world.requests == before + 1

    second = world.service.validate("credit", _subject(world))
    assert second.source == "cache"
    assert second.ok is False and second.reasons == first.reasons
    assert second.erp == "netsuite"
    assert world.requests == before + 1  # NetSuite was not asked again
    assert second.elapsed_ms < 50

    # Another check, or another subject, is another cache entry.
    assert world.service.validate("customer", _subject(world)).source == "erp"
    assert world.service.validate("credit", _subject(world, "acc-2")).source == "erp"
    assert world.service.stats()["cache"] == 1


def test_cache_expires_after_its_ttl(make_world: MakeWorld) -> None:
    world = make_world(cache_ttl_seconds=0.3)
    assert world.service.validate("credit", _subject(world)).source == "erp"
    assert world.service.validate("credit", _subject(world)).source == "cache"
    time.sleep(0.35)
    assert world.service.validate("credit", _subject(world)).source == "erp"


def test_deadline_answers_from_the_fallback_in_time(make_world: MakeWorld) -> None:
    world = make_world(deadline_seconds=0.4)
    world.sandbox.configure_faults(FaultPlan(latency_ms=1000, only_methods=READS))
    started = time.monotonic()
    result = world.service.validate("credit", _subject(world))
    elapsed = time.monotonic() - started
    assert result.source == "fallback"
    assert result.ok is None  # the default policy: unknown
    assert elapsed < 0.8
    assert 350 <= result.elapsed_ms < 800
    (reason,) = result.reasons
    assert reason.startswith("The ERP (netsuite) did not answer within 0.4 s")
    assert "the fallback policy 'unknown' applied" in reason

    # The ERP's late answer still lands in the cache for the next caller.
    wait_until(lambda: world.service.stats()["pending"] == 0, timeout=5)
    world.sandbox.configure_faults(FaultPlan())
    requests = world.requests
    again = world.service.validate("credit", _subject(world))
    assert (again.source, again.ok) == ("cache", True)
    assert world.requests == requests


def test_fallback_policy_and_deadline_from_the_connection_options(make_world: MakeWorld) -> None:
    world = make_world("      validation: {deadline_seconds: 0.3, fallback: deny}\n")
    assert world.service.policies["netsuite"] == ValidationPolicy(0.3, 30.0, "deny")
    world.sandbox.configure_faults(FaultPlan(latency_ms=800, only_methods=READS))
    result = world.service.validate("tax", _subject(world))
    assert (result.source, result.ok) == ("fallback", False)
    assert "did not answer within 0.3 s" in result.reasons[0]
    assert "'deny' applied" in result.reasons[0]
    assert result.elapsed_ms < 700


def test_allow_policy_and_an_unavailable_erp(make_world: MakeWorld) -> None:
    world = make_world(fallback="allow")
    world.sandbox.configure_faults(FaultPlan(error_5xx_rate=1.0, only_methods=READS))
    result = world.service.validate("customer", _subject(world))
    assert (result.source, result.ok) == ("fallback", True)
    assert "did not answer in time (unavailable: netsuite." in result.reasons[0]
    assert "'allow' applied" in result.reasons[0]

    # Fallback answers are not cached: once NetSuite is back, it answers.
    world.sandbox.configure_faults(FaultPlan())
    world.customer("acc-1")
    assert world.service.validate("customer", _subject(world)).source == "erp"


def test_concurrent_identical_checks_share_one_netsuite_call(make_world: MakeWorld) -> None:
    world = make_world()
    world.sandbox.configure_faults(FaultPlan(latency_ms=300, only_methods=READS))
    before = world.requests
    with ThreadPoolExecutor(4) as pool:
        results = list(
            pool.map(lambda _: world.service.validate("credit", _subject(world)), range(4))
        )
    assert {r.source for r in results} <= {"erp", "cache"}
    assert all(r.ok is True for r in results)
    assert world.requests == before + 1


def test_unknown_check_and_bad_subjects(world: World) -> None:
    with pytest.raises(UnknownCheck, match="credit, customer, products, tax"):
        world.service.validate("karma", _subject(world))
    with pytest.raises(InvalidSubject, match=r"account\.bill_to\.country"):
        bad = world.account("acc-1")
        bad["bill_to"]["country"] = "gb"
        world.service.validate("credit", {"account": bad})
    with pytest.raises(InvalidSubject, match="products check needs the deal"):
        world.service.validate("products", _subject(world))
    with pytest.raises(InvalidSubject, match="is not the account's global_id"):
        deal = world.deal("d", "someone-else", [])
        world.service.validate("credit", {"account": world.account("acc-1"), "deal": deal})
    assert world.requests == 0


def test_no_erp_connection_that_can_check(make_world: MakeWorld) -> None:
    world = make_world(fallback="deny")
    world.runtime.settings.connections["netsuite"].options["role"] = "billing"
    result = world.service.validate("credit", _subject(world))
    assert (result.source, result.ok, result.erp) == ("fallback", False, None)
    assert "No ERP connection can run the credit check" in result.reasons[0]


def test_bad_validation_options_stop_start_up(make_world: MakeWorld) -> None:
    with pytest.raises(ConfigError) as caught:
        make_world("      validation: {deadline_seconds: 0, fallback: maybe, retries: 3}\n")
    # The config check (NetSuite's options model) names each problem before anything starts.
    problems = [p.rsplit(" (line ", 1)[0] for p in sorted(caught.value.problems)]
    assert problems == [
        "connections.netsuite.options.validation.deadline_seconds: must be greater than 0",
        "connections.netsuite.options.validation.fallback: unknown value 'maybe' "
        "(one of: unknown, allow, deny)",
        "connections.netsuite.options.validation.retries: unknown option for vendor 'netsuite'; "
        "allowed here: deadline_seconds, cache_ttl_seconds, fallback",
    ]


def test_ttl_cache() -> None:
    now = [0.0]
    cache: TTLCache[str] = TTLCache(2, clock=lambda: now[0])
    cache.put("a", "A", 10)
    cache.put("b", "B", 5)
    cache.put("off", "X", 0)
    assert (cache.get("a"), cache.get("b"), cache.get("off")) == ("A", "B", None)
    now[0] = 6
    assert (cache.get("a"), cache.get("b"), len(cache)) == ("A", None, 1)
    cache.put("c", "C", 10)
    cache.put("d", "D", 10)  # over maxsize: the oldest write goes
    assert (cache.get("a"), cache.get("c"), cache.get("d")) == (None, "C", "D")
