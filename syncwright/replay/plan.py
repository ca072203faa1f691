"""A replay's dry run: what processing each delivery again would hand to the workflows now,
field by field against what it handed them last time -- before anything is sent anywhere.

Last time is read from the engine (each run's recorded input); now is the connection's current
inbound mapping applied to the same stored payload. Normalizing reads the source system only
(enrichment), never a target.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from syncwright.engine import workflow_prefix_for
from syncwright.errors import SyncwrightError
from syncwright.intake.dispatcher import Dispatcher, delivery_of
from syncwright.intake.inbox import InboxRow
from syncwright.mapping import CompiledMapping, using_mapping
from syncwright.runtime import load_workflow_modules

if TYPE_CHECKING:
    from syncwright.engine import EngineClient
    from syncwright.runtime import Runtime


@dataclass(frozen=True)
class FieldChange:
    path: str
    before: Any
    after: Any

    def as_json(self) -> dict[str, Any]:
        return {"path": self.path, "before": self.before, "after": self.after}


@dataclass
class EventPlan:
    """One canonical event the delivery yields now; ``previous`` is False when it yielded no
    event at this position last time (so everything in it is new)."""

    index: int
    type: str
    workflows: list[str]
    previous: bool
    changes: list[FieldChange] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "type": self.type,
            "workflows": self.workflows,
            "previous": self.previous,
            "changes": [c.as_json() for c in self.changes],
        }


@dataclass
class DeliveryPlan:
    inbox_id: int
    connection: str
    event_type: str
    correlation_id: str
    events: list[EventPlan] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    error: str | None = None
    mapping: str | None = None  # the inbound mapping version it is normalized with

    @property
    def changed(self) -> bool:
        """Whether the workflows would get anything different. An event no workflow handles
        was never recorded and changes nothing downstream, so it does not count."""
        return bool(self.dropped) or any(
            e.workflows and (e.changes or not e.previous) for e in self.events
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "inbox_id": self.inbox_id,
            "connection": self.connection,
            "event_type": self.event_type,
            "correlation_id": self.correlation_id,
            "changed": self.changed,
            "events": [e.as_json() for e in self.events],
            "dropped": self.dropped,
            "error": self.error,
            "mapping": self.mapping,
        }


def flatten(value: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """Leaves of a JSON value as (dotted path, value); list items as ``path[i]``."""
    if isinstance(value, dict):
        if not value and prefix:
            yield prefix, {}
        for key in sorted(value):
            yield from flatten(value[key], f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(value, list):
        if not value and prefix:
            yield prefix, []
        for index, item in enumerate(value):
            yield from flatten(item, f"{prefix}[{index}]")
    else:
        yield prefix, value


def field_changes(before: Any, after: Any) -> list[FieldChange]:
    old, new = dict(flatten(before)), dict(flatten(after))
    return [
        FieldChange(path, old.get(path), new.get(path))
        for path in sorted(old.keys() | new.keys())
        if old.get(path) != new.get(path)
    ]


def _event_json(event: Any) -> dict[str, Any]:
    if hasattr(event, "model_dump"):
        dumped: dict[str, Any] = event.model_dump(mode="json", by_alias=True)
        return dumped
    return dict(event)


def _maps(connector: Any) -> bool:
    """Whether the connector normalizes through an inbound mapping file."""
    try:
        connector.mapping("inbound")
    except SyncwrightError:
        return False
    return True


def _previous_events(engine: EngineClient, inbox_id: int) -> dict[int, dict[str, Any]]:
    """Event index -> the event each run of this inbox row was started with."""
    found: dict[int, dict[str, Any]] = {}
    prefix = workflow_prefix_for(inbox_id)
    for workflow_id, payload in engine.inputs(prefix).items():
        index = int(workflow_id[len(prefix) :].split("-", 1)[0])
        event = payload.get("event")
        if isinstance(event, dict):
            found.setdefault(index, event)
    return found


def plan_delivery(
    runtime: Runtime,
    engine: EngineClient,
    row: InboxRow,
    *,
    mapping: CompiledMapping | None = None,
) -> DeliveryPlan:
    """``mapping``: normalize with this version (``replay --mapping``) instead of the
    connection's own; a connection of another vendor or direction keeps its own."""
    plan = DeliveryPlan(row.id, row.connection, row.event_type, row.correlation_id)
    connector = runtime.connectors.get(row.connection)
    if connector is None:
        plan.error = f"connection {row.connection!r} is not configured (or disabled)"
        return plan
    delivery = delivery_of(row)
    try:
        with using_mapping(mapping):
            plan.mapping = connector.mapping("inbound").ref if _maps(connector) else None
            if mapping is not None and mapping.direction == "outbound":
                plan.mapping = mapping.ref  # the write-back's version; the events are as now
            events = [_event_json(e) for e in connector.normalize(delivery)]
    except (SyncwrightError, ValueError, KeyError, TypeError) as exc:
        plan.error = f"{type(exc).__name__}: {exc}"
        return plan
    previous = _previous_events(engine, row.id)
    load_workflow_modules()  # the CLI and API have not started the engine
    router = Dispatcher(runtime)  # the routing the worker applies, disabled workflows left out
    for index, event in enumerate(events):
        event_type = str(event.get("type"))
        before = previous.get(index)
        workflows = router.routes(event_type)
        plan.events.append(
            EventPlan(
                index=index,
                type=event_type,
                workflows=workflows,
                previous=before is not None,
                # Only what reaches a workflow is compared (runs record their input).
                changes=field_changes((before or {}).get("data", {}), event.get("data", {}))
                if workflows
                else [],
            )
        )
    plan.dropped = [
        str(event.get("type")) for index, event in sorted(previous.items()) if index >= len(events)
    ]
    return plan
