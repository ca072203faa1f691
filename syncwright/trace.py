"""One business event across every system: deliveries, ledger rows, native ids, exceptions."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from syncwright.store.tables import inbox

if TYPE_CHECKING:
    from syncwright.runtime import Runtime


def build_trace(runtime: Runtime, correlation_id: str) -> dict[str, Any]:
    entries = runtime.ledger.for_correlation(correlation_id)
    query = sa.select(
        inbox.c.id,
        inbox.c.connection,
        inbox.c.vendor_event_id,
        inbox.c.event_type,
        inbox.c.received_at,
        inbox.c.status,
    ).where(inbox.c.correlation_id == correlation_id)
    with runtime.db.engine.connect() as conn:
        deliveries = [
            {**dict(m), "received_at": m["received_at"].isoformat()}
            for m in conn.execute(query).mappings()
        ]
    systems: dict[str, set[str]] = {}
    for entry in entries:
        for system, native in entry.native_ids.items():
            systems.setdefault(system, set()).add(str(native))
    return {
        "correlation_id": correlation_id,
        "deliveries": deliveries,
        "ledger": [e.as_json() for e in entries],
        "systems": {k: sorted(v) for k, v in systems.items()},
        "exceptions": [r.as_json() for r in runtime.exceptions.list(correlation_id=correlation_id)],
    }
