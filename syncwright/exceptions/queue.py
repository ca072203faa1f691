"""Durable exception records. A record is either a parked workflow (``source="workflow"``),
waiting in its failed step for ``retry`` or ``resolve``, or a parked inbox delivery
(``source="inbox"``) that could not be normalized or routed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import RowMapping

from syncwright._time import as_utc, utcnow
from syncwright.ids import new_id
from syncwright.store import Database
from syncwright.store.tables import exceptions


@dataclass(frozen=True)
class ExceptionRecord:
    id: str
    created_at: datetime
    updated_at: datetime
    status: str
    source: str
    correlation_id: str
    code: str
    message: str
    remediation: str
    workflow_id: str | None = None
    workflow: str | None = None
    inbox_id: int | None = None
    connection: str | None = None
    step: str | None = None
    details: dict[str, Any] | None = None
    resolution: str | None = None
    retries: int = 0

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["created_at"] = self.created_at.isoformat()
        data["updated_at"] = self.updated_at.isoformat()
        return data


def _record(m: RowMapping) -> ExceptionRecord:
    values = dict(m)
    values["created_at"] = as_utc(values["created_at"])
    values["updated_at"] = as_utc(values["updated_at"])
    return ExceptionRecord(**values)


class ExceptionQueue:
    def __init__(self, db: Database) -> None:
        self._db = db

    def open(
        self,
        *,
        source: str,
        correlation_id: str,
        code: str,
        message: str,
        remediation: str,
        workflow_id: str | None = None,
        workflow: str | None = None,
        inbox_id: int | None = None,
        connection: str | None = None,
        step: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> str:
        """Open a record, or re-open the one already open for the same workflow step."""
        now = utcnow()
        with self._db.engine.begin() as conn:
            if workflow_id is not None:
                existing = conn.execute(
                    sa.select(exceptions.c.id).where(
                        exceptions.c.workflow_id == workflow_id,
                        exceptions.c.step == step,
                        exceptions.c.status != "resolved",
                    )
                ).scalar()
                if existing:
                    conn.execute(
                        sa.update(exceptions)
                        .where(exceptions.c.id == existing)
                        .values(
                            status="open",
                            code=code,
                            message=message,
                            remediation=remediation,
                            details=details,
                            updated_at=now,
                        )
                    )
                    return str(existing)
            record_id = new_id("exc_")
            conn.execute(
                sa.insert(exceptions).values(
                    id=record_id,
                    created_at=now,
                    updated_at=now,
                    status="open",
                    source=source,
                    workflow_id=workflow_id,
                    workflow=workflow,
                    inbox_id=inbox_id,
                    correlation_id=correlation_id,
                    connection=connection,
                    step=step,
                    code=code,
                    message=message,
                    remediation=remediation,
                    details=details,
                    retries=0,
                )
            )
        return record_id

    def get(self, record_id: str) -> ExceptionRecord | None:
        with self._db.engine.connect() as conn:
            found = (
                conn.execute(sa.select(exceptions).where(exceptions.c.id == record_id))
                .mappings()
                .first()
            )
        return _record(found) if found else None

    def latest_for_step(self, workflow_id: str, step: str) -> ExceptionRecord | None:
        """The newest record of one step of one run, whatever its status."""
        query = (
            sa.select(exceptions)
            .where(exceptions.c.workflow_id == workflow_id, exceptions.c.step == step)
            .order_by(exceptions.c.created_at.desc())
            .limit(1)
        )
        with self._db.engine.connect() as conn:
            found = conn.execute(query).mappings().first()
        return _record(found) if found else None

    def list(
        self, *, status: str | None = None, correlation_id: str | None = None, limit: int = 100
    ) -> list[ExceptionRecord]:
        query = sa.select(exceptions).order_by(exceptions.c.created_at.desc()).limit(limit)
        if status:
            query = query.where(exceptions.c.status == status)
        if correlation_id:
            query = query.where(exceptions.c.correlation_id == correlation_id)
        with self._db.engine.connect() as conn:
            return [_record(m) for m in conn.execute(query).mappings()]

    def mark_retrying(self, record_id: str) -> None:
        with self._db.engine.begin() as conn:
            conn.execute(
                sa.update(exceptions)
                .where(exceptions.c.id == record_id)
                .values(status="retrying", retries=exceptions.c.retries + 1, updated_at=utcnow())
            )

    def mark_resolved(self, record_id: str, resolution: str) -> None:
        with self._db.engine.begin() as conn:
            conn.execute(
                sa.update(exceptions)
                .where(exceptions.c.id == record_id)
                .values(status="resolved", resolution=resolution, updated_at=utcnow())
            )

    def resolve_for_workflow_step(self, workflow_id: str, step: str, resolution: str) -> None:
        """A parked step that succeeded on retry closes its own record."""
        with self._db.engine.begin() as conn:
            conn.execute(
                sa.update(exceptions)
                .where(
                    exceptions.c.workflow_id == workflow_id,
                    exceptions.c.step == step,
                    exceptions.c.status != "resolved",
                )
                .values(status="resolved", resolution=resolution, updated_at=utcnow())
            )

    def unresolved_for_workflow(self, workflow_id: str) -> Sequence[ExceptionRecord]:
        query = sa.select(exceptions).where(
            exceptions.c.workflow_id == workflow_id, exceptions.c.status != "resolved"
        )
        with self._db.engine.connect() as conn:
            return [_record(m) for m in conn.execute(query).mappings()]

    def count_open(self) -> int:
        query = (
            sa.select(sa.func.count())
            .select_from(exceptions)
            .where(exceptions.c.status != "resolved")
        )
        with self._db.engine.connect() as conn:
            return int(conn.execute(query).scalar_one())
