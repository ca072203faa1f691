"""The audit trail: one hash chain of financially relevant writes and operator actions.

Entries are numbered 1, 2, 3, ... (``seq``); each entry's hash covers every field, its time
and the previous entry's hash (``_chain``), so changing, removing, inserting or reordering an
entry breaks the chain where it happened (``audit_verify``). Appending first takes the row lock
of the one-row head table (``UPDATE sw_audit_head ... RETURNING``): concurrent writers, in any
process on any host, queue there, so the chain stays one line on SQLite and PostgreSQL alike.

With ``audit.key`` set, hashes are HMAC-SHA256 under that key; export the head
(:meth:`AuditTrail.head`) now and then and keep it elsewhere, so a cut-off tail is noticed too.

Nothing else writes to the trail: connectors declare what they wrote (an ``audit`` block in a
step's result, :func:`syncwright.connectors.audit_block`) and the runtime hook records it;
operator actions are recorded by the exception service.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass
from typing import Any, Literal

import sqlalchemy as sa

from syncwright._time import as_utc, utcnow
from syncwright.ledger._chain import entry_hash
from syncwright.ledger.audit_verify import AuditHead, VerifyReport, verify_chain
from syncwright.store import Database
from syncwright.store.tables import audit, audit_head

__all__ = ["AuditEntry", "AuditHead", "AuditTrail"]

EntryKind = Literal["write", "operator"]


@dataclass(frozen=True)
class AuditEntry:
    """What to record. ``write``: a financially relevant write to a system (``action`` like
    ``netsuite.invoice.upsert``); ``operator``: a person's action (``exceptions.retry``)."""

    correlation_id: str
    connection: str
    action: str
    payload_digest: str
    kind: EntryKind = "write"
    actor: str | None = None
    workflow_id: str | None = None
    step: str | None = None
    native_id: str | None = None
    amount_minor: int | None = None
    currency: str | None = None
    detail: Mapping[str, Any] | None = None


class AuditTrail:
    def __init__(self, db: Database, *, key: bytes | None = None) -> None:
        self._db = db
        self._key = key

    @property
    def keyed(self) -> bool:
        return self._key is not None

    def append(self, entry: AuditEntry) -> AuditHead:
        """Add ``entry`` after the current head, in one transaction; returns the new head."""
        at = utcnow()
        with self._db.begin() as conn:
            # The write comes first: it takes the head's row lock (PostgreSQL) or SQLite's write
            # lock before anything is read, so no other writer can read the same head.
            locked = conn.execute(
                sa.update(audit_head)
                .where(audit_head.c.id == 1)
                .values(seq=audit_head.c.seq + 1)
                .returning(audit_head.c.seq, audit_head.c.hash)
            ).first()
            if locked is None:
                raise RuntimeError("the audit head row is missing: run `syncwright db upgrade`")
            seq, prev = int(locked[0]), str(locked[1])
            row: dict[str, Any] = {
                **asdict(entry),
                "detail": dict(entry.detail) if entry.detail is not None else None,
                "seq": seq,
                "at": at,
                "keyed": self.keyed,
                "prev_hash": prev,
            }
            digest = entry_hash(row, self._key)
            conn.execute(sa.insert(audit).values(**row, hash=digest))
            conn.execute(
                sa.update(audit_head).where(audit_head.c.id == 1).values(hash=digest, at=at)
            )
        return AuditHead(seq, digest, at)

    def recorded(
        self,
        *,
        workflow_id: str | None,
        connection: str,
        action: str,
        native_id: str | None,
        amount_minor: int | None,
        currency: str | None,
    ) -> bool:
        """Whether this run already recorded this write (a probe found a write its own step
        had recorded, or a step was re-run after a crash): each write is recorded once."""
        if workflow_id is None:
            return False
        query = (
            sa.select(audit.c.id)
            .where(
                audit.c.workflow_id == workflow_id,
                audit.c.action == action,
                audit.c.connection == connection,
                audit.c.native_id.is_not_distinct_from(native_id),
                audit.c.amount_minor.is_not_distinct_from(amount_minor),
                audit.c.currency.is_not_distinct_from(currency),
            )
            .limit(1)
        )
        with self._db.connect() as conn:
            return conn.execute(query).first() is not None

    def head(self) -> AuditHead:
        with self._db.connect() as conn:
            found = conn.execute(
                sa.select(audit_head.c.seq, audit_head.c.hash, audit_head.c.at).where(
                    audit_head.c.id == 1
                )
            ).first()
        if found is None:
            raise RuntimeError("the audit head row is missing: run `syncwright db upgrade`")
        at = as_utc(found[2]) if found[2] is not None else None
        return AuditHead(int(found[0]), str(found[1]), at)

    def entries(self, *, batch: int = 1000) -> Iterator[dict[str, Any]]:
        """Every numbered entry in chain order (by ``seq``), read in batches."""
        after = 0
        while True:
            query = sa.select(audit).where(audit.c.seq > after).order_by(audit.c.seq).limit(batch)
            with self._db.connect() as conn:
                rows = [dict(m) for m in conn.execute(query).mappings()]
            for row in rows:
                row["at"] = as_utc(row["at"])
                yield row
            if len(rows) < batch:
                return
            after = int(rows[-1]["seq"])

    def _seq_of(self, digest: str) -> int | None:
        with self._db.connect() as conn:
            found = conn.execute(sa.select(audit.c.seq).where(audit.c.hash == digest)).scalar()
        return int(found) if found is not None else None

    def verify(self, head: AuditHead | None = None) -> VerifyReport:
        """Walk the whole chain against the key, the head row and an exported ``head``; the
        report names the first problem (see :mod:`syncwright.ledger.audit_verify`)."""
        with self._db.connect() as conn:
            unnumbered = conn.execute(
                sa.select(sa.func.count()).select_from(audit).where(audit.c.seq.is_(None))
            ).scalar_one()
        return verify_chain(
            self.entries(),
            key=self._key,
            head=head,
            stored_head=self.head(),
            unnumbered=int(unnumbered),
            seq_of=self._seq_of,
        )
