"""Global id <-> native id per system. Links are unique both ways, per system and entity type.

A link, once written, never changes or goes away, so every link this process has seen is kept
in memory (up to ``CACHE_LINKS``): the dispatcher resolves several ids per delivery and the
NetSuite steps look customers and orders up on every write, and building a SQL query for each
took a fifth of a worker's CPU. Only found links are kept; a miss always asks the database,
which another process may have written to meanwhile.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from syncwright._time import utcnow
from syncwright.ids import new_id
from syncwright.store import Database
from syncwright.store._upsert import insert_ignore_duplicate, insert_many_ignore_duplicates
from syncwright.store.tables import xref

CACHE_LINKS = 200_000  # ~40 MB at worst; past it the cache starts again (it is only a cache)

Key = tuple[str, str, str]  # (entity type, system, native id)


class MintRace(Exception):
    """Another process linked a native id first that :meth:`CrossReference.deferred` had
    minted an id for: whatever used the minted id must be done again without deferring."""


class CrossReference:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._global: dict[tuple[str, str, str], str] = {}  # (type, system, native) -> global
        self._native: dict[tuple[str, str, str], str] = {}  # (type, global, system) -> native
        # Ids minted by resolve() inside deferred(), not yet written: key -> global id.
        self._minted: ContextVar[dict[Key, str] | None] = ContextVar(
            f"syncwright-xref-minted-{id(self)}", default=None
        )

    @contextmanager
    def deferred(self) -> Iterator[dict[Key, str]]:
        """Ids :meth:`resolve` mints inside this block are kept in memory (and answered from
        there) instead of each being written in a transaction of its own; the caller writes
        them all with :meth:`write_minted` in its own transaction, or drops them (nothing used
        them durably). Yields the minted ids."""
        minted: dict[Key, str] = {}
        token = self._minted.set(minted)
        try:
            yield minted
        finally:
            self._minted.reset(token)

    def write_minted(self, conn: Connection, minted: dict[Key, str]) -> None:
        """Insert ids minted by :meth:`deferred` in ``conn``'s transaction (one statement).
        Raises :class:`MintRace` if another process linked one of those native ids first."""
        if not minted:
            return
        now = utcnow()
        rows = [
            {
                "entity_type": entity_type,
                "global_id": global_id,
                "system": system,
                "native_id": native_id,
                "created_at": now,
            }
            for (entity_type, system, native_id), global_id in minted.items()
        ]
        inserted = insert_many_ignore_duplicates(
            conn, xref, rows, key=("entity_type", "system", "native_id"), returning=xref.c.id
        )
        lost = [key for key in minted if key not in inserted]
        if lost:
            raise MintRace(f"another process linked {lost[0]} first")
        for (entity_type, system, native_id), global_id in minted.items():
            self._remember(entity_type, global_id, system, native_id)

    def _remember(self, entity_type: str, global_id: str, system: str, native_id: str) -> None:
        # Inside a transaction that is still open the link is not durable yet: a rollback
        # would take it back, so it is cached once the transaction has committed.
        self._db.after_commit(lambda: self._cache(entity_type, global_id, system, native_id))

    def _cache(self, entity_type: str, global_id: str, system: str, native_id: str) -> None:
        if len(self._global) >= CACHE_LINKS:
            self._global.clear()
            self._native.clear()
        self._global[(entity_type, system, native_id)] = global_id
        self._native[(entity_type, global_id, system)] = native_id

    def global_id_for(self, entity_type: str, system: str, native_id: str) -> str | None:
        cached = self._global.get((entity_type, system, native_id))
        if cached is not None:
            return cached
        minted = self._minted.get()
        if minted and (entity_type, system, native_id) in minted:
            return minted[(entity_type, system, native_id)]
        query = sa.select(xref.c.global_id).where(
            xref.c.entity_type == entity_type,
            xref.c.system == system,
            xref.c.native_id == native_id,
        )
        with self._db.connect() as conn:
            found = conn.execute(query).scalar()
        if not found:
            return None
        self._remember(entity_type, str(found), system, native_id)
        return str(found)

    def resolve(self, entity_type: str, system: str, native_id: str) -> str:
        """The global id for a native id, minting and linking one on first sight.

        Two workers resolving the same native id at once both end with the same global id:
        the unique constraint lets one insert win and the other reads it back.
        """
        existing = self.global_id_for(entity_type, system, native_id)
        if existing:
            return existing
        candidate = new_id(f"{entity_type[:4]}_")
        minted = self._minted.get()
        if minted is not None:  # written later, with the caller's transaction
            minted[(entity_type, system, native_id)] = candidate
            return candidate
        with self._db.begin() as conn:
            inserted = insert_ignore_duplicate(
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
            if inserted is not None:  # ours won: no need to read it back
                self._remember(entity_type, candidate, system, native_id)
                return candidate
        winner = self.global_id_for(entity_type, system, native_id)
        assert winner is not None
        return winner

    def link(self, entity_type: str, global_id: str, system: str, native_id: str) -> None:
        """Record that ``global_id`` is ``native_id`` in ``system`` (idempotent)."""
        if self._global.get((entity_type, system, native_id)) == global_id:
            return
        with self._db.begin() as conn:
            inserted = insert_ignore_duplicate(
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
        if inserted is not None:  # a conflict may be another link: leave it to the database
            self._remember(entity_type, global_id, system, native_id)

    def native_id_for(self, entity_type: str, global_id: str, system: str) -> str | None:
        cached = self._native.get((entity_type, global_id, system))
        if cached is not None:
            return cached
        for (kind, where, native), minted in (self._minted.get() or {}).items():
            if (kind, where, minted) == (entity_type, system, global_id):
                return native
        query = sa.select(xref.c.native_id).where(
            xref.c.entity_type == entity_type,
            xref.c.global_id == global_id,
            xref.c.system == system,
        )
        with self._db.connect() as conn:
            found = conn.execute(query).scalar()
        if not found:
            return None
        self._remember(entity_type, global_id, system, str(found))
        return str(found)

    def links(self, entity_type: str, global_id: str) -> dict[str, str]:
        """Every system's native id for one entity."""
        query = sa.select(xref.c.system, xref.c.native_id).where(
            xref.c.entity_type == entity_type, xref.c.global_id == global_id
        )
        with self._db.connect() as conn:
            return {row.system: row.native_id for row in conn.execute(query)}
