"""Record-by-record comparison of what a system of record holds against what a target holds,
and the totals per currency and period that finance checks first."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from syncwright.reconcile.snapshot import Dataset, SnapshotRecord

DriftKind = Literal["missing", "extra", "different"]


@dataclass(frozen=True)
class FieldDiff:
    field: str
    source: Any
    target: Any


@dataclass
class Drift:
    """One record out of step. ``key`` is the global id (or ``unlinked:<connection>:<id>`` for
    a source record syncwright never linked); ``healed`` lists the events re-sent for it."""

    kind: DriftKind
    entity_type: str
    key: str
    source_id: str | None
    target_id: str | None
    fields: list[FieldDiff] = field(default_factory=list)
    healed: list[str] = field(default_factory=list)
    remediation: str = ""

    def as_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "entity_type": self.entity_type,
            "key": self.key,
            "source_id": self.source_id,
            "target_id": self.target_id,
            "fields": [
                {"field": f.field, "source": f.source, "target": f.target} for f in self.fields
            ],
            "healed": list(self.healed),
            "remediation": self.remediation,
        }


@dataclass
class Total:
    currency: str
    period: str
    source_count: int = 0
    source_amount: int = 0
    target_count: int = 0
    target_amount: int = 0

    def as_json(self) -> dict[str, Any]:
        return {
            "currency": self.currency,
            "period": self.period,
            "source_count": self.source_count,
            "source_amount": self.source_amount,
            "target_count": self.target_count,
            "target_amount": self.target_amount,
            "difference": self.source_amount - self.target_amount,
        }


@dataclass
class Comparison:
    drift: list[Drift]
    totals: list[Total]
    source_count: int
    target_count: int


def _field_diffs(
    dataset: Dataset, source: SnapshotRecord, target: SnapshotRecord
) -> list[FieldDiff]:
    diffs: list[FieldDiff] = []
    for name, wanted in source.fields.items():
        have = target.fields.get(name)
        # Settlement flows one way: a paid invoice must be settled in the ERP; an open one may
        # already be partly settled there by a credit memo, which is not drift.
        if dataset == "invoices" and name == "settled" and not wanted:
            continue
        if have != wanted:
            diffs.append(FieldDiff(name, wanted, have))
    return diffs


def _remediation(kind: DriftKind, source: str, target: str, entity_type: str) -> str:
    if kind == "missing":
        return (
            f"{target} lacks this {entity_type}: heal re-sends it from {source}; if it parks, "
            "the exception queue says what to fix first."
        )
    if kind == "extra":
        return (
            f"{target} holds a {entity_type} that {source} does not: check who created it there "
            f"and void it in {target} if it is a mistake (never deleted automatically)."
        )
    return (
        f"{target} differs from {source}, the system of record: heal re-sends the {entity_type} "
        f"from {source}; a change made by hand in {target} is overwritten."
    )


def _add_total(totals: dict[tuple[str, str], Total], record: SnapshotRecord, side: str) -> None:
    """Counts per currency and period; amounts too where the record has one (invoices)."""
    if record.currency is None:
        return
    key = (record.currency, record.period or "unknown")
    total = totals.setdefault(key, Total(*key))
    amount = record.amount_minor or 0
    if side == "source":
        total.source_count += 1
        total.source_amount += amount
    else:
        total.target_count += 1
        total.target_amount += amount


def compare(
    dataset: Dataset,
    source: Iterable[tuple[str, SnapshotRecord]],
    target: Iterable[tuple[str, SnapshotRecord]],
    *,
    source_name: str,
    target_name: str,
) -> Comparison:
    """``source`` and ``target`` are (key, record) pairs, keyed by global id."""
    drift: list[Drift] = []

    def add(
        kind: DriftKind,
        key: str,
        record: SnapshotRecord,
        source_id: str | None,
        target_id: str | None,
        fields: list[FieldDiff] | None = None,
        remediation: str | None = None,
    ) -> None:
        entity = record.entity_type
        why = remediation or _remediation(kind, source_name, target_name, entity)
        drift.append(Drift(kind, entity, key, source_id, target_id, fields or [], remediation=why))

    totals: dict[tuple[str, str], Total] = {}
    wanted: dict[str, SnapshotRecord] = {}
    for key, record in source:
        wanted[key] = record
        _add_total(totals, record, "source")
    held: dict[str, SnapshotRecord] = {}
    for key, record in target:
        _add_total(totals, record, "target")
        if key in held:  # two target records for one source record: a duplicate
            duplicate = (
                f"{target_name} holds this {record.entity_type} twice; void the duplicate "
                f"{record.native_id} there."
            )
            add("extra", key, record, None, record.native_id, remediation=duplicate)
            continue
        held[key] = record
    for key, record in wanted.items():
        found = held.get(key)
        if found is None:
            add("missing", key, record, record.native_id, None)
            continue
        diffs = _field_diffs(dataset, record, found)
        if diffs:
            add("different", key, record, record.native_id, found.native_id, diffs)
    for key, record in held.items():
        if key not in wanted:
            add("extra", key, record, None, record.native_id)
    ordered = sorted(totals.values(), key=lambda t: (t.currency, t.period))
    return Comparison(drift, ordered, len(wanted), len(held))


def keyed(
    records: Iterable[SnapshotRecord], connection: str, global_id_for: Any
) -> Iterable[tuple[str, SnapshotRecord]]:
    """Pairs each record with its global id: its own, or the cross-reference's for its native
    id in ``connection``; a record never linked gets ``unlinked:<connection>:<native id>``."""
    for record in records:
        gid = record.global_id or global_id_for(record.entity_type, connection, record.native_id)
        yield (gid or f"unlinked:{connection}:{record.native_id}", record)


def as_json_list(items: Iterable[Drift | Total]) -> list[Mapping[str, Any]]:
    return [item.as_json() for item in items]
