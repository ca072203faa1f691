"""The inbox: every accepted delivery, written in one commit before we answer 2xx.

It is an idempotent receiver: ``(connection, vendor_event_id)`` is unique, so a duplicate
delivery is acknowledged and not stored twice. Rows are never deleted by processing; they move
``pending`` -> ``dispatched`` (or ``parked`` when they cannot be processed, or ``resolved`` by an
operator), so nothing accepted is ever lost.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy import RowMapping

from syncwright._time import as_utc, utcnow
from syncwright.ids import new_correlation_id
from syncwright.store import Database
from syncwright.store._upsert import insert_ignore_duplicate, insert_many_ignore_duplicates
from syncwright.store.tables import inbox, security_events

# Headers that may carry credentials (Chargebee basic auth, bearer tokens) are never stored.
_IDS_PER_STATEMENT = 500  # SQLite allows 32,766 parameters a statement; stay far below
_UNSTORED_HEADERS = frozenset({"authorization", "cookie", "proxy-authorization", "x-api-key"})


@dataclass(frozen=True)
class AcceptResult:
    inbox_id: int | None
    duplicate: bool
    correlation_id: str | None


@dataclass(frozen=True)
class InboxRow:
    id: int
    connection: str
    vendor_event_id: str
    event_type: str
    received_at: datetime
    body: str
    origin: str
    status: str
    correlation_id: str
    attempts: int
    last_error: str | None
    headers: Mapping[str, str] = field(default_factory=dict)


#: Security events of one source, kind and code within this window share one row.
SECURITY_WINDOW: Final = timedelta(minutes=5)
#: Security event rows older than this are deleted.
SECURITY_RETENTION: Final = timedelta(days=90)


def _window_start(at: datetime) -> datetime:
    seconds = int(SECURITY_WINDOW.total_seconds())
    return datetime.fromtimestamp(int(at.timestamp()) // seconds * seconds, UTC)


def storable_headers(headers: Mapping[str, str]) -> dict[str, str]:
    return {k.lower(): v for k, v in headers.items() if k.lower() not in _UNSTORED_HEADERS}


def _row(mapping: RowMapping) -> InboxRow:
    return InboxRow(
        id=int(mapping["id"]),
        connection=mapping["connection"],
        vendor_event_id=mapping["vendor_event_id"],
        event_type=mapping["event_type"],
        received_at=as_utc(mapping["received_at"]),
        body=mapping["body"],
        origin=mapping["origin"],
        status=mapping["status"],
        correlation_id=mapping["correlation_id"],
        attempts=int(mapping["attempts"]),
        last_error=mapping["last_error"],
        headers=dict(mapping["headers"] or {}),
    )


# Public name for readers of the inbox table outside this module (replay).
inbox_row = _row


class Inbox:
    def __init__(self, db: Database) -> None:
        self._db = db

    def accept(
        self,
        *,
        connection: str,
        vendor_event_id: str,
        event_type: str,
        body: str,
        headers: Mapping[str, str] | None = None,
        origin: str = "webhook",
        correlation_id: str | None = None,
        status: str = "pending",
    ) -> AcceptResult:
        """Store a delivery once. A duplicate returns ``duplicate=True`` and stores nothing.
        ``status="dispatched"`` stores a delivery whose runs are started by the caller (a
        replay from a step), so the dispatcher leaves it alone."""
        correlation_id = correlation_id or new_correlation_id()
        with self._db.begin() as conn:
            inbox_id = insert_ignore_duplicate(
                conn,
                inbox,
                {
                    "connection": connection,
                    "vendor_event_id": vendor_event_id,
                    "event_type": event_type,
                    "received_at": utcnow(),
                    "headers": storable_headers(headers or {}),
                    "body": body,
                    "origin": origin,
                    "status": status,
                    "correlation_id": correlation_id,
                    "attempts": 0,
                },
                returning=inbox.c.id,
            )
        if inbox_id is None:
            return AcceptResult(inbox_id=None, duplicate=True, correlation_id=None)
        return AcceptResult(inbox_id=int(inbox_id), duplicate=False, correlation_id=correlation_id)

    def accept_many(self, deliveries: list[dict[str, Any]]) -> list[AcceptResult]:
        """Store several deliveries in one multi-row INSERT and one commit (group commit); same
        rules as :meth:`accept`. Each dict holds that method's keyword arguments."""
        now = utcnow()
        rows = [
            {
                "connection": d["connection"],
                "vendor_event_id": d["vendor_event_id"],
                "event_type": d["event_type"],
                "received_at": now,
                "headers": storable_headers(d.get("headers") or {}),
                "body": d["body"],
                "origin": d.get("origin", "webhook"),
                "status": "pending",
                "correlation_id": d.get("correlation_id") or new_correlation_id(),
                "attempts": 0,
            }
            for d in deliveries
        ]
        with self._db.begin() as conn:
            inserted = insert_many_ignore_duplicates(
                conn, inbox, rows, key=("connection", "vendor_event_id"), returning=inbox.c.id
            )
        results: list[AcceptResult] = []
        for row in rows:
            # Only the first of several identical deliveries in one batch took the row.
            inbox_id = inserted.pop((row["connection"], row["vendor_event_id"]), None)
            results.append(
                AcceptResult(None, True, None)
                if inbox_id is None
                else AcceptResult(int(inbox_id), False, row["correlation_id"])
            )
        return results

    def get(self, inbox_id: int) -> InboxRow | None:
        with self._db.connect() as conn:
            found = conn.execute(sa.select(inbox).where(inbox.c.id == inbox_id)).mappings().first()
        return _row(found) if found else None

    def pending(self, limit: int = 100) -> list[InboxRow]:
        """Oldest first: dispatch order is arrival order, which per-entity ordering relies on."""
        query = sa.select(inbox).where(inbox.c.status == "pending").order_by(inbox.c.id)
        with self._db.connect() as conn:
            return [_row(m) for m in conn.execute(query.limit(limit)).mappings()]

    def mark_dispatched(self, inbox_id: int) -> None:
        self._set_status(inbox_id, "dispatched", dispatched_at=utcnow())

    def mark_skipped(self, inbox_id: int) -> None:
        """Every workflow its events would start is disabled (``workflows.<name>.enabled``)."""
        self._set_status(inbox_id, "skipped", dispatched_at=utcnow())

    def mark_many(self, statuses: Mapping[int, str]) -> None:
        """Set the status (``dispatched`` or ``skipped``) of many rows in one transaction: the
        dispatcher's whole pass costs one commit instead of one per row."""
        if not statuses:
            return
        now = utcnow()
        by_status: dict[str, list[int]] = {}
        for inbox_id, status in statuses.items():
            by_status.setdefault(status, []).append(inbox_id)
        with self._db.begin() as conn:
            for status, ids in sorted(by_status.items()):
                for start in range(0, len(ids), _IDS_PER_STATEMENT):
                    chunk = ids[start : start + _IDS_PER_STATEMENT]
                    conn.execute(
                        sa.update(inbox)
                        .where(inbox.c.id.in_(chunk))
                        .values(status=status, dispatched_at=now)
                    )

    def park(self, inbox_id: int, error: str) -> None:
        with self._db.begin() as conn:
            conn.execute(
                sa.update(inbox)
                .where(inbox.c.id == inbox_id)
                .values(status="parked", last_error=error, attempts=inbox.c.attempts + 1)
            )

    def note_attempt(self, inbox_id: int, error: str) -> int:
        """Count a failed dispatch attempt that leaves the row pending; returns the count."""
        with self._db.begin() as conn:
            conn.execute(
                sa.update(inbox)
                .where(inbox.c.id == inbox_id)
                .values(attempts=inbox.c.attempts + 1, last_error=error)
            )
            count = conn.execute(sa.select(inbox.c.attempts).where(inbox.c.id == inbox_id))
            return int(count.scalar_one())

    def requeue(self, inbox_id: int) -> None:
        """Send a parked delivery through normalize and routing again (after a fix)."""
        self._set_status(inbox_id, "pending")

    def resolve(self, inbox_id: int) -> None:
        self._set_status(inbox_id, "resolved")

    def replace_body(self, inbox_id: int, body: str) -> str:
        """Store a corrected payload for a parked delivery; returns the one it replaces (the
        exception's history keeps it). Only a parked row can change: nothing else is edited."""
        with self._db.begin() as conn:
            previous = conn.execute(
                sa.select(inbox.c.body, inbox.c.status).where(inbox.c.id == inbox_id)
            ).first()
            if previous is None:
                raise LookupError(f"no inbox row {inbox_id}")
            if previous[1] != "parked":
                raise ValueError(f"inbox row {inbox_id} is {previous[1]}, not parked")
            conn.execute(sa.update(inbox).where(inbox.c.id == inbox_id).values(body=body))
        return str(previous[0])

    def _set_status(self, inbox_id: int, status: str, **values: Any) -> None:
        with self._db.begin() as conn:
            conn.execute(
                sa.update(inbox).where(inbox.c.id == inbox_id).values(status=status, **values)
            )

    def count(self, status: str | None = None) -> int:
        query = sa.select(sa.func.count()).select_from(inbox)
        if status is not None:
            query = query.where(inbox.c.status == status)
        with self._db.connect() as conn:
            return int(conn.execute(query).scalar_one())

    def record_security_event(
        self, *, connection: str, kind: str, code: str, remote_addr: str | None, detail: str
    ) -> None:
        """A rejected signature is evidence, not noise: keep who, when and why (never the body).

        Events are counted per source (connection, remote address), kind and code within a
        window of :data:`SECURITY_WINDOW`: a flood of forged deliveries adds to one row's
        ``count`` instead of a row each. Windows older than :data:`SECURITY_RETENTION` are
        deleted when a new window starts."""
        now = utcnow()
        window = _window_start(now)
        remote = remote_addr or ""
        table = security_events
        key = sa.and_(
            table.c.connection == connection,
            table.c.window_start == window,
            table.c.kind == kind,
            table.c.code == code,
            table.c.remote_addr == remote,
        )
        with self._db.begin() as conn:
            updated = conn.execute(
                sa.update(table)
                .where(key)
                .values(count=table.c["count"] + 1, last_at=now, detail=detail)
            )
            if updated.rowcount:
                return
            conn.execute(
                sa.insert(table).values(
                    at=now,
                    window_start=window,
                    last_at=now,
                    count=1,
                    connection=connection,
                    kind=kind,
                    code=code,
                    remote_addr=remote,
                    detail=detail,
                )
            )
            conn.execute(sa.delete(table).where(table.c.at < now - SECURITY_RETENTION))

    def security_events(self, limit: int = 100) -> list[dict[str, Any]]:
        query = sa.select(security_events).order_by(security_events.c.id.desc()).limit(limit)
        with self._db.connect() as conn:
            return [dict(m) for m in conn.execute(query).mappings()]
