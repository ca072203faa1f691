"""Which stored deliveries a replay covers: a filter over the inbox (and, for an entity, over the
ledger that says which deliveries touched it)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from syncwright.intake.inbox import InboxRow, inbox_row
from syncwright.store import Database
from syncwright.store.tables import inbox, ledger

MAX_REPLAY = 10_000


@dataclass(frozen=True)
class ReplayFilter:
    """Every given criterion must hold; at least one must be given (a replay of everything is
    never an accident). ``since``/``until`` bound the time the delivery was received."""

    inbox_id: int | None = None
    correlation_id: str | None = None
    connection: str | None = None
    event_type: str | None = None
    status: str | None = None
    entity_key: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    limit: int = 1000

    def is_empty(self) -> bool:
        return all(
            value is None
            for value in (
                self.inbox_id,
                self.correlation_id,
                self.connection,
                self.event_type,
                self.status,
                self.entity_key,
                self.since,
                self.until,
            )
        )

    def as_json(self) -> dict[str, Any]:
        return {
            key: value.isoformat() if isinstance(value, datetime) else value
            for key, value in self.__dict__.items()
            if value is not None
        }


def select_deliveries(db: Database, wanted: ReplayFilter) -> list[InboxRow]:
    """Matching inbox rows, oldest first (the order they were first processed in). Rows that
    are themselves replays are left out unless asked for by id or correlation id."""
    query = sa.select(inbox).order_by(inbox.c.id)
    if wanted.inbox_id is not None:
        query = query.where(inbox.c.id == wanted.inbox_id)
    if wanted.correlation_id is not None:
        query = query.where(inbox.c.correlation_id == wanted.correlation_id)
    if wanted.inbox_id is None and wanted.correlation_id is None:
        query = query.where(inbox.c.origin != "replay")
    if wanted.connection is not None:
        query = query.where(inbox.c.connection == wanted.connection)
    if wanted.event_type is not None:
        query = query.where(inbox.c.event_type == wanted.event_type)
    if wanted.status is not None:
        query = query.where(inbox.c.status == wanted.status)
    if wanted.since is not None:
        query = query.where(inbox.c.received_at >= wanted.since)
    if wanted.until is not None:
        query = query.where(inbox.c.received_at < wanted.until)
    if wanted.entity_key is not None:
        touched = sa.select(ledger.c.correlation_id).where(ledger.c.entity_key == wanted.entity_key)
        query = query.where(inbox.c.correlation_id.in_(touched))
    with db.engine.connect() as conn:
        rows = conn.execute(query.limit(min(wanted.limit, MAX_REPLAY))).mappings().all()
    return [inbox_row(m) for m in rows]
