"""Engine creation and schema upgrades for syncwright's database."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

from syncwright.store._sqlite_writers import serialise_writers
from syncwright.store._stats import StatementCounter

_MIGRATIONS = Path(__file__).parent / "migrations"


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def _normalise_url(url: str) -> str:
    # Users write postgresql://...; we ship psycopg 3, whose SQLAlchemy dialect needs naming.
    if url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url[len("postgresql://") :]
    if url.startswith("postgres://"):
        return "postgresql+psycopg://" + url[len("postgres://") :]
    return url


def _enable_sqlite_wal(engine: Engine) -> None:
    """WAL lets readers run beside the single writer; busy_timeout waits instead of failing.

    DBOS does not set these itself (see DESIGN.md section 2), so the same engine is handed to it.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        # NORMAL is durable across process crashes in WAL mode (only an OS crash can lose the
        # last transactions), which is the failure model the inbox promises.
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        # Checkpoints run in the background (Database._start_checkpointer), not inside whichever
        # commit crosses the threshold: that commit would stall every request waiting on it.
        cursor.execute("PRAGMA wal_autocheckpoint=0")
        cursor.close()


@dataclass
class _Unit:
    """The transaction open in this context, and what to do once it has committed."""

    conn: Connection
    after_commit: list[Callable[[], None]] = field(default_factory=list)


class Database:
    """One database URL, one engine, shared by our tables and the workflow engine.

    Our stores open transactions with :meth:`begin` and read with :meth:`connect`: inside an
    outer ``begin()`` (in the same thread or task) both use the outer transaction, so several
    stores' writes (a step's ledger row, audit entry and write memory) commit together, once.
    """

    def __init__(self, url: str, *, pool_size: int = 10) -> None:
        self.url = _normalise_url(url)
        self._unit: ContextVar[_Unit | None] = ContextVar(f"syncwright-db-{id(self)}", default=None)
        if is_sqlite(self.url):
            self._prepare_sqlite_path()
            self.engine = sa.create_engine(
                self.url,
                connect_args={"timeout": 30, "check_same_thread": False},
                pool_size=pool_size,
                max_overflow=pool_size,
            )
            _enable_sqlite_wal(self.engine)
            serialise_writers(self.engine)
            self._start_checkpointer()
        else:
            self.engine = sa.create_engine(
                self.url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True
            )
        # Statements and commits this process sends (``syncwright_db_*_total`` metrics).
        self.statements = StatementCounter(self.engine)

    def _start_checkpointer(self, interval_seconds: float = 1.0) -> None:
        """Copy the WAL back into the database file every second, without blocking writers
        (PASSIVE), so the WAL stays small while no commit pays for the copy."""
        self._stop_checkpoints = threading.Event()

        def loop() -> None:
            while not self._stop_checkpoints.wait(interval_seconds):
                # A busy or closing database: the next round tries again.
                with contextlib.suppress(Exception), self.engine.connect() as conn:
                    conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")

        self._checkpointer = threading.Thread(target=loop, name="sqlite-checkpoint", daemon=True)
        self._checkpointer.start()

    @contextlib.contextmanager
    def begin(self) -> Iterator[Connection]:
        """A transaction: the one already open in this context (its opener commits it), else a
        new one, committed when the block ends and rolled back if it raises."""
        unit = self._unit.get()
        if unit is not None:
            yield unit.conn
            return
        with self.engine.begin() as conn:
            unit = _Unit(conn)
            token = self._unit.set(unit)
            try:
                yield conn
            finally:
                self._unit.reset(token)
        for callback in unit.after_commit:  # reached only once the commit succeeded
            callback()

    @contextlib.contextmanager
    def connect(self) -> Iterator[Connection]:
        """A connection to read with: the open transaction's (it sees its own writes), else
        one of the pool's."""
        unit = self._unit.get()
        if unit is not None:
            yield unit.conn
            return
        with self.engine.connect() as conn:
            yield conn

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` once what was written so far is committed: at the end of the open
        transaction, or now if none is open. For in-memory caches of rows: a cache must never
        hold a row that a rollback took back."""
        unit = self._unit.get()
        if unit is None:
            callback()
        else:
            unit.after_commit.append(callback)

    @property
    def is_sqlite(self) -> bool:
        return is_sqlite(self.url)

    def _prepare_sqlite_path(self) -> None:
        path = self.url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).expanduser().resolve().parent.mkdir(parents=True, exist_ok=True)

    def upgrade(self) -> None:
        """Bring our tables to the newest migration (``syncwright db upgrade``)."""
        config = AlembicConfig()
        config.set_main_option("script_location", str(_MIGRATIONS))
        with self.engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")

    def current_revision(self) -> str | None:
        with self.engine.connect() as connection:
            if not sa.inspect(connection).has_table("alembic_version"):
                return None
            row = connection.execute(sa.text("SELECT version_num FROM alembic_version")).first()
            return str(row[0]) if row else None

    def dispose(self) -> None:
        if self.is_sqlite:
            self._stop_checkpoints.set()
            self._checkpointer.join(5)
            with contextlib.suppress(Exception), self.engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        self.engine.dispose()
