"""Reconciliation runs and their drift, in ``sw_reconciliation_runs``.

A scheduled run's id is derived from its rule and its slot (the due time), so when several
workers see the same rule due, one insert wins and the others skip: each slot runs once.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import RowMapping

from syncwright._time import as_utc, utcnow
from syncwright.ids import new_id
from syncwright.store import Database
from syncwright.store._upsert import insert_ignore_duplicate
from syncwright.store.tables import reconciliation_runs


@dataclass(frozen=True)
class RunRecord:
    id: str
    rule: str
    started_at: datetime
    finished_at: datetime | None
    status: str
    drift_count: int
    report: dict[str, Any] | None

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "rule": self.rule,
            "started_at": self.started_at.isoformat(),
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
            "status": self.status,
            "drift_count": self.drift_count,
            "report": self.report,
        }


def _record(m: RowMapping) -> RunRecord:
    return RunRecord(
        id=m["id"],
        rule=m["rule"],
        started_at=as_utc(m["started_at"]),
        finished_at=as_utc(m["finished_at"]) if m["finished_at"] else None,
        status=m["status"],
        drift_count=int(m["drift_count"]),
        report=m["report"],
    )


def slot_run_id(rule: str, slot: datetime) -> str:
    digest = hashlib.sha256(f"{rule}@{slot.isoformat()}".encode()).hexdigest()[:32]
    return f"sched-{digest}"


class RunStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    def start(self, rule: str, *, run_id: str | None = None) -> str | None:
        """Record a run as started; ``None`` when ``run_id`` exists already (another worker
        took that slot)."""
        run_id = run_id or new_id("run-")
        with self._db.engine.begin() as conn:
            inserted = insert_ignore_duplicate(
                conn,
                reconciliation_runs,
                {
                    "id": run_id,
                    "rule": rule,
                    "started_at": utcnow(),
                    "status": "running",
                    "drift_count": 0,
                },
                returning=reconciliation_runs.c.id,
            )
        return run_id if inserted is not None else None

    def finish(self, run_id: str, status: str, drift_count: int, report: dict[str, Any]) -> None:
        with self._db.engine.begin() as conn:
            conn.execute(
                sa.update(reconciliation_runs)
                .where(reconciliation_runs.c.id == run_id)
                .values(status=status, drift_count=drift_count, report=report, finished_at=utcnow())
            )

    def get(self, run_id: str) -> RunRecord | None:
        query = sa.select(reconciliation_runs).where(reconciliation_runs.c.id == run_id)
        with self._db.engine.connect() as conn:
            row = conn.execute(query).mappings().first()
        return _record(row) if row else None

    def list(self, *, rule: str | None = None, limit: int = 50) -> list[RunRecord]:
        query = sa.select(reconciliation_runs).order_by(
            reconciliation_runs.c.started_at.desc(), reconciliation_runs.c.id.desc()
        )
        if rule is not None:
            query = query.where(reconciliation_runs.c.rule == rule)
        with self._db.engine.connect() as conn:
            rows = conn.execute(query.limit(limit)).mappings().all()
        return [_record(r) for r in rows]

    def last_started(self, rule: str) -> datetime | None:
        query = sa.select(sa.func.max(reconciliation_runs.c.started_at)).where(
            reconciliation_runs.c.rule == rule
        )
        with self._db.engine.connect() as conn:
            found = conn.execute(query).scalar()
        return as_utc(found) if found else None
