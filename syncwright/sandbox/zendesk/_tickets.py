"""Tickets, their audits, and the events their changes emit.

Fields from the OAS ``TicketObject`` / ``AuditObject`` and
https://developer.zendesk.com/api-reference/ticketing/tickets/tickets/. Create and update answer
``{"ticket": ..., "audit": ...}`` (zenpy returns a ``TicketAudit`` for them). Event payloads after
https://developer.zendesk.com/api-reference/webhooks/event-types/ticket-events/ (best effort: the
vendor copy in ../shared has no ticket sample; ids are strings and status/priority/type are sent
in capitals, e.g. ``"status": "SOLVED"``). Callers hold ``state.lock``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from uuid import uuid4

from syncwright.sandbox.zendesk import _users
from syncwright.sandbox.zendesk._errors import ValidationErrors
from syncwright.sandbox.zendesk._records import find, reference
from syncwright.sandbox.zendesk._state import Record, ZendeskEvent, ZendeskState
from syncwright.sandbox.zendesk._values import id_str, int_list, one_of, opt_int, opt_str, tags

STATUSES = ("new", "open", "pending", "hold", "solved", "closed")
PRIORITIES = frozenset({"urgent", "high", "normal", "low"})
TYPES = frozenset({"problem", "incident", "question", "task"})
DEFAULT_BRAND_ID = 360_000_001
DEFAULT_FORM_ID = 360_000_002
_CUSTOM_STATUS_IDS = {status: 360_000_100 + n for n, status in enumerate(STATUSES)}
_TICKET_EVENT = "zen:event-type:ticket."
_UPPER_CASE = frozenset({"status", "priority", "type"})
_VIA = {"channel": "api", "source": {"from": {}, "to": {}, "rel": None}}
# (ticket attribute, event type suffix) for the plain "current/previous" change events.
_CHANGE_EVENTS = (
    ("status", "status_changed"),
    ("priority", "priority_changed"),
    ("subject", "subject_changed"),
    ("type", "type_changed"),
    ("organization_id", "organization_changed"),
    ("requester_id", "requester_changed"),
    ("assignee_id", "agent_assignment_changed"),
    ("external_id", "external_id_changed"),
)


def _comment_body(payload: Mapping[str, Any]) -> tuple[str | None, bool]:
    comment = payload.get("comment")
    if isinstance(comment, dict):
        body = comment.get("body") or comment.get("html_body")
        return (str(body) if body else None), bool(comment.get("public", True))
    if isinstance(comment, str) and comment:
        return comment, True
    return None, True


def _custom_fields(raw: Any, errors: ValidationErrors) -> dict[int, Any]:
    if raw is None:
        return {}
    if isinstance(raw, dict):  # zenpy and the docs also allow {"<id>": value}
        raw = [{"id": key, "value": value} for key, value in raw.items()]
    if not isinstance(raw, list):
        errors.invalid("custom_fields", "Custom fields", raw)
        return {}
    values: dict[int, Any] = {}
    for item in raw:
        field_id = item.get("id") if isinstance(item, dict) else None
        if isinstance(field_id, str) and field_id.isdigit():
            field_id = int(field_id)
        if not isinstance(field_id, int) or isinstance(field_id, bool):
            errors.invalid("custom_fields", "Custom fields", item)
            continue
        values[field_id] = item.get("value")
    return values


def _apply_ticket(
    state: ZendeskState, ticket: Record, payload: Mapping[str, Any], *, creating: bool
) -> None:
    errors = ValidationErrors()
    if "subject" in payload:
        ticket["subject"] = opt_str(payload, "subject", errors, "Subject")
    for name, label in (("requester_id", "Requester"), ("submitter_id", "Submitter")):
        if name in payload:
            ticket[name] = reference(payload, name, label, state.users, errors)
    if "assignee_id" in payload:
        assignee = reference(payload, "assignee_id", "Assignee", state.users, errors)
        if assignee is not None and state.users.get(assignee, {}).get("role") == "end-user":
            errors.add("assignee_id", "Assignee: is not an agent", "InvalidValue")
        ticket["assignee_id"] = assignee
    if "organization_id" in payload:
        ticket["organization_id"] = reference(
            payload, "organization_id", "Organization", state.organizations, errors
        )
    for name, allowed in (("priority", PRIORITIES), ("type", TYPES)):
        if name in payload and (payload[name] is None or one_of(payload, name, allowed, errors)):
            ticket[name] = payload[name]
    if "status" in payload and one_of(payload, "status", STATUSES, errors):
        ticket["status"] = payload["status"]
    if "external_id" in payload:
        ticket["external_id"] = opt_str(payload, "external_id", errors, "External ID")
    if "tags" in payload:
        ticket["tags"] = tags(payload["tags"], errors)
    if "additional_tags" in payload:
        extra = tags(payload["additional_tags"], errors, "additional_tags")
        ticket["tags"] = ticket["tags"] + [tag for tag in extra if tag not in ticket["tags"]]
    if "remove_tags" in payload:
        gone = set(tags(payload["remove_tags"], errors, "remove_tags"))
        ticket["tags"] = [tag for tag in ticket["tags"] if tag not in gone]
    for name in ("custom_fields", "fields"):
        if name in payload:
            ticket["custom_fields"] = {
                **ticket["custom_fields"],
                **_custom_fields(payload[name], errors),
            }
    for name, label in (("collaborator_ids", "Collaborators"), ("follower_ids", "Followers")):
        if name in payload:
            ticket[name] = int_list(payload[name], errors, name, label)
    if "group_id" in payload:
        ticket["group_id"] = opt_int(payload, "group_id", errors, "Group")
    if "problem_id" in payload:
        ticket["problem_id"] = opt_int(payload, "problem_id", errors, "Problem")
    if "due_at" in payload:
        due = opt_str(payload, "due_at", errors, "Due at")
        if due is not None:
            try:
                datetime.fromisoformat(due.replace("Z", "+00:00"))
            except ValueError:
                errors.invalid("due_at", "Due at", due)
        ticket["due_at"] = due
    body, public = _comment_body(payload)
    if creating:
        body = body or opt_str(payload, "description", errors, "Description")
        if not body:
            errors.blank("base", "Description")
        ticket["description"] = body
        ticket["is_public"] = public
    errors.raise_if_any()


def _requester_from_payload(state: ZendeskState, payload: Mapping[str, Any]) -> int:
    """``requester: {name, email}`` finds the user by email or creates an end user."""
    requester = payload.get("requester")
    if isinstance(requester, dict) and requester.get("email"):
        existing = state.user_by_email(str(requester["email"]))
        if existing is not None:
            return int(existing["id"])
        name = requester.get("name") or str(requester["email"]).split("@")[0]
        created = _users.create_user(state, {"name": name, "email": requester["email"]})
        return int(created["id"])
    return state.agent_id


def get_ticket(state: ZendeskState, ticket_id: int) -> Record:
    return find(state.tickets, ticket_id)


def create_ticket(state: ZendeskState, payload: Mapping[str, Any]) -> tuple[Record, Record]:
    now = state.timestamp()
    ticket: Record = {
        "external_id": None,
        "subject": None,
        "priority": None,
        "type": None,
        "status": "new",
        "requester_id": None,
        "submitter_id": state.agent_id,
        "assignee_id": None,
        "organization_id": None,
        "group_id": None,
        "problem_id": None,
        "due_at": None,
        "tags": [],
        "custom_fields": {},
        "collaborator_ids": [],
        "follower_ids": [],
        "created_at": now,
        "updated_at": now,
    }
    _apply_ticket(state, ticket, payload, creating=True)
    if ticket["requester_id"] is None:
        ticket["requester_id"] = _requester_from_payload(state, payload)
    if ticket["organization_id"] is None:
        ticket["organization_id"] = state.users[ticket["requester_id"]].get("organization_id")
    if "status" not in payload and ticket["assignee_id"] is not None:
        ticket["status"] = "open"
    ticket["id"] = state.next_id("ticket")
    state.tickets[ticket["id"]] = ticket
    audit_events = [
        {
            "id": state.next_id("audit_event"),
            "type": "Comment",
            "body": ticket["description"],
            "public": ticket["is_public"],
            "author_id": state.agent_id,
        },
        *(
            {
                "id": state.next_id("audit_event"),
                "type": "Create",
                "field_name": name,
                "value": _audit_value(ticket[name]),
            }
            for name in ("subject", "status", "priority", "type", "requester_id", "tags")
            if ticket[name] not in (None, [])
        ),
    ]
    audit = _add_audit(state, ticket, audit_events)
    sequence = _sequence()
    events = [
        ZendeskEvent(
            _TICKET_EVENT + "created",
            _subject(ticket),
            ticket_detail(ticket),
            {"meta": sequence(1, 1)},
        )
    ]
    state.emit(events, trigger_body=trigger_body(ticket, "created"))
    return ticket, audit


def update_ticket(
    state: ZendeskState, ticket_id: int, payload: Mapping[str, Any]
) -> tuple[Record, Record]:
    ticket = get_ticket(state, ticket_id)
    if ticket["status"] == "closed":
        errors = ValidationErrors()
        errors.add("status", "Status: closed prevents ticket update", "InvalidValue")
        errors.raise_if_any()
    before = {**ticket, "custom_fields": dict(ticket["custom_fields"])}
    draft = {**ticket, "custom_fields": dict(ticket["custom_fields"])}
    _apply_ticket(state, draft, payload, creating=False)
    draft["updated_at"] = state.timestamp()
    ticket.update(draft)
    audit_events: list[Record] = []
    changes: list[tuple[str, dict[str, Any]]] = []
    body, public = _comment_body(payload)
    if body:
        audit_events.append(
            {
                "id": state.next_id("audit_event"),
                "type": "Comment",
                "body": body,
                "public": public,
                "author_id": state.agent_id,
            }
        )
        if public:
            ticket["is_public"] = True
        changes.append(
            (
                "comment_added",
                {
                    "comment": {
                        "id": str(state.next_id("comment")),
                        "body": body,
                        "is_public": public,
                        "author": {"id": str(state.agent_id)},
                    }
                },
            )
        )
    for name, suffix in _CHANGE_EVENTS:
        if before[name] != ticket[name]:
            audit_events.append(_change_audit(state, name, ticket[name], before[name]))
            changes.append(
                (
                    suffix,
                    {
                        "current": _event_value(name, ticket[name]),
                        "previous": _event_value(name, before[name]),
                    },
                )
            )
    if before["tags"] != ticket["tags"]:
        audit_events.append(_change_audit(state, "tags", ticket["tags"], before["tags"]))
        changes.append(
            (
                "tags_changed",
                {
                    "tags_added": [tag for tag in ticket["tags"] if tag not in before["tags"]],
                    "tags_removed": [tag for tag in before["tags"] if tag not in ticket["tags"]],
                },
            )
        )
    old_fields, new_fields = before["custom_fields"], ticket["custom_fields"]
    for field_id in sorted(set(old_fields) | set(new_fields)):
        if old_fields.get(field_id) != new_fields.get(field_id):
            audit_events.append(
                _change_audit(
                    state, str(field_id), new_fields.get(field_id), old_fields.get(field_id)
                )
            )
            changes.append(
                (
                    "custom_field_changed",
                    {
                        "current": new_fields.get(field_id),
                        "previous": old_fields.get(field_id),
                        "field": {"id": str(field_id)},
                    },
                )
            )
    audit = _add_audit(state, ticket, audit_events)
    sequence = _sequence()
    subject, detail = _subject(ticket), ticket_detail(ticket)
    events = [
        ZendeskEvent(
            _TICKET_EVENT + suffix,
            subject,
            detail,
            {"meta": sequence(position, len(changes)), **event},
        )
        for position, (suffix, event) in enumerate(changes, start=1)
    ]
    state.emit(events, trigger_body=trigger_body(ticket, "updated") if changes else None)
    return ticket, audit


def delete_ticket(state: ZendeskState, ticket_id: int) -> None:
    get_ticket(state, ticket_id)
    del state.tickets[ticket_id]
    state.audits.pop(ticket_id, None)


def render_ticket(ticket: Record, base: str) -> Record:
    """The readable part of the OAS ``TicketObject`` (write-only attributes are never sent)."""
    custom_fields = [
        {"id": field_id, "value": value}
        for field_id, value in sorted(ticket["custom_fields"].items())
    ]
    return {
        "url": f"{base}/api/v2/tickets/{ticket['id']}.json",
        "id": ticket["id"],
        "external_id": ticket["external_id"],
        "via": _VIA,
        "created_at": ticket["created_at"],
        "updated_at": ticket["updated_at"],
        "type": ticket["type"],
        "subject": ticket["subject"],
        "raw_subject": ticket["subject"],
        "description": ticket["description"],
        "priority": ticket["priority"],
        "status": ticket["status"],
        "custom_status_id": _CUSTOM_STATUS_IDS[ticket["status"]],
        "recipient": None,
        "requester_id": ticket["requester_id"],
        "submitter_id": ticket["submitter_id"],
        "assignee_id": ticket["assignee_id"],
        "organization_id": ticket["organization_id"],
        "group_id": ticket["group_id"],
        "collaborator_ids": list(ticket["collaborator_ids"]),
        "follower_ids": list(ticket["follower_ids"]),
        "email_cc_ids": [],
        "forum_topic_id": None,
        "problem_id": ticket["problem_id"],
        "has_incidents": False,
        "is_public": ticket["is_public"],
        "due_at": ticket["due_at"],
        "tags": list(ticket["tags"]),
        "custom_fields": custom_fields,
        "satisfaction_rating": None,
        "sharing_agreement_ids": [],
        "fields": custom_fields,
        "followup_ids": [],
        "ticket_form_id": DEFAULT_FORM_ID,
        "brand_id": DEFAULT_BRAND_ID,
        "allow_channelback": False,
        "allow_attachments": True,
        "from_messaging_channel": False,
    }


def render_audit(audit: Record) -> Record:
    return dict(audit)


def _add_audit(state: ZendeskState, ticket: Record, events: list[Record]) -> Record:
    audit: Record = {
        "id": state.next_id("audit"),
        "ticket_id": ticket["id"],
        "created_at": ticket["updated_at"],
        "author_id": state.agent_id,
        "metadata": {"system": {}, "custom": {}},
        "events": events,
        "via": _VIA,
    }
    state.audits.setdefault(ticket["id"], []).append(audit)
    return audit


def _change_audit(state: ZendeskState, name: str, value: Any, previous: Any) -> Record:
    return {
        "id": state.next_id("audit_event"),
        "type": "Change",
        "field_name": name,
        "value": _audit_value(value),
        "previous_value": _audit_value(previous),
    }


def _audit_value(value: Any) -> Any:
    if isinstance(value, list):
        return [str(item) for item in value]
    return None if value is None else str(value)


def _event_value(name: str, value: Any) -> Any:
    """Event values: ids as strings, enumerations in capitals (``"OPEN"``), as Zendesk sends."""
    if name in _UPPER_CASE:
        return (value or "").upper()
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


def _sequence() -> Any:
    sequence_id = uuid4().hex.upper()

    def meta(position: int, total: int) -> dict[str, Any]:
        return {"sequence": {"id": sequence_id, "position": position, "total": total}}

    return meta


def _subject(ticket: Record) -> str:
    return f"zen:ticket:{ticket['id']}"


def ticket_detail(ticket: Record) -> Record:
    """The ``detail`` of ticket events: the documented property list, ids as strings."""
    return {
        "actor_id": id_str(ticket["submitter_id"]),
        "assignee_id": id_str(ticket["assignee_id"]),
        "brand_id": str(DEFAULT_BRAND_ID),
        "created_at": ticket["created_at"],
        "custom_status": str(_CUSTOM_STATUS_IDS[ticket["status"]]),
        "description": ticket["description"],
        "external_id": ticket["external_id"] or "",
        "form_id": str(DEFAULT_FORM_ID),
        "group_id": id_str(ticket["group_id"]),
        "id": id_str(ticket["id"]),
        "is_public": ticket["is_public"],
        "organization_id": id_str(ticket["organization_id"]),
        "priority": (ticket["priority"] or "").upper(),
        "requester_id": id_str(ticket["requester_id"]),
        "status": ticket["status"].upper(),
        "subject": ticket["subject"] or "",
        "submitter_id": id_str(ticket["submitter_id"]),
        "tags": list(ticket["tags"]),
        "type": (ticket["type"] or "").upper(),
        "updated_at": ticket["updated_at"],
        "via": {"channel": "api"},
    }


def trigger_body(ticket: Record, action: str) -> Record:
    """What a webhook connected to a ticket trigger (``conditional_ticket_events``) receives.

    On a real account an admin writes this body with placeholders; the emulator's built-in
    trigger ("ticket is created or updated -> notify webhook") renders these placeholders, all
    as strings, as Liquid renders them.
    """
    return {
        "ticket_event": action,
        "ticket": {
            "id": str(ticket["id"]),
            "external_id": ticket["external_id"] or "",
            "status": ticket["status"],
            "priority": ticket["priority"] or "",
            "subject": ticket["subject"] or "",
            "requester_id": str(ticket["requester_id"]),
            "organization_id": id_str(ticket["organization_id"])
            if ticket["organization_id"]
            else "",
            "tags": " ".join(ticket["tags"]),
            "updated_at": ticket["updated_at"],
        },
    }
