"""One writer at a time per process on SQLite, queued in Python instead of in SQLite's sleeps.

SQLite allows one write transaction per database. A connection that finds the write lock taken
runs SQLite's busy handler, which *sleeps* and polls again: 1, 2, 5, 10, 15, 20, 25, 25, 25,
50, 50, 100 ms. Under load (16 workflow workers recording steps, the dispatcher, the queue
poller, the ledger) most of a commit's latency became those sleeps: a profile of the
Stripe -> NetSuite drain found 70 % of database wall time in them. Here a write waits on a
process-wide lock instead, so it starts the moment the previous writer commits.

How: before a connection's first write statement in a transaction it takes the lock; it gives
it back after the dialect's COMMIT or ROLLBACK returns (also when the pool resets or discards
the connection). Reads take nothing: WAL lets them run beside the writer. Other processes
still meet SQLite's busy handler, as before, and a lock held past ``timeout`` seconds (a
bug elsewhere) is not waited on forever: the write goes ahead and SQLite decides.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

log = logging.getLogger("syncwright.store")

# How statements that write begin; anything else (SELECT, PRAGMA...) is a read. DDL and an
# explicit BEGIN IMMEDIATE/EXCLUSIVE (DBOS's migrations use one) take SQLite's write lock too,
# so they queue here first: a connection holding SQLite's lock must never wait for ours. A CTE
# can hold a write, so WITH statements are searched for one.
_WRITE_VERBS = ("INSERT", "UPDATE", "DELETE", "REPLACE")
_WRITE_STARTS = (*_WRITE_VERBS, "CREATE", "DROP", "ALTER", "BEGIN IMMEDIATE", "BEGIN EXCLUSIVE")


def is_write(statement: str) -> bool:
    head = " ".join(statement[:40].split()).upper()
    if head.startswith(_WRITE_STARTS):
        return True
    if head.startswith("WITH"):
        upper = statement.upper()
        return any(verb in upper for verb in _WRITE_VERBS)
    return False


def _raw(connection: Any) -> Any:
    """The sqlite3 connection behind a pool proxy (or the sqlite3 connection itself)."""
    return getattr(connection, "dbapi_connection", connection)


class WriterQueue:
    """The process-wide write lock of one SQLite engine, and which connection holds it."""

    def __init__(self, timeout: float) -> None:
        self._lock = threading.Lock()
        self._holder: int | None = None  # id() of the sqlite3 connection holding the lock
        self._holder_thread: int | None = None  # and the thread that took it
        self._timeout = timeout

    def enter(self, dbapi_connection: Any) -> None:
        key = id(dbapi_connection)
        if self._holder == key:
            return
        if self._holder is not None and self._holder_thread == threading.get_ident():
            # This thread's own open write transaction holds the lock: waiting would only end
            # in the timeout. The write belongs in that transaction (``Database.begin``).
            raise RuntimeError(
                "a second SQLite write transaction in a thread that holds one open; "
                "write through Database.begin() so the writes join the open transaction"
            )
        if not self._lock.acquire(timeout=self._timeout):
            log.warning("SQLite writer lock held over %.0fs; writing without it", self._timeout)
            return
        self._holder_thread = threading.get_ident()  # before the holder: see the check above
        self._holder = key

    def leave(self, dbapi_connection: Any) -> None:
        if self._holder == id(dbapi_connection):
            self._holder = None
            self._holder_thread = None
            self._lock.release()


def serialise_writers(engine: Engine, timeout: float = 30.0) -> WriterQueue:
    queue = WriterQueue(timeout)
    dialect = engine.dialect
    do_commit, do_rollback = dialect.do_commit, dialect.do_rollback

    @event.listens_for(engine, "before_cursor_execute")
    def _before(conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if is_write(statement):
            queue.enter(_raw(conn.connection))

    # Released after the database has finished the COMMIT/ROLLBACK, not when SQLAlchemy
    # announces it (its commit event fires before): the next writer must find the lock free.
    def commit(dbapi_connection: Any) -> None:
        try:
            do_commit(dbapi_connection)
        finally:
            queue.leave(_raw(dbapi_connection))

    def rollback(dbapi_connection: Any) -> None:
        try:
            do_rollback(dbapi_connection)
        finally:
            queue.leave(_raw(dbapi_connection))

    dialect.do_commit = commit  # type: ignore[method-assign]
    dialect.do_rollback = rollback  # type: ignore[method-assign]

    @event.listens_for(engine, "close")
    def _closed(dbapi_connection: Any, _record: Any) -> None:
        queue.leave(dbapi_connection)

    @event.listens_for(engine, "invalidate")
    def _invalidated(dbapi_connection: Any, _record: Any, _exc: Any) -> None:
        queue.leave(dbapi_connection)

    return queue
