"""Records as Salesforce shows them: REST JSON (``attributes`` + fields, compound addresses) and
Change Data Capture payloads (nested compound fields, ``BillingAddress.City`` names)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ._schema import ADDRESS_COMPONENTS, ObjectDef

Record = dict[str, Any]

# Fields a change event never carries: the id travels in recordIds; the rest are bookkeeping.
_NOT_IN_EVENTS = frozenset(
    {"Id", "IsDeleted", "SystemModstamp", "LastReferencedDate", "LastViewedDate"}
)
_CONTACT_NAME_PARTS = ("Salutation", "FirstName", "LastName")
_ADDRESS_SUFFIXES = {suffix for suffix, _ in ADDRESS_COMPONENTS}


def record_url(version: str, object_name: str, record_id: str) -> str:
    return f"/services/data/v{version}/sobjects/{object_name}/{record_id}"


def address_value(record: Record, prefix: str) -> dict[str, Any] | None:
    """The compound address REST returns, or ``None`` when every component is empty."""
    value = {key: record.get(prefix + suffix) for suffix, key in ADDRESS_COMPONENTS}
    if all(v is None for v in value.values()):
        return None
    return value


def render(
    obj: ObjectDef, record: Record, version: str, fields: Iterable[str] | None = None
) -> Record:
    """``{"attributes": {"type", "url"}, <field>: <value>, ...}`` for the REST API."""
    out: Record = {
        "attributes": {"type": obj.name, "url": record_url(version, obj.name, record["Id"])}
    }
    prefixes = obj.address_prefixes()
    # Salesforce lists Id right after attributes when it returns the whole record.
    names = fields if fields is not None else ["Id", *(n for n in obj.fields if n != "Id")]
    for name in names:
        if name in prefixes:
            out[name] = address_value(record, prefixes[name])
        else:
            out[name] = record.get(name)
    return out


def event_field_name(obj: ObjectDef, name: str) -> tuple[str, str] | None:
    """``(compound, component)`` when ``name`` is part of a compound field in change events."""
    if obj.name == "Contact" and name in _CONTACT_NAME_PARTS:
        return ("Name", name)
    for compound, prefix in obj.address_prefixes().items():
        if name.startswith(prefix) and name[len(prefix) :] in _ADDRESS_SUFFIXES:
            return (compound, name[len(prefix) :])
    return None


def _skip_in_event(obj: ObjectDef, name: str) -> bool:
    if name in _NOT_IN_EVENTS:
        return True
    definition = obj.fields.get(name)
    if definition is not None and definition.type == "address":
        return True
    # Contact.Name is the compound itself; its parts carry the values.
    return obj.name == "Contact" and name == "Name"


def event_payload(obj: ObjectDef, record: Record, names: Iterable[str]) -> Record:
    """Field values for a change event, compound fields nested the way CDC nests them."""
    payload: Record = {}
    for name in names:
        if _skip_in_event(obj, name):
            continue
        compound = event_field_name(obj, name)
        if compound is None:
            payload[name] = record.get(name)
            continue
        outer, inner = compound
        nested = payload.get(outer)
        if not isinstance(nested, dict):
            nested = {}
            payload[outer] = nested
        nested[inner] = record.get(name)
    return payload


def event_changed_names(obj: ObjectDef, names: Iterable[str]) -> list[str]:
    """``changedFields`` / ``nulledFields`` names: ``BillingAddress.City``, ``Name.LastName``."""
    out: list[str] = []
    for name in names:
        if _skip_in_event(obj, name):
            continue
        compound = event_field_name(obj, name)
        label = f"{compound[0]}.{compound[1]}" if compound else name
        if label not in out:
            out.append(label)
    return out


def create_payload(obj: ObjectDef, record: Record) -> Record:
    """CREATE / UNDELETE events carry every field, nulls included."""
    payload = event_payload(obj, record, obj.fields)
    for compound, prefix in obj.address_prefixes().items():
        if compound in payload and all(v is None for v in payload[compound].values()):
            payload[compound] = None
        elif compound not in payload:
            payload[compound] = address_value(record, prefix)
    return payload
