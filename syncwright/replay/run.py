"""Replaying deliveries: each one goes into the inbox again as a new delivery under a new
correlation id, and is processed like any other -- current mapping, current workflows, in order
with its entity's other events; writes are idempotent, so what already matches changes nothing.
The ledger links the two correlation ids both ways."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from syncwright.ids import new_correlation_id
from syncwright.intake.inbox import InboxRow
from syncwright.ledger import LedgerEntry

if TYPE_CHECKING:
    from syncwright.runtime import Runtime

REPLAY_OF_HEADER = "x-syncwright-replay-of"


@dataclass(frozen=True)
class Replayed:
    inbox_id: int
    correlation_id: str
    new_inbox_id: int | None
    new_correlation_id: str

    def as_json(self) -> dict[str, Any]:
        return {
            "inbox_id": self.inbox_id,
            "correlation_id": self.correlation_id,
            "new_inbox_id": self.new_inbox_id,
            "new_correlation_id": self.new_correlation_id,
        }


def replay_delivery(runtime: Runtime, row: InboxRow, *, actor: str) -> Replayed:
    correlation_id = new_correlation_id()
    # A new vendor event id keeps the copy apart from the original in the inbox's dedupe.
    vendor_event_id = f"replay:{correlation_id}:{row.vendor_event_id}"[:255]
    accepted = runtime.inbox.accept(
        connection=row.connection,
        vendor_event_id=vendor_event_id,
        event_type=row.event_type,
        body=row.body,
        headers={REPLAY_OF_HEADER: row.correlation_id},
        origin="replay",
        correlation_id=correlation_id,
    )
    runtime.ledger.append(
        LedgerEntry(
            correlation_id=correlation_id,
            step="replay",
            outcome="requested",
            connection=row.connection,
            message=f"replay of {row.correlation_id} (inbox {row.id}) by {actor}",
        )
    )
    runtime.ledger.append(
        LedgerEntry(
            correlation_id=row.correlation_id,
            step="replay",
            outcome="replayed",
            connection=row.connection,
            message=f"replayed as {correlation_id} (inbox {accepted.inbox_id}) by {actor}",
        )
    )
    return Replayed(row.id, row.correlation_id, accepted.inbox_id, correlation_id)
