"""Poll cursors, one per (connection, stream): where the next poll resumes."""

from __future__ import annotations

import sqlalchemy as sa

from syncwright._time import utcnow
from syncwright.store import Database
from syncwright.store.tables import cursors


class CursorStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    def get(self, connection: str, stream: str) -> str | None:
        query = sa.select(cursors.c.value).where(
            cursors.c.connection == connection, cursors.c.stream == stream
        )
        with self._db.engine.connect() as conn:
            found = conn.execute(query).scalar()
        return str(found) if found is not None else None

    def set(self, connection: str, stream: str, value: str) -> None:
        with self._db.engine.begin() as conn:
            updated = conn.execute(
                sa.update(cursors)
                .where(cursors.c.connection == connection, cursors.c.stream == stream)
                .values(value=value, updated_at=utcnow())
            )
            if updated.rowcount == 0:
                conn.execute(
                    sa.insert(cursors).values(
                        connection=connection, stream=stream, value=value, updated_at=utcnow()
                    )
                )
