"""The policy's tables: canonical state per entity, what syncwright wrote, and the decisions
that held a change back (``sw_canonical_state``, ``sw_write_memory``, ``sw_policy_decisions``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from syncwright._time import as_utc, utcnow
from syncwright.store import Database
from syncwright.store.tables import canonical_state, policy_decisions, write_memory

__all__ = ["Decision", "PolicyStore", "StoredState"]

DECISION_KINDS = ("ownership", "echo", "stale", "unchanged")


@dataclass(frozen=True)
class StoredState:
    """The canonical entity as last applied, and how it got there."""

    data: dict[str, Any]
    version: int
    source_connection: str
    source_time: datetime | None
    versions: dict[str, str]  # connection -> ISO source time of the newest event applied from it
    applied: dict[str, str]  # event type -> digest of the entity it last carried
    # "<inbox id>:<event id>" -> the event as it travelled on, for the last few that passed:
    # admitting one again (a dispatch of that row repeated after a crash) gives the same answer.
    recent: dict[str, Any]


@dataclass(frozen=True)
class Decision:
    """One change held back: what, about which entity, from which writer, and why."""

    kind: str
    connection: str
    entity_type: str
    global_id: str
    event_type: str
    event_id: str
    correlation_id: str
    field: str | None = None
    owner: str | None = None
    inbox_id: int | None = None
    detail: str | None = None
    at: datetime | None = None
    id: int | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "at": self.at.isoformat() if self.at else None,
            "kind": self.kind,
            "field": self.field,
            "entity_type": self.entity_type,
            "global_id": self.global_id,
            "writer": self.connection,
            "owner": self.owner,
            "event_type": self.event_type,
            "event_id": self.event_id,
            "inbox_id": self.inbox_id,
            "correlation_id": self.correlation_id,
            "detail": self.detail,
        }


class PolicyStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    # -- canonical state ---------------------------------------------------------------------
    def begin(self) -> Any:
        """One transaction for a read-decide-write of an entity's state."""
        return self._db.begin()

    @staticmethod
    def state(conn: Connection, entity_type: str, global_id: str) -> StoredState | None:
        # FOR UPDATE (PostgreSQL; SQLite's single writer needs none): two workers deciding on
        # one entity's events take turns instead of overwriting each other's state.
        row = (
            conn.execute(
                sa.select(canonical_state)
                .where(
                    canonical_state.c.entity_type == entity_type,
                    canonical_state.c.global_id == global_id,
                )
                .with_for_update()
            )
            .mappings()
            .first()
        )
        if row is None:
            return None
        applied = dict(row["applied"] or {})
        return StoredState(
            data=dict(row["data"]),
            version=int(row["version"]),
            source_connection=str(row["source_connection"]),
            source_time=as_utc(row["source_time"]) if row["source_time"] else None,
            versions=dict(row["versions"] or {}),
            applied=dict(applied.get("types") or {}),
            recent=dict(applied.get("recent") or {}),
        )

    @staticmethod
    def save_state(
        conn: Connection,
        entity_type: str,
        global_id: str,
        *,
        previous: StoredState | None,
        data: Mapping[str, Any],
        source_connection: str,
        source_time: datetime | None,
        versions: Mapping[str, str],
        applied: Mapping[str, str],
        recent: Mapping[str, Any],
    ) -> None:
        values = {
            "data": dict(data),
            "source_connection": source_connection,
            "source_time": source_time,
            "versions": dict(versions),
            "applied": {"types": dict(applied), "recent": dict(recent)},
            "updated_at": utcnow(),
        }
        if previous is None:
            conn.execute(
                sa.insert(canonical_state).values(
                    entity_type=entity_type, global_id=global_id, version=1, **values
                )
            )
            return
        conn.execute(
            sa.update(canonical_state)
            .where(
                canonical_state.c.entity_type == entity_type,
                canonical_state.c.global_id == global_id,
            )
            .values(version=previous.version + 1, **values)
        )

    def get_state(self, entity_type: str, global_id: str) -> StoredState | None:
        with self._db.connect() as conn:
            return self.state(conn, entity_type, global_id)

    # -- what syncwright wrote -------------------------------------------------------------
    def remember_writes(
        self,
        connection: str,
        entity_type: str,
        global_id: str,
        digests: Mapping[str, str],
        *,
        workflow_id: str | None = None,
    ) -> None:
        """Record that syncwright wrote these field values (digests) to ``connection``."""
        if not digests:
            return
        now = utcnow()
        with self._db.begin() as conn:
            self.forget(conn, connection, entity_type, global_id, list(digests))
            conn.execute(
                sa.insert(write_memory),
                [
                    {
                        "connection": connection,
                        "entity_type": entity_type,
                        "global_id": global_id,
                        "field": name,
                        "digest": digest,
                        "workflow_id": workflow_id,
                        "written_at": now,
                    }
                    for name, digest in digests.items()
                ],
            )

    @staticmethod
    def written(
        conn: Connection, connection: str, entity_type: str, global_id: str
    ) -> dict[str, str]:
        query = sa.select(write_memory.c.field, write_memory.c.digest).where(
            write_memory.c.connection == connection,
            write_memory.c.entity_type == entity_type,
            write_memory.c.global_id == global_id,
        )
        return {row.field: row.digest for row in conn.execute(query)}

    @staticmethod
    def forget(
        conn: Connection, connection: str, entity_type: str, global_id: str, fields: list[str]
    ) -> None:
        conn.execute(
            sa.delete(write_memory).where(
                write_memory.c.connection == connection,
                write_memory.c.entity_type == entity_type,
                write_memory.c.global_id == global_id,
                write_memory.c.field.in_(fields),
            )
        )

    # -- decisions -----------------------------------------------------------------------------
    @staticmethod
    def record(conn: Connection, decisions: list[Decision]) -> None:
        if not decisions:
            return
        now = utcnow()
        conn.execute(
            sa.insert(policy_decisions),
            [
                {
                    "at": d.at or now,
                    "kind": d.kind,
                    "connection": d.connection,
                    "entity_type": d.entity_type,
                    "global_id": d.global_id,
                    "field": d.field,
                    "owner": d.owner,
                    "event_type": d.event_type,
                    "event_id": d.event_id,
                    "inbox_id": d.inbox_id,
                    "correlation_id": d.correlation_id,
                    "detail": d.detail,
                }
                for d in decisions
            ],
        )

    def decisions(
        self, *, kind: str | None = None, since: datetime | None = None, limit: int = 1000
    ) -> list[Decision]:
        """Newest first."""
        query = sa.select(policy_decisions).order_by(policy_decisions.c.id.desc()).limit(limit)
        if kind is not None:
            query = query.where(policy_decisions.c.kind == kind)
        if since is not None:
            query = query.where(policy_decisions.c.at >= since)
        with self._db.connect() as conn:
            rows = list(conn.execute(query).mappings())
        return [
            Decision(
                kind=r["kind"],
                connection=r["connection"],
                entity_type=r["entity_type"],
                global_id=r["global_id"],
                event_type=r["event_type"],
                event_id=r["event_id"],
                correlation_id=r["correlation_id"],
                field=r["field"],
                owner=r["owner"],
                inbox_id=r["inbox_id"],
                detail=r["detail"],
                at=as_utc(r["at"]),
                id=int(r["id"]),
            )
            for r in rows
        ]

    def counts(self) -> dict[tuple[str, str], int]:
        """(kind, writer connection) -> decisions recorded, for the metrics."""
        query = sa.select(
            policy_decisions.c.kind, policy_decisions.c.connection, sa.func.count()
        ).group_by(policy_decisions.c.kind, policy_decisions.c.connection)
        with self._db.connect() as conn:
            return {(kind, conn_name): int(n) for kind, conn_name, n in conn.execute(query)}
