"""SQLite writers queue on a process-wide lock instead of SQLite's sleeping busy handler."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from syncwright.store import Database
from syncwright.store._sqlite_writers import is_write

counters = sa.Table(
    "writer_test",
    sa.MetaData(),
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("worker", sa.Integer, nullable=False),
    sa.Column("n", sa.Integer, nullable=False),
)


def _database_without_busy_wait(tmp_path: Path) -> Database:
    """SQLite's own busy handler off: any two writers that meet fail with 'database is locked'
    unless syncwright's queue keeps them apart."""
    db = Database(f"sqlite:///{tmp_path / 'writers.db'}")
    counters.create(db.engine)
    db.engine.dispose()  # new connections get the listener below

    @sa.event.listens_for(db.engine, "connect")
    def _no_busy_wait(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute("PRAGMA busy_timeout=0")

    return db


def test_concurrent_writers_never_meet_in_sqlite(tmp_path: Path) -> None:
    db = _database_without_busy_wait(tmp_path)

    def write(worker: int) -> None:
        for n in range(40):
            with db.engine.begin() as conn:
                conn.execute(sa.insert(counters).values(worker=worker, n=n))
                time.sleep(0.0005)  # hold the write lock while others want it
                conn.execute(sa.insert(counters).values(worker=worker, n=-n))
                conn.execute(sa.select(sa.func.count()).select_from(counters)).scalar()

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(write, range(8)))  # re-raises any "database is locked"
    with db.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(counters)).scalar() == 640
    db.dispose()


def test_the_lock_is_given_back_on_rollback(tmp_path: Path) -> None:
    db = _database_without_busy_wait(tmp_path)
    with pytest.raises(RuntimeError), db.engine.begin() as conn:
        conn.execute(sa.insert(counters).values(worker=1, n=1))
        raise RuntimeError("business rule failed mid-transaction")
    done = threading.Event()

    def other_thread() -> None:
        with db.engine.begin() as conn:
            conn.execute(sa.insert(counters).values(worker=2, n=1))
        done.set()

    threading.Thread(target=other_thread, daemon=True).start()
    assert done.wait(5), "a rolled-back transaction kept the writer lock"
    with db.engine.connect() as conn:
        rows = conn.execute(sa.select(counters.c.worker)).scalars().all()
    assert rows == [2]
    db.dispose()


def test_reads_run_beside_a_writer(tmp_path: Path) -> None:
    db = _database_without_busy_wait(tmp_path)
    with db.engine.begin() as writer:
        writer.execute(sa.insert(counters).values(worker=1, n=1))
        # WAL: another connection reads the last committed state while the write is open.
        result: list[int] = []
        reader = threading.Thread(
            target=lambda: result.append(
                db.engine.connect()
                .execute(sa.select(sa.func.count()).select_from(counters))
                .scalar()
            )
        )
        reader.start()
        reader.join(5)
        assert result == [0]
    db.dispose()


@pytest.mark.parametrize(
    ("statement", "writes"),
    [
        ("INSERT INTO inbox VALUES (1)", True),
        ("  update inbox SET status = 'x'", True),
        ("DELETE FROM inbox", True),
        ("REPLACE INTO t VALUES (1)", True),
        ("WITH x AS (SELECT 1) UPDATE t SET a = 1", True),
        ("WITH x AS (SELECT 1) SELECT * FROM x", False),
        ("BEGIN IMMEDIATE", True),
        ("begin   exclusive", True),
        ("CREATE TABLE t (a INTEGER)", True),
        ("DROP INDEX ix", True),
        ("BEGIN", False),
        ("SELECT * FROM inbox", False),
        ("PRAGMA wal_checkpoint(PASSIVE)", False),
    ],
)
def test_write_statements_are_told_from_reads(statement: str, writes: bool) -> None:
    assert is_write(statement) is writes
