"""Change events as the Pub/Sub API carries them: an Avro schema per object, Avro-encoded
payloads, and the bitmap encoding of ``changedFields`` / ``nulledFields`` / ``diffFields``.

Shape (our notes of Salesforce's docs: tests/vendor/salesforce/pubsub/CDC-EVENT-FORMAT.facts.json):
a record ``com.sforce.eventbus.<Object>ChangeEvent`` whose first field is the
``ChangeEventHeader`` record, then every event field as a nullable union with default null;
compound fields (addresses, Contact's ``Name``) are nested records. Dates and date-times are
epoch milliseconds (Avro long). Field-list header entries are bitmaps over field positions:
element 0 is the hex bitmap of top-level positions, ``"<pos>-<hex>"`` the sub-fields of the
compound field at ``pos``.
https://developer.salesforce.com/docs/platform/pub-sub-api/guide/event-deserialization-considerations.html
"""

from __future__ import annotations

import datetime as dt
import io
import json
from functools import cache
from typing import Any

import fastavro

from ._cdc import ChangeEvent
from ._render import _skip_in_event, event_field_name
from ._schema import ObjectDef

CHANGE_TYPES = (
    "CREATE",
    "UPDATE",
    "DELETE",
    "UNDELETE",
    "GAP_CREATE",
    "GAP_UPDATE",
    "GAP_DELETE",
    "GAP_UNDELETE",
    "GAP_OVERFLOW",
)
_STRINGS = {"type": "array", "items": "string"}
_HEADER: dict[str, Any] = {
    "type": "record",
    "name": "ChangeEventHeader",
    "fields": [
        {"name": "entityName", "type": "string"},
        {"name": "recordIds", "type": _STRINGS},
        {
            "name": "changeType",
            "type": {"type": "enum", "name": "ChangeType", "symbols": list(CHANGE_TYPES)},
        },
        {"name": "changeOrigin", "type": "string"},
        {"name": "transactionKey", "type": "string"},
        {"name": "sequenceNumber", "type": "int"},
        {"name": "commitTimestamp", "type": "long"},
        {"name": "commitNumber", "type": "long"},
        {"name": "commitUser", "type": "string"},
        {"name": "nulledFields", "type": _STRINGS},
        {"name": "diffFields", "type": _STRINGS},
        {"name": "changedFields", "type": _STRINGS},
    ],
}
_AVRO_TYPES = {
    "boolean": "boolean",
    "int": "int",
    "double": "double",
    "currency": "double",
    "percent": "double",
    "date": "long",
    "datetime": "long",
}


def event_name(entity: str) -> str:
    """``AccountChangeEvent``; custom objects: ``Employee__c`` -> ``Employee__ChangeEvent``."""
    return (entity[:-3] + "__" if entity.endswith("__c") else entity) + "ChangeEvent"


def layout(obj: ObjectDef) -> list[tuple[str, list[str]]]:
    """Top-level event fields after the header, in schema order: ``(name, components)``;
    components are empty for a plain field."""
    out: dict[str, list[str]] = {}
    for name in obj.fields:
        if _skip_in_event(obj, name):
            continue
        compound = event_field_name(obj, name)
        if compound is None:
            out.setdefault(name, [])
        else:
            out.setdefault(compound[0], []).append(compound[1])
    return list(out.items())


def _field_type(obj: ObjectDef, name: str) -> str:
    definition = obj.fields.get(name)
    return _AVRO_TYPES.get(definition.type, "string") if definition else "string"


def avro_schema(obj: ObjectDef) -> dict[str, Any]:
    """The Avro schema of ``obj``'s change event."""
    fields: list[dict[str, Any]] = [{"name": "ChangeEventHeader", "type": _HEADER}]
    for name, parts in layout(obj):
        if parts:
            prefix = name.removesuffix("Address") if name.endswith("Address") else ""
            kind: Any = {
                "type": "record",
                "name": f"{event_name(obj.name)}_{name}",
                "fields": [
                    {
                        "name": part,
                        "type": ["null", _field_type(obj, prefix + part)],
                        "default": None,
                    }
                    for part in parts
                ],
            }
        else:
            kind = _field_type(obj, name)
        fields.append({"name": name, "type": ["null", kind], "default": None})
    return {
        "type": "record",
        "name": event_name(obj.name),
        "namespace": "com.sforce.eventbus",
        "fields": fields,
    }


@cache
def _parsed(schema_json: str) -> Any:
    return fastavro.parse_schema(json.loads(schema_json))


def schema_json(obj: ObjectDef) -> str:
    return json.dumps(avro_schema(obj), separators=(",", ":"))


def bitmap(obj: ObjectDef, names: tuple[str, ...]) -> list[str]:
    """``changedFields``-style names (``Name``, ``BillingAddress.City``) as Pub/Sub bitmaps."""
    positions = {name: i + 1 for i, (name, _) in enumerate(layout(obj))}
    parts = dict(layout(obj))
    top = 0
    nested: dict[int, int] = {}
    for label in names:
        outer, _, inner = label.partition(".")
        pos = positions.get(outer)
        if pos is None:
            continue
        if inner and inner in parts[outer]:
            nested[pos] = nested.get(pos, 0) | (1 << parts[outer].index(inner))
        else:
            top |= 1 << pos
    if not top and not nested:
        return []
    return [f"0x{top:X}"] + [f"{pos}-0x{bits:X}" for pos, bits in sorted(nested.items())]


def _epoch_ms(kind: str, value: Any) -> int | None:
    if value is None or isinstance(value, int):
        return value
    text = str(value)
    if kind == "date" or len(text) == 10:
        day = dt.date.fromisoformat(text[:10])
        return int(dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC).timestamp() * 1000)
    stamp = dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%f%z")
    return int(stamp.timestamp() * 1000)


def _avro_value(obj: ObjectDef, name: str, value: Any) -> Any:
    if value is None:
        return None
    definition = obj.fields.get(name)
    kind = definition.type if definition else "string"
    avro = _AVRO_TYPES.get(kind, "string")
    if avro == "long":
        return _epoch_ms(kind, value)
    if avro == "double":
        return float(value)
    if avro in ("int", "boolean"):
        return value
    return value if isinstance(value, str) else json.dumps(value)


def encode(obj: ObjectDef, event: ChangeEvent) -> bytes:
    """``event`` as Avro binary under :func:`avro_schema` (no container, as Pub/Sub sends)."""
    record: dict[str, Any] = {
        "ChangeEventHeader": {
            "entityName": event.entity,
            "recordIds": list(event.record_ids),
            "changeType": event.change_type,
            "changeOrigin": event.change_origin,
            "transactionKey": event.transaction_key,
            "sequenceNumber": event.sequence_number,
            "commitTimestamp": event.commit_timestamp,
            "commitNumber": event.commit_number,
            "commitUser": event.commit_user,
            "nulledFields": bitmap(obj, event.nulled_fields),
            "diffFields": bitmap(obj, event.diff_fields),
            "changedFields": bitmap(obj, event.changed_fields),
        }
    }
    for name, parts in layout(obj):
        value = event.fields.get(name)
        if parts:
            prefix = name.removesuffix("Address") if name.endswith("Address") else ""
            record[name] = (
                {part: _avro_value(obj, prefix + part, value.get(part)) for part in parts}
                if isinstance(value, dict)
                else None
            )
        else:
            record[name] = _avro_value(obj, name, value)
    out = io.BytesIO()
    fastavro.schemaless_writer(out, _parsed(schema_json(obj)), record)
    return out.getvalue()
