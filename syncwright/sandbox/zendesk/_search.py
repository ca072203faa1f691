"""A small subset of Zendesk's search syntax, enough for lookups an integration makes.

Supported (https://support.zendesk.com/hc/en-us/articles/4408886879258): ``type:ticket|user|
organization``; ``key:value`` with ``*`` wildcards, quotes and case-insensitive equality; ``-``
negation; ``created``/``updated`` with ``<`` and ``>``; ``status<solved`` style comparisons; bare
words match names, emails, subjects and descriptions as substrings. Custom organization fields
are searchable by their key. Relevance ranking is not emulated: results come in id order.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

from syncwright.sandbox.zendesk._state import Record, ZendeskState
from syncwright.sandbox.zendesk._tickets import STATUSES

_TOKEN = re.compile(r'(-)?(?:(\w+)([:<>]))?("[^"]*"|\S+)')
Getter = Callable[[Record], Any]

_COMMON: dict[str, Getter] = {
    "created": lambda r: r["created_at"],
    "updated": lambda r: r["updated_at"],
    "external_id": lambda r: r.get("external_id"),
    "tags": lambda r: r.get("tags", []),
    "tag": lambda r: r.get("tags", []),
}
_KEYS: dict[str, dict[str, Getter]] = {
    "organization": {
        "name": lambda r: r["name"],
        "details": lambda r: r.get("details"),
        "notes": lambda r: r.get("notes"),
    },
    "user": {
        "name": lambda r: r["name"],
        "email": lambda r: r.get("email"),
        "role": lambda r: r["role"],
        "phone": lambda r: r.get("phone"),
        "organization": lambda r: r.get("organization_id"),
        "organization_id": lambda r: r.get("organization_id"),
    },
    "ticket": {
        "status": lambda r: r["status"],
        "priority": lambda r: r.get("priority"),
        "ticket_type": lambda r: r.get("type"),
        "subject": lambda r: r.get("subject"),
        "description": lambda r: r.get("description"),
        "organization": lambda r: r.get("organization_id"),
        "organization_id": lambda r: r.get("organization_id"),
        "requester": lambda r: r.get("requester_id"),
        "requester_id": lambda r: r.get("requester_id"),
        "assignee": lambda r: r.get("assignee_id"),
        "assignee_id": lambda r: r.get("assignee_id"),
    },
}
_TEXT = ("name", "email", "subject", "description", "details", "notes")


@dataclass(frozen=True)
class Term:
    negate: bool
    key: str | None
    op: str
    value: str


def parse(query: str) -> list[Term]:
    terms = []
    for match in _TOKEN.finditer(query):
        negate, key, op, value = match.groups()
        value = value[1:-1] if len(value) >= 2 and value[0] == value[-1] == '"' else value
        terms.append(Term(bool(negate), key.lower() if key else None, op or ":", value))
    return terms


def _compare(actual: Any, op: str, wanted: str, key: str) -> bool:
    values = actual if isinstance(actual, list) else [actual]
    for value in values:
        if value is None:
            continue
        text = str(value).lower()
        if op == ":" and fnmatchcase(text, wanted.lower()):
            return True
        if op in "<>" and key == "status" and text in STATUSES and wanted.lower() in STATUSES:
            a, b = STATUSES.index(text), STATUSES.index(wanted.lower())
            if (a < b) if op == "<" else (a > b):
                return True
        elif op in "<>" and ((text < wanted.lower()) if op == "<" else (text > wanted.lower())):
            return True
    return False


def matches(state: ZendeskState, kind: str, record: Record, terms: Iterable[Term]) -> bool:
    keys = {**_COMMON, **_KEYS[kind]}
    for term in terms:
        if term.key == "type":
            ok = term.value.lower() == kind
        elif term.key is None:
            needle = term.value.lower().strip("*")
            ok = any(needle in str(record.get(name) or "").lower() for name in _TEXT)
        elif term.key in keys:
            ok = _compare(keys[term.key](record), term.op, term.value, term.key)
        elif kind == "organization" and term.key in _org_field_keys(state):
            value = record.get("organization_fields", {}).get(term.key)
            ok = _compare(value, term.op, term.value, term.key)
        else:
            ok = False
        if ok == term.negate:
            return False
    return True


def _org_field_keys(state: ZendeskState) -> set[str]:
    return {field["key"] for field in state.organization_fields.values()}


def search(state: ZendeskState, query: str) -> list[tuple[str, Record]]:
    """(result_type, record) pairs matching ``query``, in id order per type."""
    terms = parse(query)
    types = [t.value.lower() for t in terms if t.key == "type" and not t.negate]
    kinds = [kind for kind in ("ticket", "user", "organization") if not types or kind in types]
    collections: dict[str, Iterable[Record]] = {
        "ticket": state.tickets.values(),
        "user": state.active_users(),
        "organization": state.organizations.values(),
    }
    results: list[tuple[str, Record]] = []
    for kind in kinds:
        for record in sorted(collections[kind], key=lambda r: int(r["id"])):
            if matches(state, kind, record, terms):
                results.append((kind, record))
    return results
