"""The policy gate between normalize and routing: ownership, echo suppression, staleness and
deltas, applied to every canonical change event of every connector.

For one event from connection *W* about entity *E* (in one database transaction):

1. **Staleness.** An event older (``time``) than the newest one already applied from *W* about
   *E* is dropped: out-of-order delivery never overwrites newer state. A late transition event
   of a type not applied yet (``invoice.finalized`` after ``invoice.paid``) is a business fact
   that still happened: it travels once, as sent, and leaves the stored state as it is.
2. **Delta.** The fields that differ from the canonical state held for *E* are the change. The
   first event about an entity seeds its state; there is no owner's value to protect yet.
3. **Echo.** A changed field whose new value is exactly what syncwright last wrote to *W* is our
   own write coming back (by webhook, CDC or poll alike) and is removed from the change.
4. **Ownership.** Any other changed field *W* does not own is removed from the change (its
   stored value is kept) and reported as a violation naming field, entity, writer and owner.
5. What is left travels on as the event's ``changed_fields``; an event with nothing left starts
   no workflow. A transition event (activated, paid, ...) travels once per state of the entity,
   even when no field changed; a re-delivery of it is dropped as unchanged.

Admitting an event of the same inbox row again (the dispatcher repeating the row after a crash
between this gate and the enqueue) gives the answer it got the first time, so the workflow still
starts; the same event delivered again in another row is judged afresh.

Every event held back, and every field removed, is recorded in ``sw_policy_decisions`` and as a
``skipped`` ledger entry.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from syncwright.ledger import Ledger, LedgerEntry
from syncwright.model import parse_event
from syncwright.policy.entities import (
    STATE_EVENT_TYPES,
    EventSubject,
    event_subject,
    field_digests,
    value_digest,
)
from syncwright.policy.ownership import OwnershipPolicy
from syncwright.policy.store import Decision, PolicyStore, StoredState

__all__ = ["PolicyGate", "Verdict"]

log = logging.getLogger("syncwright.policy")
# Events per entity whose verdict is kept for a repeated admission (one delivery can carry
# several events about one entity, e.g. subscription created and activated).
_RECENT = 16


@dataclass
class Verdict:
    """What the gate did with one event: ``event`` to route (None: held back) and why."""

    event: dict[str, Any] | None
    kind: str = "passed"  # passed | ownership | echo | stale | unchanged
    decisions: list[Decision] = field(default_factory=list)


def _empty(value: Any) -> bool:
    return value is None or value in ("", [], {})


@dataclass
class _Change:
    """The field-by-field assessment of one event against the stored state."""

    kept: list[str] = field(default_factory=list)
    echoes: list[str] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)  # (field, owners)
    restored: dict[str, Any] = field(default_factory=dict)


class PolicyGate:
    def __init__(self, store: PolicyStore, ownership: OwnershipPolicy, ledger: Ledger) -> None:
        self._store = store
        self._ownership = ownership
        self._ledger = ledger

    def admit(
        self,
        connection: str,
        event: dict[str, Any],
        *,
        inbox_id: int | None = None,
        rerun: bool = False,
    ) -> Verdict:
        """``rerun``: the delivery asks for its workflows to run again (an operator's ``syncwright
        replay``, a reconciliation heal): it is never held back and changes no state, but fields
        its writer does not own still carry the stored (owner's) values."""
        subject = event_subject(str(event.get("type")))
        if subject is None:
            return Verdict(event)
        with self._store.begin() as conn:
            if rerun:
                return self._rerun(conn, connection, event, subject)
            verdict = self._decide(conn, connection, event, subject, inbox_id)
            PolicyStore.record(conn, verdict.decisions)
        self._ledger_entries(event, verdict)
        return verdict

    def _decide(
        self,
        conn: Any,
        writer: str,
        event: dict[str, Any],
        subject: EventSubject,
        inbox_id: int | None,
    ) -> Verdict:
        data: dict[str, Any] = event["data"]
        entity: dict[str, Any] = data[subject.data_key]
        global_id = str(entity["global_id"])
        event_type = str(event["type"])
        time = datetime.fromisoformat(str(event["time"]))

        def decision(kind: str, **extra: Any) -> Decision:
            return Decision(
                kind=kind,
                connection=writer,
                entity_type=subject.domain,
                global_id=global_id,
                event_type=event_type,
                event_id=str(event.get("id")),
                correlation_id=str(event.get("correlationid")),
                inbox_id=inbox_id,
                **extra,
            )

        state = PolicyStore.state(conn, subject.domain, global_id)
        # The same event of the same inbox row: the dispatcher repeating the row after a crash.
        # (A vendor delivering the event again comes in another row, and is judged afresh.)
        admission = f"{inbox_id}:{event.get('id')}"
        if state is not None and admission in state.recent:
            return Verdict(state.recent[admission], "passed")
        versions = dict(state.versions) if state else {}
        last = versions.get(writer)
        if state is not None and last is not None and time < datetime.fromisoformat(last):
            if event_type in STATE_EVENT_TYPES or event_type in state.applied:
                detail = f"event time {time.isoformat()} is older than {last}, already applied"
                return Verdict(None, "stale", [decision("stale", detail=detail)])
            # A transition that arrives late (paid before finalized) is still a business fact
            # that happened: it travels once, as sent, but leaves the newer state as it is.
            self._late_transition(conn, subject, global_id, event, state, admission)
            return Verdict(event, "passed")
        versions[writer] = time.isoformat()

        written = PolicyStore.written(conn, writer, subject.domain, global_id)
        change = self._assess(subject, writer, entity, state, written)
        decisions = [
            decision(
                "ownership",
                field=name,
                owner=owners,
                detail=f"{writer} changed {subject.domain}.{name}, which {owners} owns",
            )
            for name, owners in change.refused
        ]
        result = {**entity, **change.restored}
        digest = value_digest(result)
        applied = dict(state.applied) if state else {}
        new_transition = event_type not in STATE_EVENT_TYPES and applied.get(event_type) != digest
        passes = bool(change.kept) or new_transition
        travelled: dict[str, Any] | None = None
        if passes:
            data = {**data, subject.data_key: result}
            if subject.has_changed_fields and state is not None:
                data["changed_fields"] = change.kept
            # Validated again: what travels on is still a well-formed event of its type.
            checked = parse_event({**event, "data": data})
            travelled = checked.model_dump(mode="json", by_alias=True)
        recent = dict(state.recent) if state else {}
        if travelled is not None:
            recent[admission] = travelled
            for old in list(recent)[:-_RECENT]:
                del recent[old]
        PolicyStore.save_state(
            conn,
            subject.domain,
            global_id,
            previous=state,
            data=result,
            source_connection=writer,
            source_time=time,
            versions=versions,
            applied={**applied, event_type: digest} if passes else applied,
            recent=recent,
        )
        if change.kept:
            # The system now holds a value of its own: what we wrote there earlier is history.
            PolicyStore.forget(conn, writer, subject.domain, global_id, change.kept)
        if travelled is None:
            if change.echoes:
                kind = "echo"
                detail = f"only repeats what syncwright wrote: {', '.join(change.echoes)}"
            elif change.refused:
                kind = "ownership"
                detail = "no change to a field the writer owns is left"
            else:
                kind = "unchanged"
                detail = "nothing differs from the canonical state"
            if kind != "ownership":
                decisions.append(decision(kind, detail=detail))
            return Verdict(None, kind, decisions)
        return Verdict(travelled, "passed", decisions)

    def _rerun(
        self, conn: Any, writer: str, event: dict[str, Any], subject: EventSubject
    ) -> Verdict:
        data: dict[str, Any] = event["data"]
        entity: dict[str, Any] = data[subject.data_key]
        state = PolicyStore.state(conn, subject.domain, str(entity["global_id"]))
        if state is None:
            return Verdict(event, "passed")
        before = field_digests(state.data)
        refused = [
            name
            for name, digest in field_digests(entity).items()
            if before.get(name) != digest
            and not self._ownership.owner(subject.domain, name).allows(writer)
        ]
        if not refused:
            return Verdict(event, "passed")
        data = {**data, subject.data_key: {**entity, **{f: state.data.get(f) for f in refused}}}
        if subject.has_changed_fields:
            data["changed_fields"] = [f for f in data.get("changed_fields", []) if f not in refused]
        checked = parse_event({**event, "data": data})
        return Verdict(checked.model_dump(mode="json", by_alias=True), "passed")

    @staticmethod
    def _late_transition(
        conn: Any,
        subject: EventSubject,
        global_id: str,
        event: dict[str, Any],
        state: StoredState,
        admission: str,
    ) -> None:
        event_type = str(event["type"])
        recent = {**state.recent, admission: event}
        for old in list(recent)[:-_RECENT]:
            del recent[old]
        digest = value_digest(event["data"][subject.data_key])
        PolicyStore.save_state(
            conn,
            subject.domain,
            global_id,
            previous=state,
            data=state.data,
            source_connection=state.source_connection,
            source_time=state.source_time,
            versions=state.versions,
            applied={**state.applied, event_type: digest},
            recent=recent,
        )

    def _assess(
        self,
        subject: EventSubject,
        writer: str,
        entity: dict[str, Any],
        state: StoredState | None,
        written: dict[str, str],
    ) -> _Change:
        change = _Change()
        incoming = field_digests(entity)
        before = field_digests(state.data) if state is not None else {}
        for name, digest in incoming.items():
            if state is None:
                if _empty(entity[name]):
                    continue
            elif before.get(name) == digest:
                continue
            # Our own write coming back is neither a change nor a violation by that system.
            if written.get(name) == digest:
                change.echoes.append(name)
                if state is not None:
                    change.restored[name] = state.data.get(name)
                continue
            owner = self._ownership.owner(subject.domain, name)
            if state is not None and not owner.allows(writer):
                change.refused.append((name, owner.describe()))
                change.restored[name] = state.data.get(name)
            else:
                change.kept.append(name)
        return change

    def _ledger_entries(self, event: dict[str, Any], verdict: Verdict) -> None:
        for d in verdict.decisions:
            self._ledger.append(
                LedgerEntry(
                    correlation_id=d.correlation_id,
                    step=f"policy.{d.kind}",
                    outcome="skipped",
                    entity_key=str(event.get("entitykey") or "") or None,
                    connection=d.connection,
                    entity_type=d.entity_type,
                    global_id=d.global_id,
                    error_code=f"policy.{d.kind}",
                    message=d.detail,
                )
            )
        if verdict.event is None:
            log.info(
                "policy held back %s %s from %s: %s",
                event.get("type"),
                event.get("id"),
                verdict.decisions[0].connection if verdict.decisions else "?",
                verdict.kind,
            )
