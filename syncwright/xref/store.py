"""Global id <-> native id per system. Links are unique both ways, per system and entity type."""

from __future__ import annotations

import sqlalchemy as sa

from syncwright._time import utcnow
from syncwright.ids import new_id
from syncwright.store import Database
from syncwright.store._upsert import insert_ignore_duplicate
from syncwright.store.tables import xref


class CrossReference:
    def __init__(self, db: Database) -> None:
        self._db = db

    def global_id_for(self, entity_type: str, system: str, native_id: str) -> str | None:
        query = sa.select(xref.c.global_id).where(
            xref.c.entity_type == entity_type,
            xref.c.system == system,
            xref.c.native_id == native_id,
        )
        with self._db.engine.connect() as conn:
            found = conn.execute(query).scalar()
        return str(found) if found else None

    def resolve(self, entity_type: str, system: str, native_id: str) -> str:
        """The global id for a native id, minting and linking one on first sight.

        Two workers resolving the same native id at once both end with the same global id:
        the unique constraint lets one insert win and the other reads it back.
        """
        existing = self.global_id_for(entity_type, system, native_id)
        if existing:
            return existing
        candidate = new_id(f"{entity_type[:4]}_")
        with self._db.engine.begin() as conn:
            insert_ignore_duplicate(
                conn,
                xref,
                {
                    "entity_type": entity_type,
                    "global_id": candidate,
                    "system": system,
                    "native_id": native_id,
                    "created_at": utcnow(),
                },
                returning=xref.c.id,
            )
        winner = self.global_id_for(entity_type, system, native_id)
        assert winner is not None
        return winner

    def link(self, entity_type: str, global_id: str, system: str, native_id: str) -> None:
        """Record that ``global_id`` is ``native_id`` in ``system`` (idempotent)."""
        with self._db.engine.begin() as conn:
            insert_ignore_duplicate(
                conn,
                xref,
                {
                    "entity_type": entity_type,
                    "global_id": global_id,
                    "system": system,
                    "native_id": native_id,
                    "created_at": utcnow(),
                },
                returning=xref.c.id,
            )

    def native_id_for(self, entity_type: str, global_id: str, system: str) -> str | None:
        query = sa.select(xref.c.native_id).where(
            xref.c.entity_type == entity_type,
            xref.c.global_id == global_id,
            xref.c.system == system,
        )
        with self._db.engine.connect() as conn:
            found = conn.execute(query).scalar()
        return str(found) if found else None

    def links(self, entity_type: str, global_id: str) -> dict[str, str]:
        """Every system's native id for one entity."""
        query = sa.select(xref.c.system, xref.c.native_id).where(
            xref.c.entity_type == entity_type, xref.c.global_id == global_id
        )
        with self._db.engine.connect() as conn:
            return {row.system: row.native_id for row in conn.execute(query)}
