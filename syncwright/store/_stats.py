"""How much work this process asks of its database: statements (reads and writes) and commits.

Counted by SQLAlchemy engine events, so it covers everything on the engine: our tables and
DBOS's checkpoints alike (DBOS is handed this engine). ``syncwright_db_statements_total`` and
``syncwright_db_commits_total`` (docs/telemetry.md) expose the counts; the drain benchmark
divides them by the events it drained.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

from syncwright.store._sqlite_writers import is_write

_WROTE = "syncwright_wrote"  # connection.info: whose tables the open transaction wrote first
_OURS = "sw_"  # our tables' prefix; everything else is the workflow engine's (DBOS)


@dataclass(frozen=True)
class StatementCounts:
    reads: int
    writes: int
    commits: int  # of transactions that wrote: each held the database's write lock
    read_commits: int  # of transactions that only read (no write lock on SQLite)
    engine_commits: int = 0  # of the ``commits``, those that began by writing DBOS's tables

    @property
    def statements(self) -> int:
        return self.reads + self.writes


class StatementCounter:
    """Counts statements and commits on one engine (thread-safe; a few hundred ns each)."""

    def __init__(self, engine: Engine) -> None:
        self._lock = threading.Lock()
        self._reads = self._writes = self._commits = self._read_commits = 0
        self._engine_commits = 0
        event.listen(engine, "before_cursor_execute", self._statement)
        event.listen(engine, "commit", self._commit)
        event.listen(engine, "rollback", self._rollback)

    def _statement(self, conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        write = is_write(statement)
        if write and _WROTE not in conn.info:
            head = statement[:60]
            conn.info[_WROTE] = "ours" if _OURS in head else "engine"
        with self._lock:
            if write:
                self._writes += 1
            else:
                self._reads += 1

    def _commit(self, conn: Any) -> None:
        wrote = conn.info.pop(_WROTE, None)
        with self._lock:
            if wrote is None:
                self._read_commits += 1
                return
            self._commits += 1
            if wrote == "engine":
                self._engine_commits += 1

    def _rollback(self, conn: Any) -> None:
        conn.info.pop(_WROTE, None)

    def counts(self) -> StatementCounts:
        with self._lock:
            return StatementCounts(
                self._reads, self._writes, self._commits, self._read_commits, self._engine_commits
            )
