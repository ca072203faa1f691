"""The portal's records in memory: CRM objects with string properties, v4 associations,
property definitions, and the change events a write causes (fed to the webhook dispatcher).

HubSpot stores every property value as a string (``"1200.5"``, ``"2026-06-30"``), ids are
numeric strings, and every write stamps ``hs_lastmodifieddate``. Thread-safe: the app's request
handlers and the tests' admin calls share one lock.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from syncwright.sandbox.hubspot import _errors as err
from syncwright.sandbox.hubspot._schema import (
    ASSOCIATION_TYPES,
    DEFAULT_PIPELINE_STAGES,
    MODIFIED_PROPERTY,
    OBJECT_TYPES,
    READ_ONLY,
    STANDARD_PROPERTIES,
    SYNCWRIGHT_CONTACT_PROPERTIES,
    SYNCWRIGHT_PROPERTIES,
    PropertyDef,
)

DEFAULT_PORTAL_ID = 62515
STAGES = {stage for stage, *_ in DEFAULT_PIPELINE_STAGES}


def now_ms() -> int:
    return int(datetime.now(UTC).timestamp() * 1000)


def iso(ms: int) -> str:
    """HubSpot's timestamps: ISO-8601 in UTC with milliseconds (``2026-01-31T09:30:00.123Z``)."""
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.") + (
        f"{ms % 1000:03d}Z"
    )


@dataclass
class CrmObject:
    object_type: str  # path name: companies, deals, ...
    id: str
    properties: dict[str, str]
    created_ms: int
    updated_ms: int
    archived: bool = False

    def as_json(self, names: Iterable[str]) -> dict[str, Any]:
        return {
            "id": self.id,
            "properties": {n: self.properties.get(n) for n in names},
            "createdAt": iso(self.created_ms),
            "updatedAt": iso(self.updated_ms),
            "archived": self.archived,
        }


@dataclass(frozen=True)
class ChangeEvent:
    """One thing a webhook subscription may be told about (before batching and signing)."""

    subscription_type: str  # company.creation, deal.propertyChange, ...
    object_id: int
    occurred_at: int
    property_name: str | None = None
    property_value: str | None = None
    change_source: str = "API"
    source_id: str | None = None


