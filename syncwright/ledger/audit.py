"""Hash-chained audit trail for financially relevant writes (invoices, payments, credits).

Each row's hash covers its content and the previous row's hash, so editing or deleting any row
breaks every hash after it; :meth:`AuditTrail.verify` finds the first broken link.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import sqlalchemy as sa

from syncwright._time import utcnow
from syncwright.store import Database
from syncwright.store.tables import audit

GENESIS = "0" * 64


def _link_hash(prev_hash: str, content: dict[str, Any]) -> str:
    encoded = json.dumps(content, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{prev_hash}|{encoded}".encode()).hexdigest()


def _content(row: dict[str, Any]) -> dict[str, Any]:
    keys = (
        "correlation_id",
        "workflow_id",
        "connection",
        "action",
        "native_id",
        "amount_minor",
        "currency",
        "payload_digest",
    )
    content = {k: row.get(k) for k in keys}
    # Rows written before the actor column hash without it, so their links still verify.
    if row.get("actor") is not None:
        content["actor"] = row["actor"]
    return content


class AuditTrail:
    def __init__(self, db: Database) -> None:
        self._db = db

    def append(
        self,
        *,
        correlation_id: str,
        connection: str,
        action: str,
        payload_digest: str,
        workflow_id: str | None = None,
        native_id: str | None = None,
        amount_minor: int | None = None,
        currency: str | None = None,
        actor: str | None = None,
    ) -> str:
        """Append one row; ``actor`` names who acted when a person did (a token name,
        ``cli:<user>``), and is covered by the hash."""
        row: dict[str, Any] = {
            "correlation_id": correlation_id,
            "workflow_id": workflow_id,
            "connection": connection,
            "action": action,
            "native_id": native_id,
            "amount_minor": amount_minor,
            "currency": currency,
            "payload_digest": payload_digest,
        }
        if actor is not None:
            row["actor"] = actor
        # The chain needs a total order: take the last hash and insert in one transaction; the
        # unique constraint on hash makes a concurrent writer with the same prev fail and retry.
        for _ in range(20):
            try:
                with self._db.engine.begin() as conn:
                    last = conn.execute(
                        sa.select(audit.c.hash).order_by(audit.c.id.desc()).limit(1)
                    ).scalar()
                    prev = str(last) if last else GENESIS
                    digest = _link_hash(prev, _content(row))
                    conn.execute(
                        sa.insert(audit).values(**row, at=utcnow(), prev_hash=prev, hash=digest)
                    )
                    return digest
            except sa.exc.IntegrityError:
                continue
        raise RuntimeError("audit trail is contended; could not append after 20 tries")

    def verify(self) -> tuple[bool, int | None]:
        """(True, None) when intact, else (False, id of the first row that does not verify)."""
        prev = GENESIS
        with self._db.engine.connect() as conn:
            for m in conn.execute(sa.select(audit).order_by(audit.c.id)).mappings():
                row = dict(m)
                if row["prev_hash"] != prev or row["hash"] != _link_hash(prev, _content(row)):
                    return False, int(row["id"])
                prev = row["hash"]
        return True, None
