"""Executor heartbeats, and the takeover of a dead executor's pending runs (DESIGN.md section 2).

DBOS's open-source library resumes a crashed executor's runs only when an executor with the
same id starts again. With several workers on one database that can be never: the host is
gone, or the worker was moved. So every worker that runs workflows writes a heartbeat row
every ``interval`` seconds, and checks the others: one whose heartbeat is older than
``takeover_after`` seconds is dead, and the first live worker to *claim* it (one conditional
UPDATE, so exactly one wins) hands its pending runs back to their queues, where any live worker
picks them up and resumes them from their last checkpoint. Runs keep their queue partition, so
an entity's events still apply in order.

Only executors of the same application version are taken over: a worker recovers only runs of
its own version. A dead executor that comes back heartbeats afresh and is live again.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from syncwright._time import as_utc, utcnow
from syncwright.engine._loop import DaemonLoop
from syncwright.store import Database
from syncwright.store.tables import executors

log = logging.getLogger("syncwright.engine")


@dataclass(frozen=True)
class ExecutorRow:
    executor_id: str
    application_version: str
    host: str
    pid: int
    started_at: datetime
    heartbeat_at: datetime
    taken_over_by: str | None
    taken_over_at: datetime | None
    runs_taken_over: int


class ExecutorRegistry:
    """The ``sw_executors`` table: who is alive, and who took over whom."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def beat(self, executor_id: str, application_version: str, *, starting: bool = False) -> None:
        """Record that ``executor_id`` is alive. ``starting`` begins a new life: a row left
        by an earlier process with this id (taken over or not) becomes this process's. A
        missing row (removed behind our back) is registered again."""
        now = utcnow()
        new_life: dict[str, object] = {
            "application_version": application_version,
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "started_at": now,
            "heartbeat_at": now,
            "taken_over_by": None,
            "taken_over_at": None,
            "runs_taken_over": 0,
        }
        values = new_life if starting else {"heartbeat_at": now}
        where = executors.c.executor_id == executor_id
        with self._db.engine.begin() as conn:
            if not conn.execute(sa.update(executors).where(where).values(**values)).rowcount:
                conn.execute(sa.insert(executors).values(executor_id=executor_id, **new_life))

    def stale(self, cutoff: datetime, *, application_version: str, exclude: str) -> list[str]:
        """Executors of this version, not yet taken over, silent since before ``cutoff``."""
        query = sa.select(executors.c.executor_id).where(
            executors.c.heartbeat_at < cutoff,
            executors.c.taken_over_by.is_(None),
            executors.c.application_version == application_version,
            executors.c.executor_id != exclude,
        )
        with self._db.engine.connect() as conn:
            return [str(row) for row in conn.execute(query).scalars()]

    def claim(self, dead: str, taker: str, cutoff: datetime) -> bool:
        """Make ``taker`` the one executor that takes ``dead`` over; False if another did, or
        ``dead`` has beaten again since it was found stale."""
        claim = (
            sa.update(executors)
            .where(
                executors.c.executor_id == dead,
                executors.c.heartbeat_at < cutoff,
                executors.c.taken_over_by.is_(None),
            )
            .values(taken_over_by=taker, taken_over_at=utcnow())
        )
        with self._db.engine.begin() as conn:
            return bool(conn.execute(claim).rowcount == 1)

    def record_takeover(self, dead: str, runs: int) -> None:
        with self._db.engine.begin() as conn:
            conn.execute(
                sa.update(executors)
                .where(executors.c.executor_id == dead)
                .values(runs_taken_over=runs)
            )

    def all(self) -> list[ExecutorRow]:
        with self._db.engine.connect() as conn:
            rows = conn.execute(sa.select(executors).order_by(executors.c.executor_id))
            return [_row(row._asdict()) for row in rows]


def _row(values: dict[str, Any]) -> ExecutorRow:
    for key in ("started_at", "heartbeat_at", "taken_over_at"):
        if values[key] is not None:
            values[key] = as_utc(values[key])
    return ExecutorRow(**values)


class Heartbeat:
    """A daemon thread: beat, then take over executors whose heartbeat went stale."""

    def __init__(
        self,
        registry: ExecutorRegistry,
        executor_id: str,
        application_version: str,
        *,
        recover: Callable[[str], int],
        interval_seconds: float,
        takeover_after_seconds: float,
    ) -> None:
        if takeover_after_seconds <= 2 * interval_seconds:
            raise ValueError(
                f"takeover_after_seconds ({takeover_after_seconds:g}) must be more than twice "
                f"heartbeat_seconds ({interval_seconds:g}), or a live executor looks dead"
            )
        self.registry = registry
        self.executor_id = executor_id
        self.application_version = application_version
        self._recover = recover
        self._interval = interval_seconds
        self._takeover_after = timedelta(seconds=takeover_after_seconds)
        self._loop = DaemonLoop("executor-heartbeat", self._run)

    def start(self) -> None:
        self.registry.beat(self.executor_id, self.application_version, starting=True)
        self._loop.start()

    def stop(self) -> None:
        self._loop.stop()

    def _run(self) -> None:
        while True:
            try:
                self.take_over_stale()
            except Exception:  # a database hiccup: the next round tries again
                log.exception("executor takeover check failed")
            if self._loop.stopped.wait(self._interval):
                return
            try:
                self.registry.beat(self.executor_id, self.application_version)
            except Exception:
                log.exception("executor heartbeat failed")

    def take_over_stale(self) -> dict[str, int]:
        """Claim every stale executor and hand its pending runs back to their queues;
        returns executor id -> runs taken over."""
        cutoff = utcnow() - self._takeover_after
        taken: dict[str, int] = {}
        stale = self.registry.stale(
            cutoff, application_version=self.application_version, exclude=self.executor_id
        )
        for dead in stale:
            if not self.registry.claim(dead, self.executor_id, cutoff):
                continue
            runs = self._recover(dead)
            self.registry.record_takeover(dead, runs)
            taken[dead] = runs
            log.warning(
                "executor %s took over %d pending runs of executor %s (no heartbeat for %s)",
                self.executor_id,
                runs,
                dead,
                self._takeover_after,
            )
        return taken
