"""Users (end users, agents, admins) and the events their changes emit.

Fields from the OAS ``UserForAdmin`` schema and
https://developer.zendesk.com/api-reference/ticketing/users/users/; event payloads from
https://developer.zendesk.com/api-reference/webhooks/event-types/user-events/ (the
``user.active_changed`` sample is in ../shared/vendor/zendesk/webhooks/).
Callers hold ``state.lock``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from syncwright.sandbox.zendesk import _organizations
from syncwright.sandbox.zendesk._errors import ValidationErrors
from syncwright.sandbox.zendesk._records import (
    find,
    insert,
    reference,
    required_name,
    revise,
    unique_external_id,
    upsert,
)
from syncwright.sandbox.zendesk._state import Record, ZendeskEvent, ZendeskState, first_match
from syncwright.sandbox.zendesk._values import (
    id_str,
    is_email,
    one_of,
    opt_bool,
    opt_str,
    tags,
)

ROLES = frozenset({"end-user", "agent", "admin"})
TICKET_RESTRICTIONS = frozenset({"organization", "groups", "assigned", "requested"})
_USER_EVENT = "zen:event-type:user."
_TEXT_FIELDS = ("phone", "alias", "details", "notes", "signature", "locale", "time_zone")
_BOOL_FIELDS = ("verified", "suspended", "moderator", "only_private_comments")


def _apply_user(
    state: ZendeskState, user: Record, payload: Mapping[str, Any], *, creating: bool
) -> None:
    errors = ValidationErrors()
    if creating or "name" in payload:
        user["name"] = required_name(payload, errors)
    if "email" in payload:
        email = opt_str(payload, "email", errors, "Email")
        if email and not is_email(email):
            errors.add("email", f"Email: {email} is not properly formatted", "InvalidFormat")
        elif email:
            other = state.user_by_email(email)
            if other is not None and other["id"] != user.get("id"):
                errors.add(
                    "email",
                    f"Email: {email} is already being used by another user",
                    "DuplicateValue",
                )
        user["email"] = email or None
    if "external_id" in payload:
        unique_external_id(payload, user, errors, state.user_by_external_id)
    if "role" in payload and one_of(payload, "role", ROLES, errors):
        user["role"] = payload["role"]
    if "organization_id" in payload:
        user["organization_id"] = reference(
            payload, "organization_id", "Organization", state.organizations, errors
        )
    if "ticket_restriction" in payload:
        restriction = payload["ticket_restriction"]
        if restriction is not None and restriction not in TICKET_RESTRICTIONS:
            errors.invalid("ticket_restriction", "Ticket restriction", restriction)
        user["ticket_restriction"] = restriction
    for name in _TEXT_FIELDS:
        if name in payload:
            user[name] = opt_str(payload, name, errors, name.replace("_", " ").capitalize())
    for name in _BOOL_FIELDS:
        if name in payload:
            user[name] = opt_bool(payload, name, errors, name.replace("_", " ").capitalize())
    if "tags" in payload:
        user["tags"] = tags(payload["tags"], errors)
    if "user_fields" in payload:
        raw = payload["user_fields"]
        if not isinstance(raw, dict):
            errors.invalid("user_fields", "User fields", raw)
        else:
            user["user_fields"] = {**user.get("user_fields", {}), **raw}
    errors.raise_if_any()
    if creating and isinstance(payload.get("organization"), dict):
        # ``organization: {"name": ...}`` on create: join that organization, creating it if new.
        org_name = str(payload["organization"].get("name") or "")
        match = first_match(state.organizations.values(), "name", org_name)
        org = match or _organizations.create_org(state, {"name": org_name})
        user["organization_id"] = org["id"]


def get_user(state: ZendeskState, user_id: int) -> Record:
    return find(state.users, user_id)


def create_user(state: ZendeskState, payload: Mapping[str, Any]) -> Record:
    defaults: Record = {
        "email": None,
        "external_id": None,
        "role": "end-user",
        "organization_id": None,
        "active": True,
        "verified": False,
        "suspended": False,
        "tags": [],
        "user_fields": {},
    }
    user = insert(state, state.users, "user", defaults, payload, _apply_user)
    state.emit([ZendeskEvent(_USER_EVENT + "created", _subject(user), user_detail(user))])
    return user


def update_user(state: ZendeskState, user_id: int, payload: Mapping[str, Any]) -> Record:
    user = get_user(state, user_id)
    before = revise(state, user, payload, _apply_user)
    subject, detail = _subject(user), user_detail(user)
    events = [
        ZendeskEvent(
            _USER_EVENT + suffix, subject, detail, {"current": user[name], "previous": before[name]}
        )
        for name, suffix in (
            ("name", "name_changed"),
            ("external_id", "external_id_changed"),
            ("role", "role_changed"),
        )
        if before[name] != user[name]
    ]
    state.emit(events)
    return user


def create_or_update_user(state: ZendeskState, payload: Mapping[str, Any]) -> tuple[Record, bool]:
    """Match on ``external_id``, then on ``email`` (Zendesk's documented order)."""
    existing: Record | None = None
    if payload.get("external_id"):
        existing = state.user_by_external_id(str(payload["external_id"]))
    if existing is None and isinstance(payload.get("email"), str):
        existing = state.user_by_email(payload["email"])
    return upsert(state, payload, existing, create_user, update_user)


def delete_user(state: ZendeskState, user_id: int) -> Record:
    """Zendesk soft-deletes: the user stays readable with ``active: false``."""
    user = get_user(state, user_id)
    if user["active"]:
        user["active"] = False
        user["updated_at"] = state.timestamp()
        subject, detail = _subject(user), user_detail(user)
        state.emit(
            [
                ZendeskEvent(
                    _USER_EVENT + "active_changed",
                    subject,
                    detail,
                    {"current": False, "previous": True},
                ),
                ZendeskEvent(_USER_EVENT + "deleted", subject, detail),
            ]
        )
    return user


def render_user(user: Record, base: str) -> Record:
    """The OAS ``UserForAdmin`` field set, with Zendesk's defaults for what we do not model."""
    role = user["role"]
    end_user = role == "end-user"
    return {
        "url": f"{base}/api/v2/users/{user['id']}.json",
        "id": user["id"],
        "name": user["name"],
        "email": user["email"],
        "created_at": user["created_at"],
        "updated_at": user["updated_at"],
        "time_zone": user.get("time_zone") or "Eastern Time (US & Canada)",
        "iana_time_zone": "America/New_York",
        "phone": user.get("phone"),
        "shared_phone_number": None,
        "photo": None,
        "locale_id": 1,
        "locale": user.get("locale") or "en-US",
        "organization_id": user["organization_id"],
        "role": role,
        "verified": user["verified"],
        "external_id": user["external_id"],
        "tags": list(user["tags"]),
        "alias": user.get("alias") or "",
        "active": user["active"],
        "shared": False,
        "shared_agent": False,
        "last_login_at": None,
        "two_factor_auth_enabled": None,
        "signature": None if end_user else (user.get("signature") or ""),
        "details": user.get("details") or "",
        "notes": user.get("notes") or "",
        "role_type": 4 if role == "admin" else None,
        "custom_role_id": None,
        "moderator": bool(user.get("moderator", False)),
        "ticket_restriction": user.get("ticket_restriction", "requested" if end_user else None),
        "only_private_comments": bool(user.get("only_private_comments", False)),
        "restricted_agent": end_user,
        "suspended": user["suspended"],
        "chat_only": False,
        "default_group_id": None,
        "report_csv": False,
        "user_fields": dict(user["user_fields"]),
    }


def _subject(user: Record) -> str:
    return f"zen:user:{user['id']}"


def user_detail(user: Record) -> Record:
    """The ``detail`` of user events, as in the vendor's ``user.active_changed`` sample."""
    return {
        "created_at": user["created_at"],
        "email": user["email"] or "",
        "external_id": user["external_id"] or "",
        "default_group_id": "0",
        "id": id_str(user["id"]),
        "organization_id": id_str(user["organization_id"]),
        "role": user["role"],
        "updated_at": user["updated_at"],
    }
