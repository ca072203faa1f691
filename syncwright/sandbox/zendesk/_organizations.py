"""Organizations and custom organization fields, with the events their changes emit.

Fields and rules from the OAS ``OrganizationObject`` / ``CustomFieldObject`` and
https://developer.zendesk.com/api-reference/ticketing/organizations/organizations/ and
https://developer.zendesk.com/api-reference/ticketing/organizations/organization_fields/.
Event payloads: https://developer.zendesk.com/api-reference/webhooks/event-types/organization-events/.
Callers hold ``state.lock``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from typing import Any

from syncwright.sandbox.zendesk._errors import ValidationErrors
from syncwright.sandbox.zendesk._records import (
    find,
    insert,
    required_name,
    revise,
    unique_external_id,
    upsert,
)
from syncwright.sandbox.zendesk._state import Record, ZendeskEvent, ZendeskState
from syncwright.sandbox.zendesk._values import (
    id_str,
    opt_bool,
    opt_int,
    opt_str,
    str_list,
    tags,
)

FIELD_TYPES = frozenset(
    {"text", "textarea", "checkbox", "date", "integer", "decimal", "regexp", "dropdown", "lookup"}
)
_KEY = re.compile(r"^[A-Za-z0-9_]+$")
_ORG_EVENT = "zen:event-type:organization."

# -- organization fields ------------------------------------------------------------------


def _options(
    state: ZendeskState, raw: Any, errors: ValidationErrors, existing: list[Record]
) -> list[Record]:
    if not isinstance(raw, list) or not raw:
        errors.blank("custom_field_options", "Field options")
        return []
    by_id = {option["id"]: option for option in existing}
    options: list[Record] = []
    for position, item in enumerate(raw):
        if not isinstance(item, dict) or not item.get("name") or not item.get("value"):
            errors.add(
                "custom_field_options",
                "Field options: each option needs a name and a value",
                "InvalidValue",
            )
            continue
        option_id = item.get("id") if item.get("id") in by_id else state.next_id("field_option")
        options.append(
            {
                "id": option_id,
                "name": str(item["name"]),
                "raw_name": str(item["name"]),
                "value": str(item["value"]),
                "position": position,
            }
        )
    return options


def _apply_field(
    state: ZendeskState, field: Record, payload: Mapping[str, Any], *, creating: bool
) -> None:
    errors = ValidationErrors()
    if creating:
        key = payload.get("key")
        if not isinstance(key, str) or not key:
            errors.blank("key", "Key")
        elif not _KEY.match(key) or key.isdigit():
            errors.add(
                "key",
                "Key: must consist of letters, numbers and underscores, not only numbers",
                "InvalidValue",
            )
        elif any(other["key"] == key for other in state.organization_fields.values()):
            errors.taken("key", "Key")
        kind = payload.get("type", "text")
        if kind not in FIELD_TYPES:
            errors.invalid("type", "Type", kind)
        field["key"], field["type"] = key, kind
    if creating or "title" in payload:
        title = opt_str(payload, "title", errors, "Title")
        if not title:
            errors.blank("title", "Title")
        field["title"] = field["raw_title"] = title
    for name in ("description", "regexp_for_validation", "tag"):
        if name in payload:
            field[name] = opt_str(payload, name, errors, name.replace("_", " ").capitalize())
    field["description"] = field.get("description") or ""  # Zendesk sends "" when unset
    field["raw_description"] = field["description"]
    if "active" in payload:
        field["active"] = opt_bool(payload, "active", errors, "Active")
    if "position" in payload:
        field["position"] = opt_int(payload, "position", errors, "Position") or 0
    if field.get("type") == "dropdown" and (creating or "custom_field_options" in payload):
        field["custom_field_options"] = _options(
            state,
            payload.get("custom_field_options"),
            errors,
            field.get("custom_field_options", []),
        )
    errors.raise_if_any()


def create_field(state: ZendeskState, payload: Mapping[str, Any]) -> Record:
    defaults: Record = {
        "active": True,
        "description": "",
        "position": 9999,
        "regexp_for_validation": None,
        "system": False,
    }
    fields = state.organization_fields
    return insert(state, fields, "organization_field", defaults, payload, _apply_field)


def get_field(state: ZendeskState, field_id: int) -> Record:
    return find(state.organization_fields, field_id)


def update_field(state: ZendeskState, field_id: int, payload: Mapping[str, Any]) -> Record:
    field = get_field(state, field_id)
    revise(state, field, payload, _apply_field)
    return field


def delete_field(state: ZendeskState, field_id: int) -> None:
    field = get_field(state, field_id)
    del state.organization_fields[field_id]
    for org in state.organizations.values():
        org["organization_fields"].pop(field["key"], None)


def render_field(field: Record, base: str) -> Record:
    url = f"{base}/api/v2/organization_fields/{field['id']}.json"
    out: Record = {
        "url": url,
        "id": field["id"],
        "type": field["type"],
        "key": field["key"],
        "title": field["title"],
        "description": field["description"],
        "raw_title": field["raw_title"],
        "raw_description": field["raw_description"],
        "position": field["position"],
        "active": field["active"],
        "system": field["system"],
        "regexp_for_validation": field.get("regexp_for_validation"),
        "created_at": field["created_at"],
        "updated_at": field["updated_at"],
    }
    if field["type"] == "checkbox":
        out["tag"] = field.get("tag")
    if field["type"] == "dropdown":
        out["custom_field_options"] = [
            {
                **option,
                "url": f"{base}/api/v2/organization_fields/{field['id']}/options/"
                f"{option['id']}.json",
            }
            for option in field.get("custom_field_options", [])
        ]
    return out


def _coerce_value(field: Record, value: Any) -> tuple[bool, Any]:
    """A custom field value as Zendesk stores it for the field's type; (False, _) if invalid."""
    if value is None or value == "":
        return True, None
    kind = field["type"]
    if kind in ("text", "textarea"):
        return (True, str(value)) if isinstance(value, str | int | float) else (False, None)
    if kind == "checkbox":
        return (True, value) if isinstance(value, bool) else (False, None)
    if kind in ("integer", "lookup"):
        if isinstance(value, int) and not isinstance(value, bool):
            return True, value
        if isinstance(value, str) and value.lstrip("-").isdigit():
            return True, int(value)
        return False, None
    if kind == "decimal":
        try:
            return (True, float(value)) if not isinstance(value, bool) else (False, None)
        except (TypeError, ValueError):
            return False, None
    if kind == "date":
        if not isinstance(value, str):
            return False, None
        try:
            return True, date.fromisoformat(value[:10]).isoformat()
        except ValueError:
            return False, None
    if kind == "regexp":
        pattern = field.get("regexp_for_validation") or ".*"
        ok = isinstance(value, str) and re.fullmatch(pattern, value) is not None
        return (True, value) if ok else (False, None)
    if kind == "dropdown":
        values = {option["value"] for option in field.get("custom_field_options", [])}
        return (True, value) if value in values else (False, None)
    return False, None


