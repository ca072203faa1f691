"""``limits.scope: shared``: one NetSuite concurrency budget for several processes, held in the
database (SQLite and PostgreSQL), with leases a killed process cannot keep, and a vendor's
Retry-After seen by every process."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import sqlalchemy as sa
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from syncwright.config import load_settings
from syncwright.connectors import VendorHttpClient
from syncwright.runtime import Runtime
from syncwright.runtime_budgets import SharedConcurrencyLimiter, SharedRateLimiter
from syncwright.sandbox import FaultPlan, ServerThread
from syncwright.store import Database
from syncwright.store.tables import budget_leases, budgets
from tests._support import wait_until

if TYPE_CHECKING:
    from tests.connectors.netsuite.conftest import Emulator

ROOT = Path(__file__).resolve().parents[3]
WORKERS = 3
THREADS = 6
REQUESTS = 12
ACCOUNT_LIMIT = 3
SLOW_READS = FaultPlan(latency_ms=60, only_methods=frozenset({"GET"}))


def _run_workers(
    emulator: Emulator, directory: Path, db_url: str, scope: str
) -> list[dict[str, Any]]:
    """Three processes, each 6 threads x 12 GETs, released together against one account."""
    from tests.connectors.netsuite.conftest import write_ns_config

    config = write_ns_config(
        directory,
        url=emulator.url,
        credentials=emulator.credentials,
        jpy_currency="1",
        jp_subsidiary="4",
        concurrency=ACCOUNT_LIMIT,
        database_url=db_url,
        limits_scope=scope,
    )
    Runtime(load_settings(config)).close()  # migrate once, before the processes race to
    go = directory / "go"
    workers = []
    for n in range(WORKERS):
        ready = directory / f"ready-{n}"
        command = [sys.executable, "-m", "tests.connectors.netsuite._budget_worker"]
        args = [str(config), str(ready), str(go), str(REQUESTS), str(THREADS)]
        workers.append(
            subprocess.Popen([*command, *args], cwd=ROOT, stdout=subprocess.PIPE, text=True)
        )
    try:
        wait_until(
            lambda: (
                all((directory / f"ready-{n}").exists() for n in range(WORKERS))
                or any(worker.poll() is not None for worker in workers)
            ),
            timeout=120,
            what="every worker process built its runtime (or one ended)",
        )
        go.touch()
        outputs = [worker.communicate(timeout=120)[0] for worker in workers]
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
                worker.wait()
    assert [worker.returncode for worker in workers] == [0] * WORKERS, outputs
    return [json.loads(out.strip().splitlines()[-1]) for out in outputs]


def test_three_processes_share_one_budget_and_never_breach_it(
    emulator: Emulator, tmp_path: Path, db_url: str
) -> None:
    emulator.sandbox.set_concurrency_limit(ACCOUNT_LIMIT)
    emulator.sandbox.configure_faults(SLOW_READS)
    reports = _run_workers(emulator, tmp_path, db_url, "shared")

    outcomes = [outcome for report in reports for outcome in report["outcomes"]]
    assert outcomes == ["ok"] * WORKERS * REQUESTS  # nothing refused, nothing lost
    assert emulator.sandbox.breaches == 0
    assert emulator.sandbox.max_in_flight_observed <= ACCOUNT_LIMIT
    # Each process alone stayed within the shared limit too (it never had it to itself).
    assert all(1 <= report["max_in_flight"] <= ACCOUNT_LIMIT for report in reports)
    db = Database(db_url)
    try:
        with db.engine.connect() as conn:
            held = conn.execute(
                sa.select(sa.func.count()).where(budget_leases.c.holder.is_not(None))
            ).scalar_one()
    finally:
        db.dispose()
    assert held == 0  # every slot was given back


def test_per_process_limits_breach_the_account_limit_the_shared_ones_keep(
    emulator: Emulator, tmp_path: Path, sqlite_url: str
) -> None:
    """The contrast: the same three processes, each with its own limit of 3."""
    emulator.sandbox.set_concurrency_limit(ACCOUNT_LIMIT)
    emulator.sandbox.configure_faults(SLOW_READS)
    reports = _run_workers(emulator, tmp_path, sqlite_url, "process")
    refused = [o for report in reports for o in report["outcomes"] if o != "ok"]
    assert refused
    assert set(refused) == {"netsuite.CONCURRENCY_LIMIT_EXCEEDED"}
    assert emulator.sandbox.breaches == len(refused)


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    database = Database(db_url)
    database.upgrade()
    try:
        yield database
    finally:
        database.dispose()


def _refuse(request: Request) -> Response:
    return Response(status_code=429, headers={"Retry-After": "120"})


@pytest.fixture(scope="module")
def refusing_vendor() -> Iterator[str]:
    """A vendor answering every request 429 with Retry-After: 120."""
    with ServerThread(Starlette(routes=[Route("/x", _refuse)])) as server:
        yield server.url


def test_a_dead_holders_slot_comes_back_when_its_lease_expires(db: Database) -> None:
    """A process killed inside a request never gives its slot back: the lease runs out."""
    dead = SharedConcurrencyLimiter(db.engine, "erp", 1, lease_seconds=0.0)
    held = dead.slot()
    held.__enter__()  # and never leaves: the process died here
    alive = SharedConcurrencyLimiter(db.engine, "erp", 1, lease_seconds=60.0)
    with alive.slot():
        assert alive.in_flight == 1
        # Now the live process holds the only slot, for 60 s: nobody else gets it.
        third = SharedConcurrencyLimiter(db.engine, "erp", 1, lease_seconds=60.0)
        assert not third._claim("someone-else")
    assert third._claim("someone-else")  # given back on leaving the slot


def test_retry_after_from_the_vendor_blocks_the_connection_for_every_process(
    db: Database, refusing_vendor: str
) -> None:
    here = SharedRateLimiter(db.engine, "crm", 10.0)
    elsewhere = SharedRateLimiter(db.engine, "crm", 10.0)  # another process's view
    assert elsewhere._take_token() == 0.0  # not blocked yet
    with VendorHttpClient(timeout=5, rate=here) as client:
        assert client._http_request("GET", refusing_vendor + "/x").status_code == 429
    wait = elsewhere._take_token()
    assert 100 < wait <= 120  # held off until the vendor's Retry-After has passed
    with db.engine.connect() as conn:
        assert conn.execute(sa.select(budgets.c.blocked_until)).scalar_one() > 0


def test_requests_per_window_are_counted_across_limiters(db: Database) -> None:
    # 2.5 per second: 2 per 0.8 s window. 0.02 per second: 1 per 50 s window.
    assert (
        SharedRateLimiter(db.engine, "a", 2.5).per_window,
        SharedRateLimiter(db.engine, "a", 2.5).window_seconds,
    ) == (2, 0.8)
    first = SharedRateLimiter(db.engine, "stripe", 0.02)
    second = SharedRateLimiter(db.engine, "stripe", 0.02)
    assert (first.per_window, first.window_seconds) == (1, 50.0)
    assert first._take_token() == 0.0
    # The window's one request is spent, whichever process took it.
    assert 40 < second._take_token() <= 50
    assert 40 < first._take_token() <= 50