@dataclass
class HubSpotState:
    portal_id: int = DEFAULT_PORTAL_ID
    objects: dict[str, dict[str, CrmObject]] = field(default_factory=dict)
    # (from type, from id, to type) -> {to id: [typeIds]}
    associations: dict[tuple[str, str, str], dict[str, list[int]]] = field(default_factory=dict)
    properties: dict[str, dict[str, PropertyDef]] = field(default_factory=dict)
    listeners: list[Callable[[ChangeEvent], None]] = field(default_factory=list)
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(10_000_001))
    _lock: threading.RLock = field(default_factory=threading.RLock)

    def __post_init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self.objects = {name: {} for name in OBJECT_TYPES}
            self.associations = {}
            self.properties = {
                name: {p.name: p for p in STANDARD_PROPERTIES[name]} for name in OBJECT_TYPES
            }
            for prop in SYNCWRIGHT_PROPERTIES:
                self.properties["companies"][prop.name] = prop
            for prop in SYNCWRIGHT_CONTACT_PROPERTIES:
                self.properties["contacts"][prop.name] = prop

    # -- properties ---------------------------------------------------------------------------

    def property_defs(self, object_type: str) -> list[PropertyDef]:
        with self._lock:
            return list(self.properties[object_type].values())

    def add_property(self, object_type: str, prop: PropertyDef) -> None:
        with self._lock:
            if prop.name in self.properties[object_type]:
                raise err.HubSpotApiError(
                    409,
                    err.error_body(
                        f"A property named '{prop.name}' already exists.", "OBJECT_ALREADY_EXISTS"
                    ),
                )
            self.properties[object_type][prop.name] = prop

    def remove_property(self, object_type: str, name: str) -> None:
        with self._lock:
            self.properties[object_type].pop(name, None)

    def _check(self, object_type: str, values: Mapping[str, Any]) -> dict[str, str]:
        known = self.properties[object_type]
        unknown = [n for n in values if n not in known]
        if unknown:
            raise err.unknown_properties(object_type, unknown)
        read_only = [n for n in values if n in READ_ONLY]
        if read_only:
            raise err.validation(
                "Property values were not valid",
                [
                    {
                        "message": f'"{n}" is a read only property; its value cannot be set.',
                        "code": "READ_ONLY_VALUE",
                        "context": {"propertyName": [n]},
                    }
                    for n in read_only
                ],
            )
        out: dict[str, str] = {}
        problems: list[dict[str, Any]] = []
        for name, raw in values.items():
            value = "" if raw is None else str(raw).lower() if isinstance(raw, bool) else str(raw)
            prop = known[name]
            if value and prop.type == "number":
                try:
                    float(value)
                except ValueError:
                    problems.append(_invalid(name, value, "is not a valid number"))
            # A checkbox (multiple checkboxes) property holds several options joined by ";".
            chosen = value.split(";") if prop.field_type == "checkbox" else [value]
            if value and prop.options and not set(chosen) <= set(prop.options):
                problems.append(_invalid(name, value, "was not one of the allowed options"))
            if name == "dealstage" and value and value not in STAGES:
                problems.append(_invalid(name, value, "was not one of the allowed options"))
            out[name] = value
        if problems:
            raise err.validation("Property values were not valid", problems)
        return out

    # -- records ------------------------------------------------------------------------------

    def create(
        self, object_type: str, values: Mapping[str, Any], *, source: str = "API"
    ) -> CrmObject:
        with self._lock:
            props = self._check(object_type, values)
            stamp = now_ms()
            object_id = str(next(self._ids))
            if object_type == "deals":
                props.setdefault("pipeline", "default")
            if object_type == "line_items":
                _line_amount(props)
            record = CrmObject(object_type, object_id, {}, stamp, stamp)
            record.properties.update(props)
            self._stamp(record, stamp)
            self.objects[object_type][object_id] = record
        self._emit(
            ChangeEvent(
                f"{_singular(object_type)}.creation", int(object_id), stamp, change_source=source
            )
        )
        self._emit_changes(object_type, object_id, stamp, props, source)
        return record

    def _stamp(self, record: CrmObject, stamp: int) -> None:
        record.updated_ms = stamp
        record.properties["hs_object_id"] = record.id
        record.properties["createdate"] = iso(record.created_ms)
        record.properties[MODIFIED_PROPERTY.get(record.object_type, "hs_lastmodifieddate")] = iso(
            stamp
        )
        if record.object_type == "deals":
            stage = record.properties.get("dealstage")
            record.properties["hs_is_closed_won"] = "true" if stage == "closedwon" else "false"
            record.properties["hs_is_closed"] = (
                "true" if stage in ("closedwon", "closedlost") else "false"
            )

    def get(self, object_type: str, object_id: str) -> CrmObject:
        with self._lock:
            record = self.objects[object_type].get(str(object_id))
            if record is None or record.archived:
                raise err.not_found(object_type, str(object_id))
            return record

    def find(self, object_type: str, object_id: str, id_property: str | None) -> CrmObject:
        """By id, or by a unique property's value (``idProperty``)."""
        if not id_property or id_property == "hs_object_id":
            return self.get(object_type, object_id)
        with self._lock:
            for record in self.objects[object_type].values():
                if not record.archived and record.properties.get(id_property) == object_id:
                    return record
        raise err.not_found(object_type, object_id)

    def update(
        self, object_type: str, object_id: str, values: Mapping[str, Any], *, source: str = "API"
    ) -> CrmObject:
        with self._lock:
            record = self.get(object_type, object_id)
            props = self._check(object_type, values)
            changed = {n: v for n, v in props.items() if record.properties.get(n, "") != v}
            record.properties.update(props)
            if object_type == "line_items":
                _line_amount(record.properties)
            stamp = now_ms()
            self._stamp(record, stamp)
        self._emit_changes(object_type, object_id, stamp, changed, source)
        return record

    def archive(self, object_type: str, object_id: str) -> None:
        with self._lock:
            record = self.get(object_type, object_id)
            record.archived = True
            stamp = now_ms()
        self._emit(ChangeEvent(f"{_singular(object_type)}.deletion", int(object_id), stamp))

    def all(self, object_type: str) -> list[CrmObject]:
        with self._lock:
            return [r for r in self.objects[object_type].values() if not r.archived]

    # -- associations (v4) --------------------------------------------------------------------

    def associate(
        self, from_type: str, from_id: str, to_type: str, to_id: str, type_ids: list[int] | None
    ) -> list[int]:
        with self._lock:
            self.get(from_type, from_id)
            self.get(to_type, to_id)
            default = ASSOCIATION_TYPES.get((from_type, to_type))
            back = ASSOCIATION_TYPES.get((to_type, from_type))
            if default is None or back is None:
                raise err.validation(f"{from_type} cannot be associated with {to_type}")
            ids = sorted(set(type_ids or [default[0]]) | {default[0]})
            self.associations.setdefault((from_type, from_id, to_type), {})[to_id] = ids
            # HubSpot keeps both directions of a pair: the reverse of each type.
            reverse = [back[0]] + ([back[1]] if default[1] in ids and back[1] else [])
            self.associations.setdefault((to_type, to_id, from_type), {})[from_id] = sorted(
                set(reverse)
            )
            return ids

    def unassociate(self, from_type: str, from_id: str, to_type: str, to_id: str) -> None:
        with self._lock:
            self.associations.get((from_type, from_id, to_type), {}).pop(to_id, None)
            self.associations.get((to_type, to_id, from_type), {}).pop(from_id, None)

    def associated(self, from_type: str, from_id: str, to_type: str) -> dict[str, list[int]]:
        with self._lock:
            found = self.associations.get((from_type, str(from_id), to_type), {})
            live = self.objects[to_type]
            return {k: list(v) for k, v in found.items() if k in live and not live[k].archived}

    # -- events -------------------------------------------------------------------------------

    def _emit_changes(
        self, object_type: str, object_id: str, stamp: int, changed: Mapping[str, str], source: str
    ) -> None:
        kind = f"{_singular(object_type)}.propertyChange"
        for name, value in changed.items():
            self._emit(ChangeEvent(kind, int(object_id), stamp, name, value, change_source=source))

    def _emit(self, event: ChangeEvent) -> None:
        for listener in list(self.listeners):
            listener(event)


def _singular(object_type: str) -> str:
    return OBJECT_TYPES[object_type][0]


def _invalid(name: str, value: str, problem: str) -> dict[str, Any]:
    return {
        "message": f'Property "{name}" value "{value}" {problem}',
        "code": "INVALID_OPTION" if "option" in problem else "INVALID_INTEGER",
        "context": {"propertyName": [name]},
    }


def _line_amount(props: dict[str, str]) -> None:
    """A line item's ``amount`` is HubSpot's calculation: quantity x price (less discount)."""
    try:
        quantity = float(props.get("quantity") or 0)
        price = float(props.get("price") or 0)
    except ValueError:
        return
    discount = float(props.get("discount") or 0) if _number(props.get("discount")) else 0.0
    props["amount"] = _plain(quantity * price - discount)


def _number(value: str | None) -> bool:
    try:
        float(value or "")
    except ValueError:
        return False
    return True


def _plain(number: float) -> str:
    text = f"{number:.2f}".rstrip("0").rstrip(".")
    return text or "0"
