"""The emulated Freshdesk account: companies (with custom fields), contacts, tickets and SLA
policies, validated the way Freshdesk validates them (``_errors`` has the bodies).

Record shapes follow Freshdesk's API v2 objects as python-freshdesk's recorded samples show them
(../shared/vendor/freshdesk/python-freshdesk.v2-sample-responses.json): integer ids, ISO-8601
UTC timestamps with second precision, ``custom_fields`` objects, ticket ``status``/``priority``/
``source`` as numbers.
"""

from __future__ import annotations

import copy
import itertools
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from syncwright.sandbox.freshdesk._errors import (
    duplicate,
    invalid_field,
    missing,
    not_found,
    one_of,
    validation,
)

JSON = dict[str, Any]

# https://developers.freshdesk.com/api/#tickets: the numbers the API speaks.
TICKET_STATUSES = {2: "Open", 3: "Pending", 4: "Resolved", 5: "Closed"}
TICKET_PRIORITIES = {1: "Low", 2: "Medium", 3: "High", 4: "Urgent"}
TICKET_SOURCES = {
    1: "Email",
    2: "Portal",
    3: "Phone",
    4: "Forum",
    5: "Twitter",
    6: "Facebook",
    7: "Chat",
    8: "Mobihelp",
    9: "Feedback Widget",
    10: "Outbound Email",
}
_COMPANY_KEYS = {
    "name",
    "description",
    "domains",
    "note",
    "custom_fields",
    "health_score",
    "account_tier",
    "renewal_date",
    "industry",
}
_CONTACT_KEYS = {
    "name",
    "email",
    "phone",
    "mobile",
    "twitter_id",
    "unique_external_id",
    "company_id",
    "job_title",
    "language",
    "time_zone",
    "description",
    "address",
    "custom_fields",
    "view_all_tickets",
    "other_emails",
    "tags",
}
_TICKET_KEYS = {
    "subject",
    "description",
    "email",
    "requester_id",
    "phone",
    "name",
    "status",
    "priority",
    "source",
    "type",
    "company_id",
    "responder_id",
    "group_id",
    "tags",
    "cc_emails",
    "custom_fields",
    "due_by",
    "fr_due_by",
}
_CONTACT_IDENTITIES = ("email", "phone", "mobile", "twitter_id", "unique_external_id")
_SLA_KEYS = {"name", "description", "active", "applicable_to", "sla_target", "escalation"}
_APPLICABLE_KEYS = {"company_ids", "group_ids", "sources", "ticket_types", "product_ids"}


def now_text(clock: Callable[[], datetime]) -> str:
    return clock().astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class TicketChange:
    """One ticket create/update, what an automation rule reacts to."""

    event: str  # "ticket_created" | "ticket_updated"
    ticket: JSON
    changes: dict[str, tuple[Any, Any]] = field(default_factory=dict)


def _unknown_keys(body: Mapping[str, Any], allowed: set[str]) -> list[tuple[str, str, str]]:
    return [invalid_field(key) for key in body if key not in allowed]


