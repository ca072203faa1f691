"""One business event -- or one customer's whole story -- across every system it touched.

``trace`` takes a correlation id (``cor_...``: one delivery and everything it caused), an entity
key (``account:<global id>``: every run of that customer), a global id, or any system's native
id (``cus_...``, a NetSuite internal id ...), which the cross-reference resolves.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from syncwright.ledger import LedgerEntry
from syncwright.store.tables import inbox, ledger, xref

if TYPE_CHECKING:
    from syncwright.runtime import Runtime


def _entity_key_for(runtime: Runtime, key: str) -> str | None:
    """An entity key from a global or native id, through the cross-reference and ledger."""
    with runtime.db.engine.connect() as conn:
        global_ids = {
            row.global_id
            for row in conn.execute(
                sa.select(xref.c.global_id).where(
                    sa.or_(xref.c.native_id == key, xref.c.global_id == key)
                )
            )
        }
        if not global_ids:
            return None
        found = conn.execute(
            sa.select(ledger.c.entity_key)
            .where(ledger.c.global_id.in_(global_ids), ledger.c.entity_key.is_not(None))
            .limit(1)
        ).scalar()
    return str(found) if found else None


def _entries(runtime: Runtime, key: str) -> tuple[str, list[LedgerEntry]]:
    if key.startswith("cor_"):
        return "correlation", runtime.ledger.for_correlation(key)
    if ":" in key:
        return "entity", runtime.ledger.for_entity(key)
    entity_key = _entity_key_for(runtime, key)
    if entity_key is None:
        return "correlation", runtime.ledger.for_correlation(key)
    return "entity", runtime.ledger.for_entity(entity_key)


def build_trace(runtime: Runtime, key: str) -> dict[str, Any]:
    kind, entries = _entries(runtime, key)
    correlation_ids = sorted(
        {e.correlation_id for e in entries} | ({key} if kind == "correlation" else set())
    )
    query = (
        sa.select(
            inbox.c.id,
            inbox.c.connection,
            inbox.c.vendor_event_id,
            inbox.c.event_type,
            inbox.c.received_at,
            inbox.c.status,
            inbox.c.correlation_id,
        )
        .where(inbox.c.correlation_id.in_(correlation_ids))
        .order_by(inbox.c.id)
    )
    with runtime.db.engine.connect() as conn:
        deliveries = [
            {**dict(m), "received_at": m["received_at"].isoformat()}
            for m in conn.execute(query).mappings()
        ]
    systems: dict[str, set[str]] = {}
    linked: set[tuple[str, str]] = set()
    for entry in entries:
        for system, native in entry.native_ids.items():
            systems.setdefault(system, set()).add(str(native))
        if entry.entity_type and entry.global_id:
            linked.add((entry.entity_type, entry.global_id))
    # The cross-reference adds every other system's id of the same entities (the source's too).
    for entity_type, global_id in sorted(linked):
        for system, native in runtime.xref.links(entity_type, global_id).items():
            systems.setdefault(system, set()).add(native)
    exceptions = [
        record.as_json()
        for correlation_id in correlation_ids
        for record in runtime.exceptions.list(correlation_id=correlation_id)
    ]
    return {
        "key": key,
        "kind": kind,
        "correlation_id": key if kind == "correlation" else None,
        "deliveries": deliveries,
        "ledger": [e.as_json() for e in entries],
        "systems": {k: sorted(v) for k, v in systems.items()},
        "exceptions": exceptions,
    }
