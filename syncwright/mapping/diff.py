"""Dry runs of mappings on stored deliveries: what a mapping makes of a delivery
(:func:`map_delivery`) and what a new mapping would change versus an old one, record by record
and field by field (:func:`diff_deliveries`; ``syncwright mapping diff``, replay dry runs).

Nothing is written: cross-reference lookups go through a :class:`DryRunResolver`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

import sqlalchemy as sa
from pydantic_core import to_jsonable_python

from syncwright.errors import BusinessRuleError
from syncwright.intake.inbox import InboxRow, _row
from syncwright.mapping._evaluate import CompiledMapping
from syncwright.mapping._resolvers import DryRunResolver
from syncwright.store import Database
from syncwright.store.tables import inbox
from syncwright.xref import CrossReference

__all__ = [
    "FieldChange",
    "Mapped",
    "RecordDiff",
    "diff_deliveries",
    "diff_records",
    "flatten",
    "map_delivery",
    "stored_deliveries",
]


@dataclass(frozen=True)
class Mapped:
    """What one mapping made of one delivery: the entity and its fields (JSON values), or the
    error it raised; ``entity`` None means no entity of the mapping takes this delivery."""

    entity: str | None
    fields: dict[str, Any] | None = None
    error: str | None = None


@dataclass(frozen=True)
class FieldChange:
    path: str
    kind: Literal["added", "removed", "changed"]
    old: Any = None
    new: Any = None


@dataclass(frozen=True)
class RecordDiff:
    """One stored delivery under OLD and NEW."""

    inbox_id: int
    connection: str
    event_type: str
    vendor_event_id: str
    old: Mapped
    new: Mapped
    changes: list[FieldChange] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.changes) or self.old.error != self.new.error

    def to_dict(self) -> dict[str, Any]:
        return to_jsonable_python(self)  # type: ignore[no-any-return]


def map_delivery(
    mapping: CompiledMapping,
    body: Any,
    *,
    connection: str,
    options: Mapping[str, Any] | None = None,
    xref: CrossReference | None = None,
    entity: str | None = None,
) -> Mapped:
    """Map a delivery body (or, with ``entity``, a record of that entity) without writing."""
    if entity is None:
        selected = mapping.select(body)
        if selected is None:
            return Mapped(None)
        entity, record = selected
    else:
        record = body
    try:
        fields = mapping.apply(
            entity, record, options=options, resolver=DryRunResolver(xref, connection)
        )
    except BusinessRuleError as exc:
        return Mapped(entity, error=f"{exc.code}: {exc.message}")
    return Mapped(entity, fields=to_jsonable_python(fields))


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """``{"a": {"b": [1]}}`` -> ``{"a.b[0]": 1}``: leaf values by path."""
    if isinstance(value, Mapping) and value:
        out: dict[str, Any] = {}
        for key, inner in value.items():
            out.update(flatten(inner, f"{prefix}.{key}" if prefix else str(key)))
        return out
    if isinstance(value, list) and value:
        out = {}
        for index, inner in enumerate(value):
            out.update(flatten(inner, f"{prefix}[{index}]"))
        return out
    return {prefix: value}


def diff_records(old: Mapping[str, Any] | None, new: Mapping[str, Any] | None) -> list[FieldChange]:
    """Field-level changes from ``old`` to ``new`` (JSON values), in path order."""
    before = flatten(dict(old or {})) if old else {}
    after = flatten(dict(new or {})) if new else {}
    changes = []
    for path in sorted(before.keys() | after.keys()):
        if path not in after:
            changes.append(FieldChange(path, "removed", old=before[path]))
        elif path not in before:
            changes.append(FieldChange(path, "added", new=after[path]))
        elif before[path] != after[path]:
            changes.append(FieldChange(path, "changed", before[path], after[path]))
    return changes


def stored_deliveries(
    db: Database,
    *,
    connection: str | None = None,
    event_type: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 100,
) -> list[InboxRow]:
    """Inbox rows, oldest first, filtered by connection, event type and receipt time."""
    query = sa.select(inbox).order_by(inbox.c.id).limit(limit)
    if connection is not None:
        query = query.where(inbox.c.connection == connection)
    if event_type is not None:
        query = query.where(inbox.c.event_type == event_type)
    if since is not None:
        query = query.where(inbox.c.received_at >= since)
    if until is not None:
        query = query.where(inbox.c.received_at < until)
    with db.engine.connect() as conn:
        return [_row(row) for row in conn.execute(query).mappings()]


def diff_deliveries(
    db: Database,
    old: CompiledMapping,
    new: CompiledMapping,
    *,
    connection: str | None = None,
    event_type: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 100,
    options: Mapping[str, Any] | None = None,
    only_changed: bool = False,
) -> list[RecordDiff]:
    """What ``new`` would make of stored deliveries versus ``old``, one :class:`RecordDiff`
    per delivery that either mapping takes (``only_changed``: those with a difference).

    ``options`` are the connection options both mappings see (over each file's defaults).
    """
    xref = CrossReference(db)
    out: list[RecordDiff] = []
    rows = stored_deliveries(
        db, connection=connection, event_type=event_type, since=since, until=until, limit=limit
    )
    for row in rows:
        try:
            body = json.loads(row.body)
        except ValueError:
            continue  # not JSON: no mapping takes it (the dispatcher parks such deliveries)
        mapped = [
            map_delivery(m, body, connection=row.connection, options=options, xref=xref)
            for m in (old, new)
        ]
        if mapped[0].entity is None and mapped[1].entity is None:
            continue
        diff = RecordDiff(
            row.id,
            row.connection,
            row.event_type,
            row.vendor_event_id,
            mapped[0],
            mapped[1],
            diff_records(mapped[0].fields, mapped[1].fields),
        )
        if diff.changed or not only_changed:
            out.append(diff)
    return out
