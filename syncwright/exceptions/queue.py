"""Durable exception records. A record is either a parked workflow (``source="workflow"``),
waiting in its failed step for ``retry`` or ``resolve``, or a parked inbox delivery
(``source="inbox"``) that could not be normalized or routed.

Statuses: ``open`` (a person must act), ``waiting`` (on a dependency; the worker retries it
when that appears), ``retrying`` (sent back; closes when it succeeds), ``resolved``.
Everything done to a record is kept in its history (``sw_exception_events``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection, RowMapping

from syncwright._time import as_utc, utcnow
from syncwright.exceptions.classify import CLASS_GUIDANCE
from syncwright.ids import new_id
from syncwright.store import Database
from syncwright.store.tables import exception_events, exceptions

STATUSES = ("open", "waiting", "retrying", "resolved")
Ids = list[str]
Events = list[dict[str, Any]]
ACTIVE = ("open", "waiting", "retrying")


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
    error_class: str | None = None
    record: str | None = None
    assignee: str | None = None
    tags: list[str] = field(default_factory=list)
    waiting_on: dict[str, Any] | None = None
    next_check_at: datetime | None = None

    @property
    def guidance(self) -> str:
        """What operations do about this class of exception."""
        return CLASS_GUIDANCE.get(self.error_class or "", "")

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["created_at"] = self.created_at.isoformat()
        data["updated_at"] = self.updated_at.isoformat()
        data["next_check_at"] = self.next_check_at.isoformat() if self.next_check_at else None
        data["guidance"] = self.guidance
        return data


@dataclass(frozen=True)
class ExceptionFilter:
    """Which records a bulk action or a listing covers; unset fields match everything."""

    status: str | None = None
    error_class: str | None = None
    connection: str | None = None
    tag: str | None = None
    older_than: timedelta | None = None
    correlation_id: str | None = None
    assignee: str | None = None

    def query(self) -> sa.Select[Any]:
        query = sa.select(exceptions).order_by(exceptions.c.created_at.desc())
        if self.status:
            query = query.where(exceptions.c.status == self.status)
        if self.error_class:
            query = query.where(exceptions.c.error_class == self.error_class)
        if self.connection:
            query = query.where(exceptions.c.connection == self.connection)
        if self.correlation_id:
            query = query.where(exceptions.c.correlation_id == self.correlation_id)
        if self.assignee:
            query = query.where(exceptions.c.assignee == self.assignee)
        if self.older_than is not None:
            query = query.where(exceptions.c.created_at < utcnow() - self.older_than)
        return query

    def matches_tag(self, record: ExceptionRecord) -> bool:
        return self.tag is None or self.tag in record.tags


Records = list[ExceptionRecord]


def _record(m: RowMapping) -> ExceptionRecord:
    values = dict(m)
    values["created_at"] = as_utc(values["created_at"])
    values["updated_at"] = as_utc(values["updated_at"])
    if values["next_check_at"] is not None:
        values["next_check_at"] = as_utc(values["next_check_at"])
    values["tags"] = list(values["tags"] or [])
    return ExceptionRecord(**values)


def _event(
    conn: Connection, record_id: str, actor: str, action: str, detail: Mapping[str, Any] | None
) -> None:
    conn.execute(
        sa.insert(exception_events).values(
            exception_id=record_id,
            at=utcnow(),
            actor=actor,
            action=action,
            detail=dict(detail) if detail is not None else None,
        )
    )


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
        error_class: str | None = None,
        record: str | None = None,
        waiting_on: dict[str, Any] | None = None,
    ) -> str:
        """Open a record, or re-open the one already open for the same workflow step. With
        ``waiting_on`` the record is ``waiting`` and checked by the worker straight away."""
        now = utcnow()
        values: dict[str, Any] = {
            "status": "waiting" if waiting_on else "open",
            "code": code,
            "message": message,
            "remediation": remediation,
            "details": details,
            "updated_at": now,
            "error_class": error_class,
            "waiting_on": waiting_on,
            "next_check_at": now if waiting_on else None,
        }
        with self._db.begin() as conn:
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
                        sa.update(exceptions).where(exceptions.c.id == existing).values(**values)
                    )
                    _event(conn, str(existing), "syncwright", "reopened", {"code": code})
                    return str(existing)
            record_id = new_id("exc_")
            conn.execute(
                sa.insert(exceptions).values(
                    id=record_id,
                    created_at=now,
                    source=source,
                    workflow_id=workflow_id,
                    workflow=workflow,
                    inbox_id=inbox_id,
                    correlation_id=correlation_id,
                    connection=connection,
                    step=step,
                    record=record,
                    retries=0,
                    tags=[],
                    **values,
                )
            )
            _event(conn, record_id, "syncwright", "opened", {"code": code, "class": error_class})
        return record_id

    def get(self, record_id: str) -> ExceptionRecord | None:
        with self._db.connect() as conn:
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
        with self._db.connect() as conn:
            found = conn.execute(query).mappings().first()
        return _record(found) if found else None

    def list(
        self,
        *,
        status: str | None = None,
        correlation_id: str | None = None,
        limit: int = 100,
        where: ExceptionFilter | None = None,
    ) -> Records:
        chosen = where or ExceptionFilter(status=status, correlation_id=correlation_id)
        return self.select(chosen, limit=limit)

    def select(self, where: ExceptionFilter, *, limit: int | None = None) -> Records:
        """Records matching ``where``, newest first (the tag is checked here: it is a list)."""
        with self._db.connect() as conn:
            found = [_record(m) for m in conn.execute(where.query()).mappings()]
        matching = [r for r in found if where.matches_tag(r)]
        return matching[:limit] if limit is not None else matching

    def update(
        self,
        record_id: str,
        *,
        actor: str,
        action: str,
        detail: Mapping[str, Any] | None = None,
        **values: Any,
    ) -> None:
        """Change ``values`` of a record and add ``action`` by ``actor`` to its history."""
        with self._db.begin() as conn:
            if values:
                conn.execute(
                    sa.update(exceptions)
                    .where(exceptions.c.id == record_id)
                    .values(**values, updated_at=utcnow())
                )
            _event(conn, record_id, actor, action, detail)

    def history(self, record_id: str) -> Events:
        query = (
            sa.select(exception_events)
            .where(exception_events.c.exception_id == record_id)
            .order_by(exception_events.c.id)
        )
        with self._db.connect() as conn:
            rows = [dict(m) for m in conn.execute(query).mappings()]
        for row in rows:
            row["at"] = as_utc(row["at"]).isoformat()
            row.pop("exception_id")
        return rows

    def mark_retrying(self, record_id: str, *, actor: str = "syncwright") -> None:
        self.update(
            record_id,
            actor=actor,
            action="retry",
            status="retrying",
            retries=exceptions.c.retries + 1,
            next_check_at=None,
        )

    def mark_resolved(self, record_id: str, resolution: str, *, actor: str = "syncwright") -> None:
        self.update(
            record_id,
            actor=actor,
            action="resolve",
            detail={"resolution": resolution},
            status="resolved",
            resolution=resolution,
            next_check_at=None,
        )

    def resolve_for_workflow_step(self, workflow_id: str, step: str, resolution: str) -> None:
        """A parked step that succeeded on retry closes its own record."""
        for record_id in self._ids(
            exceptions.c.workflow_id == workflow_id,
            exceptions.c.step == step,
            exceptions.c.status != "resolved",
        ):
            self.mark_resolved(record_id, resolution)

    def supersede(self, *, connection: str, record: str, step: str, workflow_id: str) -> Records:
        """Another run's step for the same record on the same connection just succeeded: the
        records parked on it resolve themselves. Returns them (their runs still wait)."""
        ids = self._ids(
            exceptions.c.connection == connection,
            exceptions.c.record == record,
            exceptions.c.step == step,
            exceptions.c.workflow_id != workflow_id,
            exceptions.c.status.in_(("open", "waiting")),
        )
        resolution = (
            f"resolved automatically: a later attempt for {record} succeeded ({workflow_id})"
        )
        for record_id in ids:
            # ``next_check_at`` set on a resolved record: the worker still sends its run a retry.
            self.update(
                record_id,
                actor="syncwright",
                action="auto_resolve",
                detail={"by_workflow": workflow_id},
                status="resolved",
                resolution=resolution,
                next_check_at=utcnow(),
            )
        return [r for r in (self.get(i) for i in ids) if r is not None]

    def due_checks(self, now: datetime, limit: int = 100) -> Records:
        """Records the worker looks at now: waiting ones and superseded runs to release."""
        query = (
            sa.select(exceptions)
            .where(exceptions.c.next_check_at.is_not(None), exceptions.c.next_check_at <= now)
            .order_by(exceptions.c.next_check_at)
            .limit(limit)
        )
        with self._db.connect() as conn:
            return [_record(m) for m in conn.execute(query).mappings()]

    def recheck_later(self, record_id: str, at: datetime | None) -> None:
        """When the worker looks at the record next (None: not again); not history-worthy."""
        with self._db.begin() as conn:
            conn.execute(
                sa.update(exceptions).where(exceptions.c.id == record_id).values(next_check_at=at)
            )

    def _ids(self, *conditions: Any) -> Ids:
        with self._db.connect() as conn:
            found = conn.execute(sa.select(exceptions.c.id).where(*conditions)).scalars()
            return [str(i) for i in found]

    def unresolved_for_workflow(self, workflow_id: str) -> Sequence[ExceptionRecord]:
        query = sa.select(exceptions).where(
            exceptions.c.workflow_id == workflow_id, exceptions.c.status != "resolved"
        )
        with self._db.connect() as conn:
            return [_record(m) for m in conn.execute(query).mappings()]

    def count_open(self) -> int:
        query = (
            sa.select(sa.func.count())
            .select_from(exceptions)
            .where(exceptions.c.status != "resolved")
        )
        with self._db.connect() as conn:
            return int(conn.execute(query).scalar_one())


def tags_after(current: Iterable[str], add: Iterable[str], remove: Iterable[str]) -> Ids:
    removed = set(remove)
    kept = [t for t in current if t not in removed]
    return kept + [t for t in dict.fromkeys(add) if t not in kept and t not in removed]
