"""Engine creation and schema upgrades for syncwright's database."""

from __future__ import annotations

import contextlib
import threading
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import event
from sqlalchemy.engine import Engine

from syncwright.store._sqlite_writers import serialise_writers

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


class Database:
    """One database URL, one engine, shared by our tables and the workflow engine."""

    def __init__(self, url: str, *, pool_size: int = 10) -> None:
        self.url = _normalise_url(url)
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
