"""Append-only record of every step attempt, keyed by correlation id.

One correlation id follows one business event through every system it touches, so
``syncwright trace <id>`` reads a customer's story from a single index.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import RowMapping
from sqlalchemy.engine import Connection

from syncwright._time import as_utc, utcnow
from syncwright.store import Database
from syncwright.store.tables import ledger


def request_digest(payload: Any) -> str:
    """A stable digest of what we sent: proves what was written without storing the payload."""
    encoded = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(encoded.encode()).hexdigest()


@dataclass(frozen=True)
class LedgerEntry:
    correlation_id: str
    step: str
    outcome: str
    attempt: int = 1
    workflow_id: str | None = None
    workflow: str | None = None
    entity_key: str | None = None
    connection: str | None = None
    entity_type: str | None = None
    global_id: str | None = None
    native_ids: Mapping[str, str] = field(default_factory=dict)
    request_digest: str | None = None
    error_code: str | None = None
    message: str | None = None
    mapping_version: str | None = None
    duration_ms: float | None = None
    actor: str | None = None
    at: datetime | None = None
    id: int | None = None

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["native_ids"] = dict(self.native_ids)
        data["at"] = self.at.isoformat() if self.at else None
        return data


class Ledger:
    def __init__(self, db: Database) -> None:
        self._db = db

    def transaction(self) -> AbstractContextManager[Connection]:
        """One transaction that the ledger's writes in this context, and those of the other
        stores on the same database (audit, exceptions, write memory, cross-reference), join:
        they commit together, once (:meth:`Database.begin`)."""
        return self._db.begin()

    def append(self, entry: LedgerEntry) -> None:
        values = asdict(entry)
        values.pop("id")
        values["native_ids"] = dict(entry.native_ids)
        values["at"] = entry.at or utcnow()
        with self._db.begin() as conn:
            conn.execute(sa.insert(ledger).values(**values))

    def for_correlation(self, correlation_id: str) -> list[LedgerEntry]:
        return self._select(ledger.c.correlation_id == correlation_id)

    def for_entity(self, entity_key: str) -> list[LedgerEntry]:
        return self._select(ledger.c.entity_key == entity_key)

    def for_workflow(self, workflow_id: str) -> list[LedgerEntry]:
        return self._select(ledger.c.workflow_id == workflow_id)

    def recent(self, limit: int = 100) -> list[LedgerEntry]:
        query = sa.select(ledger).order_by(ledger.c.id.desc()).limit(limit)
        with self._db.connect() as conn:
            return [_entry(m) for m in conn.execute(query).mappings()]

    def _select(self, where: sa.ColumnElement[bool]) -> list[LedgerEntry]:
        query = sa.select(ledger).where(where).order_by(ledger.c.id)
        with self._db.connect() as conn:
            return [_entry(m) for m in conn.execute(query).mappings()]


def _entry(m: RowMapping) -> LedgerEntry:
    values = dict(m)
    values["at"] = as_utc(values["at"])
    values["native_ids"] = values.get("native_ids") or {}
    return LedgerEntry(**values)
