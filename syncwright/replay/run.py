"""Replaying deliveries: each one goes into the inbox again as a new delivery under a new
correlation id, and is processed like any other -- current mapping, current workflows, in order
with its entity's other events; writes are idempotent, so what already matches changes nothing.
The ledger links the two correlation ids both ways."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from syncwright.engine import replay_fork_id, workflow_prefix_for
from syncwright.ids import new_correlation_id
from syncwright.intake.dispatcher import REPLAY_MAPPING_HEADER
from syncwright.intake.inbox import InboxRow
from syncwright.ledger import LedgerEntry

if TYPE_CHECKING:
    from syncwright.engine import EngineClient
    from syncwright.runtime import Runtime

# DBOS statuses of runs that will not move again by themselves.
FINISHED = ("SUCCESS", "ERROR", "CANCELLED", "MAX_RECOVERY_ATTEMPTS_EXCEEDED")

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


class CannotReplayFromStep(ValueError):
    pass


def _copy(
    runtime: Runtime, row: InboxRow, correlation_id: str, status: str, mapping: str | None = None
) -> int | None:
    # A new vendor event id keeps the copy apart from the original in the inbox's dedupe.
    headers = {REPLAY_OF_HEADER: row.correlation_id}
    if mapping is not None:
        headers[REPLAY_MAPPING_HEADER] = mapping
    accepted = runtime.inbox.accept(
        connection=row.connection,
        vendor_event_id=f"replay:{correlation_id}:{row.vendor_event_id}"[:255],
        event_type=row.event_type,
        body=row.body,
        headers=headers,
        origin="replay",
        correlation_id=correlation_id,
        status=status,
    )
    return accepted.inbox_id


def _link(
    runtime: Runtime,
    row: InboxRow,
    correlation_id: str,
    new_inbox: int | None,
    *,
    actor: str,
    from_step: str | None = None,
    mapping: str | None = None,
) -> None:
    how = f"from step {from_step} by {actor}" if from_step else f"by {actor}"
    if mapping is not None:
        how += f" under mapping {mapping}"
    runtime.ledger.append(
        LedgerEntry(
            correlation_id=correlation_id,
            step="replay",
            outcome="requested",
            connection=row.connection,
            message=f"replay of {row.correlation_id} (inbox {row.id}) {how}",
            mapping_version=mapping,
            actor=actor,
        )
    )
    runtime.ledger.append(
        LedgerEntry(
            correlation_id=row.correlation_id,
            step="replay",
            outcome="replayed",
            connection=row.connection,
            message=f"replayed as {correlation_id} (inbox {new_inbox}) {how}",
            mapping_version=mapping,
            actor=actor,
        )
    )


def replay_delivery(
    runtime: Runtime, row: InboxRow, *, actor: str, mapping: str | None = None
) -> Replayed:
    """From the start: the delivery is processed again by the dispatcher and its workflows --
    normalized with mapping version ``mapping`` (``name@version``, see
    ``MappingSet.version``) when given, which the ledger records with the replay."""
    correlation_id = new_correlation_id()
    new_inbox = _copy(runtime, row, correlation_id, "pending", mapping)
    _link(runtime, row, correlation_id, new_inbox, actor=actor, mapping=mapping)
    return Replayed(row.id, row.correlation_id, new_inbox, correlation_id)


def replay_from_step(
    runtime: Runtime, engine: EngineClient, row: InboxRow, step: str, *, actor: str
) -> Replayed:
    """From a step: each finished run of the delivery that has ``step`` is forked there --
    earlier steps keep their recorded results, ``step`` and the rest run again -- under a new
    correlation id. Raises :class:`CannotReplayFromStep` when no run can be."""
    prefix = workflow_prefix_for(row.id)
    runs = sorted(engine.inputs(prefix))
    chosen: list[tuple[str, int, int, str]] = []  # (run, event index, step number, workflow)
    seen: set[str] = set()
    for workflow_id in runs:
        status = engine.status(workflow_id)
        if status not in FINISHED:
            raise CannotReplayFromStep(
                f"run {workflow_id} is {status}; replay from a step only finished runs "
                "(a parked run is resumed with `syncwright exceptions retry`)"
            )
        index_text, workflow = workflow_id[len(prefix) :].split("-", 1)
        # Each attempt of a step is recorded as ``<step>#<attempt>``: fork at the first.
        steps = [(n, name.rpartition("#")[0] or name) for n, name in engine.steps(workflow_id)]
        seen.update(name for _, name in steps)
        number = next((n for n, name in steps if name == step), None)
        if number is not None:
            chosen.append((workflow_id, int(index_text), number, workflow))
    if not chosen:
        known = ", ".join(sorted(seen)) or "none recorded"
        raise CannotReplayFromStep(
            f"no run of inbox {row.id} has a step {step!r}; its steps: {known}"
        )
    correlation_id = new_correlation_id()
    new_inbox = _copy(runtime, row, correlation_id, "dispatched")
    if new_inbox is None:  # pragma: no cover - the vendor event id is new by construction
        raise CannotReplayFromStep(f"inbox {row.id} could not be copied")
    _link(runtime, row, correlation_id, new_inbox, actor=actor, from_step=step)
    for workflow_id, index, number, workflow in chosen:
        engine.fork(workflow_id, number, replay_fork_id(new_inbox, index, workflow, correlation_id))
    return Replayed(row.id, row.correlation_id, new_inbox, correlation_id)
