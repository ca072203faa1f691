"""Store steps that organizations, their fields, users and tickets share.

Each resource module keeps its own validation (an ``Apply`` function) and events; these helpers
hold the parts that are the same for all of them: the 404, where timestamps and ids come from,
validating on a draft, the create-or-update split, and the attribute checks more than one
resource makes (references to other records, unique external ids, required names). Callers
hold ``state.lock``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, MutableMapping
from typing import Any, Protocol

from syncwright.sandbox.zendesk._errors import ValidationErrors, not_found
from syncwright.sandbox.zendesk._state import Record, ZendeskState
from syncwright.sandbox.zendesk._values import opt_int, opt_str

Payload = Mapping[str, Any]
Records = MutableMapping[int, Record]
Create = Callable[[ZendeskState, Payload], Record]
Update = Callable[[ZendeskState, int, Payload], Record]


class Apply(Protocol):
    """Validates ``payload`` into ``record``; raises one 422 listing every problem."""

    def __call__(
        self, state: ZendeskState, record: Record, payload: Payload, /, *, creating: bool
    ) -> None: ...


def find(records: Mapping[int, Record], record_id: int) -> Record:
    """The record with ``record_id``, or Zendesk's 404 ``RecordNotFound``."""
    record = records.get(record_id)
    if record is None:
        raise not_found()
    return record


def insert(
    state: ZendeskState, records: Records, kind: str, start: Record, payload: Payload, apply: Apply
) -> Record:
    """A new record: ``start`` (a fresh dict of defaults) plus the payload, stored under a new id.

    The id is drawn only after validation passes, so a rejected create uses up no id.
    """
    now = state.timestamp()
    record: Record = {**start, "created_at": now, "updated_at": now}
    apply(state, record, payload, creating=True)
    record["id"] = state.next_id(kind)
    records[record["id"]] = record
    return record


def revise(state: ZendeskState, record: Record, payload: Payload, apply: Apply) -> Record:
    """Apply ``payload`` to ``record`` in place; returns a copy of the record as it was.

    Validation runs on a draft, so a 422 leaves the stored record untouched.
    """
    before = dict(record)
    draft = dict(record)
    apply(state, draft, payload, creating=False)
    draft["updated_at"] = state.timestamp()
    record.update(draft)
    return before


def upsert(
    state: ZendeskState, payload: Payload, existing: Record | None, create: Create, update: Update
) -> tuple[Record, bool]:
    """``create_or_update``: update the match if there is one; ``True`` when it created."""
    if existing is not None:
        return update(state, existing["id"], payload), False
    return create(state, payload), True


def reference(
    payload: Payload, name: str, label: str, records: Mapping[int, Record], errors: ValidationErrors
) -> int | None:
    """An id attribute (``organization_id``, ``requester_id``) that must name a stored record."""
    record_id = opt_int(payload, name, errors, label)
    if record_id is not None and record_id not in records:
        errors.add(name, f"{label}: is invalid", "InvalidValue")
    return record_id


def unique_external_id(
    payload: Payload,
    record: Record,
    errors: ValidationErrors,
    lookup: Callable[[str], Record | None],
) -> None:
    """Set ``external_id`` from the payload; another record holding it is a ``DuplicateValue``."""
    external_id = opt_str(payload, "external_id", errors, "External ID")
    if external_id:
        other = lookup(external_id)
        if other is not None and other["id"] != record.get("id"):
            errors.taken("external_id", "External ID")
    record["external_id"] = external_id or None


def required_name(payload: Payload, errors: ValidationErrors) -> str | None:
    """``name``, which may not be blank; ``None``, with a ``BlankValue``, when it is."""
    name = opt_str(payload, "name", errors, "Name")
    if not name or not name.strip():
        errors.blank("name", "Name")
        return None
    return name