def coerce_org_fields(state: ZendeskState, raw: Any, errors: ValidationErrors) -> dict[str, Any]:
    """Known keys only (Zendesk ignores unknown ones); each value checked against its type."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        errors.invalid("organization_fields", "Organization fields", raw)
        return {}
    fields = {field["key"]: field for field in state.organization_fields.values()}
    values: dict[str, Any] = {}
    for key, value in raw.items():
        field = fields.get(key)
        if field is None:
            continue
        ok, coerced = _coerce_value(field, value)
        if not ok:
            errors.add(
                f"organization_fields.{key}",
                f"{field['title']}: {value!r} is not a valid {field['type']} value",
                "InvalidValue",
            )
            continue
        values[key] = coerced
    return values


# -- organizations --------------------------------------------------------------------------


def _apply_org(
    state: ZendeskState, org: Record, payload: Mapping[str, Any], *, creating: bool
) -> None:
    errors = ValidationErrors()
    if creating or "name" in payload:
        name = required_name(payload, errors)
        if name is not None and any(
            other["name"].lower() == name.lower() and other["id"] != org.get("id")
            for other in state.organizations.values()
        ):
            errors.taken("name", "Name")
        org["name"] = name
    if "external_id" in payload:
        unique_external_id(payload, org, errors, state.organization_by_external_id)
    for name in ("details", "notes"):
        if name in payload:
            org[name] = opt_str(payload, name, errors, name.capitalize())
    if "group_id" in payload:
        org["group_id"] = opt_int(payload, "group_id", errors, "Group")
    for name in ("shared_tickets", "shared_comments"):
        if name in payload:
            org[name] = opt_bool(payload, name, errors, name.replace("_", " ").capitalize())
    if "domain_names" in payload:
        org["domain_names"] = str_list(payload["domain_names"], errors, "domain_names", "Domains")
    if "tags" in payload:
        org["tags"] = tags(payload["tags"], errors)
    if "organization_fields" in payload:
        # Zendesk merges: keys not sent keep their values.
        org["organization_fields"] = {
            **org.get("organization_fields", {}),
            **coerce_org_fields(state, payload["organization_fields"], errors),
        }
    errors.raise_if_any()


def get_org(state: ZendeskState, org_id: int) -> Record:
    return find(state.organizations, org_id)


def create_org(state: ZendeskState, payload: Mapping[str, Any]) -> Record:
    defaults: Record = {
        "external_id": None,
        "details": None,
        "notes": None,
        "group_id": None,
        "shared_tickets": False,
        "shared_comments": False,
        "domain_names": [],
        "tags": [],
        "organization_fields": {},
    }
    org = insert(state, state.organizations, "organization", defaults, payload, _apply_org)
    state.emit([ZendeskEvent(_ORG_EVENT + "created", _subject(org), org_detail(org))])
    return org


def update_org(state: ZendeskState, org_id: int, payload: Mapping[str, Any]) -> Record:
    org = get_org(state, org_id)
    before = revise(state, org, payload, _apply_org)
    state.emit(_change_events(state, before, org))
    return org


def create_or_update_org(state: ZendeskState, payload: Mapping[str, Any]) -> tuple[Record, bool]:
    """Match on ``id`` or ``external_id`` (never on name, as Zendesk documents)."""
    existing: Record | None = None
    if isinstance(payload.get("id"), int):
        existing = state.organizations.get(payload["id"])
    if existing is None and payload.get("external_id"):
        existing = state.organization_by_external_id(str(payload["external_id"]))
    return upsert(state, payload, existing, create_org, update_org)


def delete_org(state: ZendeskState, org_id: int) -> None:
    org = get_org(state, org_id)
    del state.organizations[org_id]
    for user in state.users.values():
        if user.get("organization_id") == org_id:
            user["organization_id"] = None
    state.emit([ZendeskEvent(_ORG_EVENT + "deleted", _subject(org), org_detail(org))])


def render_org(state: ZendeskState, org: Record, base: str) -> Record:
    """The OAS ``OrganizationObject``; every defined custom field key is present (null if unset)."""
    values = org.get("organization_fields", {})
    keys = [field["key"] for field in sorted(state.organization_fields.values(), key=_position)]
    return {
        "url": f"{base}/api/v2/organizations/{org['id']}.json",
        "id": org["id"],
        "name": org["name"],
        "shared_tickets": org["shared_tickets"],
        "shared_comments": org["shared_comments"],
        "external_id": org["external_id"],
        "created_at": org["created_at"],
        "updated_at": org["updated_at"],
        "domain_names": list(org["domain_names"]),
        "details": org["details"],
        "notes": org["notes"],
        "group_id": org["group_id"],
        "tags": list(org["tags"]),
        "organization_fields": {key: values.get(key) for key in keys},
    }


def _position(field: Record) -> tuple[int, int]:
    return (int(field["position"]), int(field["id"]))


def _subject(org: Record) -> str:
    return f"zen:organization:{org['id']}"


def org_detail(org: Record) -> Record:
    """The ``detail`` of organization events: the documented subset, ids as strings."""
    return {
        "created_at": org["created_at"],
        "external_id": org["external_id"] or "",
        "group_id": id_str(org["group_id"]),
        "id": id_str(org["id"]),
        "name": org["name"],
        "shared_comments": org["shared_comments"],
        "shared_tickets": org["shared_tickets"],
        "updated_at": org["updated_at"],
    }


def _change_events(state: ZendeskState, before: Record, after: Record) -> list[ZendeskEvent]:
    subject, detail = _subject(after), org_detail(after)
    events: list[ZendeskEvent] = []
    for name, suffix in (("name", "name_changed"), ("external_id", "external_id_changed")):
        if before[name] != after[name]:
            event = {"current": after[name], "previous": before[name]}
            events.append(ZendeskEvent(_ORG_EVENT + suffix, subject, detail, event))
    if before["tags"] != after["tags"]:
        event = {
            "tags_added": [tag for tag in after["tags"] if tag not in before["tags"]],
            "tags_removed": [tag for tag in before["tags"] if tag not in after["tags"]],
        }
        events.append(ZendeskEvent(_ORG_EVENT + "tags_changed", subject, detail, event))
    fields = {field["key"]: field for field in state.organization_fields.values()}
    old, new = before.get("organization_fields", {}), after.get("organization_fields", {})
    for key in sorted(set(old) | set(new)):
        if old.get(key) != new.get(key) and key in fields:
            field = fields[key]
            event = {
                "current": new.get(key),
                "previous": old.get(key),
                "field": {
                    "id": str(field["id"]),
                    "key": key,
                    "title": field["title"],
                    "type": field["type"],
                },
            }
            events.append(ZendeskEvent(_ORG_EVENT + "custom_field_changed", subject, detail, event))
    return events