class FreshdeskState:
    """Everything one emulated account holds; thread-safe (the server runs handlers on
    threads). ``on_ticket_change`` is called (outside the lock) after each ticket write."""

    def __init__(self, clock: Callable[[], datetime] | None = None) -> None:
        self._clock = clock or (lambda: datetime.now(UTC))
        self._lock = threading.RLock()
        self.on_ticket_change: Callable[[TicketChange], None] | None = None
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self._ids = itertools.count(1001)
            self.companies: dict[int, JSON] = {}
            self.company_fields: dict[str, JSON] = {}
            self.contacts: dict[int, JSON] = {}
            self.tickets: dict[int, JSON] = {}
            self.sla_policies: dict[int, JSON] = {}
            self._add_default_sla_policy()

    def now(self) -> str:
        return now_text(self._clock)

    # -- company fields ------------------------------------------------------------------
    # https://developers.freshdesk.com/api/#list_all_company_fields

    def add_company_field(
        self, name: str, *, label: str | None = None, choices: Iterable[str] | None = None
    ) -> JSON:
        """What an admin does in Admin > Customer fields: a text field, or a dropdown with
        ``choices``."""
        with self._lock:
            if name in self.company_fields:
                raise duplicate("name")
            stamp = self.now()
            record: JSON = {
                "id": next(self._ids),
                "name": name,
                "label": label or name.replace("_", " ").title(),
                "position": len(self.company_fields) + 2,
                "required_for_agents": False,
                "type": "custom_dropdown" if choices is not None else "custom_text",
                "default": False,
                "choices": list(choices) if choices is not None else [],
                "created_at": stamp,
                "updated_at": stamp,
            }
            self.company_fields[name] = record
            return dict(record)

    def _check_custom_fields(self, values: Any) -> list[tuple[str, str, str]]:
        if values is None:
            return []
        if not isinstance(values, Mapping):
            return [("custom_fields", "It should be a/an key/value pair", "datatype_mismatch")]
        problems: list[tuple[str, str, str]] = []
        for key, value in values.items():
            spec = self.company_fields.get(key)
            where = f"custom_fields.{key}"
            if spec is None:
                problems.append(invalid_field(where))
            elif spec["type"] == "custom_dropdown" and value is not None:
                if value not in spec["choices"]:
                    problems.append(one_of(where, spec["choices"]))
            elif value is not None and not isinstance(value, str):
                problems.append((where, "It should be a/an String", "datatype_mismatch"))
        return problems

    # -- companies -----------------------------------------------------------------------
    # https://developers.freshdesk.com/api/#companies

    def create_company(self, body: Mapping[str, Any]) -> JSON:
        with self._lock:
            problems = _unknown_keys(body, _COMPANY_KEYS)
            name = body.get("name")
            if not isinstance(name, str) or not name.strip():
                problems.append(missing("name"))
            problems += self._check_custom_fields(body.get("custom_fields"))
            if problems:
                raise validation(problems)
            self._unique_name(str(name), None)
            stamp = self.now()
            custom = {key: None for key in self.company_fields}
            custom.update(body.get("custom_fields") or {})
            record: JSON = {
                "id": next(self._ids),
                "name": str(name).strip(),
                "description": body.get("description"),
                "domains": list(body.get("domains") or []),
                "note": body.get("note"),
                "custom_fields": custom,
                "created_at": stamp,
                "updated_at": stamp,
                "health_score": body.get("health_score"),
                "account_tier": body.get("account_tier"),
                "renewal_date": body.get("renewal_date"),
                "industry": body.get("industry"),
            }
            self.companies[record["id"]] = record
            return _copy(record)

    def update_company(self, company_id: int, body: Mapping[str, Any]) -> JSON:
        with self._lock:
            record = self._company(company_id)
            problems = _unknown_keys(body, _COMPANY_KEYS)
            if "name" in body and (not isinstance(body["name"], str) or not body["name"].strip()):
                problems.append(missing("name"))
            problems += self._check_custom_fields(body.get("custom_fields"))
            if problems:
                raise validation(problems)
            if "name" in body:
                self._unique_name(body["name"], company_id)
            for key, value in body.items():
                if key == "custom_fields":
                    record["custom_fields"].update(value or {})  # fields not sent keep theirs
                else:
                    record[key] = value.strip() if key == "name" else value
            record["updated_at"] = self.now()
            return _copy(record)

    def delete_company(self, company_id: int) -> None:
        with self._lock:
            self._company(company_id)
            del self.companies[company_id]
            for policy in self.sla_policies.values():
                ids = policy["applicable_to"].get("company_ids")
                if ids and company_id in ids:
                    ids.remove(company_id)

    def company(self, company_id: int) -> JSON:
        with self._lock:
            return _copy(self._company(company_id))

    def _company(self, company_id: int) -> JSON:
        found = self.companies.get(company_id)
        if found is None:
            raise not_found()
        return found

    def _unique_name(self, name: str, own_id: int | None) -> None:
        for other in self.companies.values():
            if other["id"] != own_id and other["name"].lower() == name.strip().lower():
                raise duplicate("name")

    def search_companies(self, terms: list[tuple[str, Any]]) -> list[JSON]:
        """Companies whose fields equal every ``(field, value)`` term (AND)."""
        with self._lock:
            found = []
            for record in self.companies.values():
                values = {**record["custom_fields"], **record}
                if all(_same(values.get(key), value) for key, value in terms):
                    found.append(_copy(record))
            return sorted(found, key=lambda r: r["id"])

    # -- contacts ------------------------------------------------------------------------
    # https://developers.freshdesk.com/api/#contacts

    def create_contact(self, body: Mapping[str, Any]) -> JSON:
        with self._lock:
            problems = _unknown_keys(body, _CONTACT_KEYS)
            if not isinstance(body.get("name"), str) or not body["name"].strip():
                problems.append(missing("name"))
            if not any(body.get(k) for k in _CONTACT_IDENTITIES):
                problems.append(
                    (
                        "email",
                        "Please fill at least 1 of email, mobile, phone, twitter_id, "
                        "unique_external_id fields",
                        "missing_field",
                    )
                )
            company_id = body.get("company_id")
            if company_id is not None and company_id not in self.companies:
                problems.append(_no_match("company_id", "company"))
            if problems:
                raise validation(problems)
            email = body.get("email")
            if email and any(c.get("email") == email for c in self.contacts.values()):
                raise duplicate("email")
            stamp = self.now()
            record: JSON = {
                "id": next(self._ids),
                "active": False,
                "address": body.get("address"),
                "company_id": company_id,
                "deleted": False,
                "description": body.get("description"),
                "email": email,
                "external_id": None,
                "unique_external_id": body.get("unique_external_id"),
                "helpdesk_agent": False,
                "job_title": body.get("job_title"),
                "language": body.get("language") or "en",
                "mobile": body.get("mobile"),
                "name": body["name"].strip(),
                "phone": body.get("phone"),
                "time_zone": body.get("time_zone") or "UTC",
                "twitter_id": body.get("twitter_id"),
                "custom_fields": dict(body.get("custom_fields") or {}),
                "view_all_tickets": bool(body.get("view_all_tickets", False)),
                "other_emails": list(body.get("other_emails") or []),
                "tags": list(body.get("tags") or []),
                "created_at": stamp,
                "updated_at": stamp,
            }
            self.contacts[record["id"]] = record
            return _copy(record)

    def update_contact(self, contact_id: int, body: Mapping[str, Any]) -> JSON:
        with self._lock:
            record = self.contacts.get(contact_id)
            if record is None:
                raise not_found()
            problems = _unknown_keys(body, _CONTACT_KEYS)
            if problems:
                raise validation(problems)
            record.update(body)
            record["updated_at"] = self.now()
            return _copy(record)

    def contact(self, contact_id: int) -> JSON:
        with self._lock:
            record = self.contacts.get(contact_id)
            if record is None:
                raise not_found()
            return _copy(record)

    # -- tickets -------------------------------------------------------------------------
    # https://developers.freshdesk.com/api/#tickets

    def create_ticket(self, body: Mapping[str, Any]) -> JSON:
        with self._lock:
            problems = _unknown_keys(body, _TICKET_KEYS)
            problems += self._check_ticket_values(body)
            if not isinstance(body.get("subject"), str) or not body["subject"].strip():
                problems.append(missing("subject"))
            requester_id = body.get("requester_id")
            if requester_id is None and not body.get("email"):
                problems.append(
                    (
                        "requester_id",
                        "Please fill at least 1 of requester_id, phone, email, "
                        "twitter_id, facebook_id, unique_external_id fields",
                        "missing_field",
                    )
                )
            elif requester_id is not None and requester_id not in self.contacts:
                problems.append(_no_match("requester_id", "contact"))
            if problems:
                raise validation(problems)
            if requester_id is None:
                requester_id = self._contact_for_email(str(body["email"]), body.get("name"))
            requester = self.contacts[requester_id]
            stamp = self.now()
            description = str(body.get("description") or "")
            record: JSON = {
                "id": len(self.tickets) + 1,  # ticket ids count from 1 per account
                "subject": body["subject"].strip(),
                "description": description,
                "description_text": description,
                "status": body.get("status", 2),
                "priority": body.get("priority", 1),
                "source": body.get("source", 2),
                "type": body.get("type"),
                "requester_id": requester_id,
                "responder_id": body.get("responder_id"),
                "group_id": body.get("group_id"),
                "company_id": body.get("company_id", requester.get("company_id")),
                "tags": list(body.get("tags") or []),
                "cc_emails": list(body.get("cc_emails") or []),
                "fwd_emails": [],
                "reply_cc_emails": [],
                "to_emails": None,
                "product_id": None,
                "email_config_id": None,
                "fr_escalated": False,
                "is_escalated": False,
                "spam": False,
                "custom_fields": dict(body.get("custom_fields") or {}),
                "due_by": body.get("due_by"),
                "fr_due_by": body.get("fr_due_by"),
                "created_at": stamp,
                "updated_at": stamp,
                "stats": {"resolved_at": None, "closed_at": None, "first_responded_at": None},
                "attachments": [],
            }
            self._stamp_status(record, None)
            self.tickets[record["id"]] = record
            change = TicketChange("ticket_created", _copy(record))
        self._notify(change)
        return change.ticket

    def update_ticket(self, ticket_id: int, body: Mapping[str, Any]) -> JSON:
        with self._lock:
            record = self.tickets.get(ticket_id)
            if record is None:
                raise not_found()
            problems = _unknown_keys(body, _TICKET_KEYS) + self._check_ticket_values(body)
            if problems:
                raise validation(problems)
            changes = {k: (record.get(k), v) for k, v in body.items() if record.get(k) != v}
            before = record["status"]
            record.update(body)
            record["updated_at"] = self.now()
            self._stamp_status(record, before)
            change = TicketChange("ticket_updated", _copy(record), changes)
        self._notify(change)
        return change.ticket

    def ticket(self, ticket_id: int) -> JSON:
        with self._lock:
            record = self.tickets.get(ticket_id)
            if record is None:
                raise not_found()
            return _copy(record)

    def list_tickets(self, updated_since: str | None) -> list[JSON]:
        """Tickets updated at or after ``updated_since``; without it, those created in the last
        30 days (Freshdesk's default window for the ticket list)."""
        with self._lock:
            if updated_since is None:
                cutoff = now_text(lambda: self._clock() - timedelta(days=30))
                return [_copy(t) for t in self.tickets.values() if t["created_at"] >= cutoff]
            return [_copy(t) for t in self.tickets.values() if t["updated_at"] >= updated_since]

    def _check_ticket_values(self, body: Mapping[str, Any]) -> list[tuple[str, str, str]]:
        problems = []
        for key, allowed in (
            ("status", TICKET_STATUSES),
            ("priority", TICKET_PRIORITIES),
            ("source", TICKET_SOURCES),
        ):
            if key in body and body[key] not in allowed:
                problems.append(one_of(key, list(allowed)))
        company_id = body.get("company_id")
        if company_id is not None and company_id not in self.companies:
            problems.append(_no_match("company_id", "company"))
        return problems

    def _stamp_status(self, record: JSON, before: int | None) -> None:
        if record["status"] == before:
            return
        stats = record["stats"]
        stats["resolved_at"] = record["updated_at"] if record["status"] in (4, 5) else None
        stats["closed_at"] = record["updated_at"] if record["status"] == 5 else None

    def _contact_for_email(self, email: str, name: Any) -> int:
        for contact in self.contacts.values():
            if contact.get("email") == email:
                return int(contact["id"])
        created = self.create_contact({"name": name or email.split("@")[0], "email": email})
        return int(created["id"])

    def _notify(self, change: TicketChange) -> None:
        listener = self.on_ticket_change
        if listener is not None:
            listener(change)

    # -- SLA policies --------------------------------------------------------------------
    # https://developers.freshdesk.com/api/#sla-policies

    def _add_default_sla_policy(self) -> None:
        stamp = self.now()
        targets = {
            f"priority_{p}": {
                "respond_within": 3600 * (5 - p) * 2,
                "resolve_within": 3600 * (5 - p) * 8,
                "business_hours": False,
                "escalation_enabled": True,
            }
            for p in TICKET_PRIORITIES
        }
        policy: JSON = {
            "id": next(self._ids),
            "name": "Default SLA Policy",
            "description": "default policy",
            "active": True,
            "is_default": True,
            "position": 1,
            "applicable_to": {},
            "sla_target": targets,
            "escalation": {},
            "created_at": stamp,
            "updated_at": stamp,
        }
        self.sla_policies[policy["id"]] = policy

    def create_sla_policy(self, body: Mapping[str, Any]) -> JSON:
        with self._lock:
            problems = _unknown_keys(body, _SLA_KEYS)
            if not isinstance(body.get("name"), str) or not body["name"].strip():
                problems.append(missing("name"))
            if "sla_target" not in body:
                problems.append(missing("sla_target"))
            applicable = body.get("applicable_to")
            problems += self._check_applicable(applicable, default=False)
            if not applicable:
                problems.append(missing("applicable_to"))
            if problems:
                raise validation(problems)
            if any(p["name"] == body["name"] for p in self.sla_policies.values()):
                raise duplicate("name")
            stamp = self.now()
            policy: JSON = {
                "id": next(self._ids),
                "name": body["name"],
                "description": body.get("description"),
                "active": bool(body.get("active", True)),
                "is_default": False,
                "position": len(self.sla_policies) + 1,
                "applicable_to": _copy(applicable or {}),
                "sla_target": _copy(body["sla_target"]),
                "escalation": _copy(body.get("escalation") or {}),
                "created_at": stamp,
                "updated_at": stamp,
            }
            self.sla_policies[policy["id"]] = policy
            return _copy(policy)

    def update_sla_policy(self, policy_id: int, body: Mapping[str, Any]) -> JSON:
        with self._lock:
            policy = self.sla_policies.get(policy_id)
            if policy is None:
                raise not_found()
            problems = _unknown_keys(body, _SLA_KEYS)
            if "applicable_to" in body:
                problems += self._check_applicable(
                    body["applicable_to"], default=policy["is_default"]
                )
            if problems:
                raise validation(problems)
            for key, value in body.items():
                if key == "applicable_to":
                    # Each key sent replaces that list; keys not sent stay.
                    policy["applicable_to"].update(_copy(value))
                    policy["applicable_to"] = {
                        k: v for k, v in policy["applicable_to"].items() if v
                    }
                else:
                    policy[key] = _copy(value)
            policy["updated_at"] = self.now()
            return _copy(policy)

    def list_sla_policies(self) -> list[JSON]:
        with self._lock:
            return [
                _copy(p) for p in sorted(self.sla_policies.values(), key=lambda p: p["position"])
            ]

    def _check_applicable(self, value: Any, *, default: bool) -> list[tuple[str, str, str]]:
        if value is None:
            return []
        if not isinstance(value, Mapping):
            return [("applicable_to", "It should be a/an key/value pair", "datatype_mismatch")]
        if default and value:
            why = "The default SLA policy applies to every ticket and takes no conditions"
            return [("applicable_to", why, "invalid_field")]
        problems = [invalid_field(f"applicable_to.{k}") for k in value if k not in _APPLICABLE_KEYS]
        company_ids = value.get("company_ids") or []
        if not isinstance(company_ids, list):
            wrong = ("applicable_to.company_ids", "It should be a/an Array", "datatype_mismatch")
            return [*problems, wrong]
        unknown = [c for c in company_ids if c not in self.companies]
        if unknown:
            problems.append(
                (
                    "applicable_to.company_ids",
                    f"There are no companies with the ids: {unknown}",
                    "invalid_value",
                )
            )
        return problems


def _no_match(field: str, what: str) -> tuple[str, str, str]:
    return (field, f"There is no {what} matching the given {field}", "invalid_value")


def _same(have: Any, want: Any) -> bool:
    if isinstance(have, str) and isinstance(want, str):
        return have.lower() == want.lower()
    return bool(have == want)


def _copy(value: JSON) -> JSON:
    """A deep copy: callers never hold a reference into the account's state."""
    return copy.deepcopy(value)
