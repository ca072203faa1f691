"""The emulated org: records, transactions with rollback, change events, tokens and API usage.

Every write runs in a :class:`Transaction` under the state's lock. A transaction keeps an undo
log (so ``allOrNone`` can roll back, and sObject Collections can roll back one record) and the
list of changes it made; on commit the changes become change events, one per record, folded the
way Salesforce folds several DML operations on one record within a transaction.
"""

from __future__ import annotations

import datetime as dt
import itertools
import secrets
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from . import _rules
from ._cdc import CdcPusher, ChangeEvent, ChangeEventLog, schema_id
from ._errors import ApiError, SalesforceApiError, not_found
from ._ids import ORG_ID_PREFIX, USER_ID_PREFIX, IdFactory, make_id, normalize_id
from ._managed import ManagedSubscriptions
from ._render import (
    create_payload,
    event_changed_names,
    event_payload,
    record_url,
)
from ._schema import SYNCWRIGHT_CUSTOM_FIELDS, CustomField, FieldDef, ObjectDef, Schema
from ._values import coerce, format_datetime

Record = dict[str, Any]

SYSTEM_FIELDS = (
    "Id",
    "IsDeleted",
    "CreatedDate",
    "CreatedById",
    "LastModifiedDate",
    "LastModifiedById",
    "SystemModstamp",
)
_NOT_COMPARED = frozenset({"LastModifiedDate", "LastModifiedById", "SystemModstamp"})


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class MultipleMatches(SalesforceApiError):
    """HTTP 300: an external id value matched more than one record."""

    def __init__(self, urls: list[str]) -> None:
        super().__init__(300, [ApiError("MULTIPLE_CHOICES", "more than one record matched")])
        self.urls = urls


@dataclass(frozen=True)
class _Change:
    entity: str
    kind: str
    record_id: str
    fields: tuple[str, ...] = ()


class Transaction:
    """One unit of work. Use :meth:`SalesforceState.transaction`; do not build one directly."""

    def __init__(self, state: SalesforceState, origin: str, now: dt.datetime) -> None:
        self.state = state
        self.origin = origin
        self.now = now
        self.stamp = format_datetime(now)
        self.key = str(uuid.uuid4())
        self._undo: list[tuple[str, str, Record | None]] = []
        self._changes: list[_Change] = []

    # -- savepoints -------------------------------------------------------------------------

    def savepoint(self) -> tuple[int, int]:
        return (len(self._undo), len(self._changes))

    def rollback_to(self, point: tuple[int, int]) -> None:
        undo_len, change_len = point
        while len(self._undo) > undo_len:
            object_name, record_id, previous = self._undo.pop()
            self.state._store(object_name, record_id, previous)
        del self._changes[change_len:]

    def rollback(self) -> None:
        self.rollback_to((0, 0))

    # -- reads (see this transaction's own writes) -------------------------------------------

    def get(self, object_name: str, record_id: str) -> Record | None:
        return self.state._records.get(object_name, {}).get(record_id)

    def live(self, object_name: str, record_id: str) -> Record | None:
        record = self.get(object_name, record_id)
        return record if record is not None and not record["IsDeleted"] else None

    def find(self, object_name: str, predicate: Callable[[Record], bool]) -> list[Record]:
        return [
            r
            for r in self.state._records.get(object_name, {}).values()
            if not r["IsDeleted"] and predicate(r)
        ]

    # -- writes -----------------------------------------------------------------------------

    def _put(self, obj: ObjectDef, record_id: str, record: Record | None) -> None:
        self._undo.append((obj.name, record_id, self.get(obj.name, record_id)))
        self.state._store(obj.name, record_id, record)

    def create(self, obj: ObjectDef, body: Mapping[str, Any]) -> str:
        """Insert a record from a REST body; returns its id."""
        if not obj.createable:
            raise SalesforceApiError.one(
                400, "INVALID_TYPE", f"Cannot create a new {obj.name} record"
            )
        values = self._check_body(obj, body, creating=True)
        record: Record = {}
        for name, definition in obj.fields.items():
            record[name] = False if definition.type == "boolean" else None
        record_id = self.state.ids.new(obj.key_prefix)
        user = self.state.user_id
        record.update(
            Id=record_id,
            IsDeleted=False,
            CreatedDate=self.stamp,
            CreatedById=user,
            LastModifiedDate=self.stamp,
            LastModifiedById=user,
            SystemModstamp=self.stamp,
        )
        if "OwnerId" in obj.fields:
            record["OwnerId"] = user  # defaulted on create to the calling user
        record.update(values)
        self._save(obj, record, None, set(values))
        return record_id

    def update(self, obj: ObjectDef, record_id: str, body: Mapping[str, Any]) -> None:
        """Apply a REST PATCH body to an existing record."""
        self.existing(obj, record_id)
        values = self._check_body(obj, body, creating=False)
        self.apply(obj, record_id, values, explicit=set(values))

    def apply(
        self, obj: ObjectDef, record_id: str, values: Mapping[str, Any], explicit: set[str]
    ) -> None:
        """Write already-checked ``values`` (also used for platform-derived updates)."""
        old = self.existing(obj, record_id)
        record = dict(old)
        record.update(values)
        record.update(
            LastModifiedDate=self.stamp,
            LastModifiedById=self.state.user_id,
            SystemModstamp=self.stamp,
        )
        self._save(obj, record, old, explicit)

    def existing(self, obj: ObjectDef, record_id: str) -> Record:
        record = self.get(obj.name, record_id)
        if record is None:
            raise not_found()
        if record["IsDeleted"]:
            raise SalesforceApiError.one(404, "ENTITY_IS_DELETED", "entity is deleted")
        return record

    def delete(self, obj: ObjectDef, record_id: str) -> None:
        """Move a record (and the children Salesforce deletes with it) to the recycle bin."""
        if not obj.deletable:
            raise SalesforceApiError.one(400, "INVALID_TYPE", f"Cannot delete {obj.name}")
        old = self.existing(obj, record_id)
        for child_name, field_name in obj.cascade_delete:
            child = self.state.schema.objects[child_name]
            for row in self.find(child_name, _field_equals(field_name, record_id)):
                self.delete(child, row["Id"])
        record = dict(old, IsDeleted=True, SystemModstamp=self.stamp)
        self._put(obj, record_id, record)
        self._changes.append(_Change(obj.name, "DELETE", record_id))
        self._after_write(obj, record, old)

    def undelete(self, obj: ObjectDef, record_id: str) -> None:
        old = self.get(obj.name, record_id)
        if old is None:
            raise not_found()
        if not old["IsDeleted"]:
            raise SalesforceApiError.one(400, "UNDELETE_FAILED", "Entity is not in the recycle bin")
        record = dict(old, IsDeleted=False, SystemModstamp=self.stamp)
        self._put(obj, record_id, record)
        self._changes.append(_Change(obj.name, "UNDELETE", record_id))
        self._after_write(obj, record, old)

    def upsert(
        self,
        obj: ObjectDef,
        field_name: str,
        value: str,
        body: Mapping[str, Any],
        *,
        update_only: bool = False,
    ) -> tuple[str, bool]:
        """Upsert on an external id field; returns ``(id, created)``."""
        definition = obj.field(field_name)
        if definition is None or not (definition.external_id or definition.name == "Id"):
            raise not_found(
                f"Provided external ID field does not exist or is not accessible: {field_name}"
            )
        body = dict(body)
        for key in [k for k in body if k.lower() == definition.name.lower()]:
            if str(body.pop(key)) != str(value):
                raise SalesforceApiError.one(
                    400,
                    "INVALID_FIELD",
                    f"The value of {definition.name} in the request body doesn't match the "
                    "value in the URL",
                    [definition.name],
                )
        matches = self.state.find_by_external_id(obj, definition, value)
        if len(matches) > 1:
            version = self.state.api_version
            raise MultipleMatches([record_url(version, obj.name, rid) for rid in matches])
        if matches:
            self.update(obj, matches[0], body)
            return matches[0], False
        if update_only:
            raise not_found()
        if definition.name == "Id":
            return self.create(obj, body), True
        return self.create(obj, {**body, definition.name: value}), True

    # -- validation and saving -------------------------------------------------------------

    def _check_body(self, obj: ObjectDef, body: Mapping[str, Any], *, creating: bool) -> Record:
        if not isinstance(body, Mapping):
            raise SalesforceApiError.one(
                400,
                "JSON_PARSER_ERROR",
                "Cannot deserialize instance of sObject from a non-object value",
            )
        values: Record = {}
        locked: list[str] = []
        for key, raw in body.items():
            if key == "attributes":
                continue
            definition = obj.field(key)
            if definition is None:
                raise SalesforceApiError.one(
                    400, "INVALID_FIELD", f"No such column '{key}' on sobject of type {obj.name}"
                )
            allowed = definition.createable if creating else definition.updateable
            if not allowed:
                locked.append(definition.name)
                continue
            values[definition.name] = coerce(definition, raw)
        if locked:
            raise SalesforceApiError(
                400,
                [
                    ApiError(
                        "INVALID_FIELD_FOR_INSERT_UPDATE",
                        f"Unable to create/update fields: {', '.join(locked)}. Please check the "
                        "security settings of this field and verify that it is read/write for "
                        "your profile or permission set.",
                        locked,
                    )
                ],
            )
        return values

    def _save(self, obj: ObjectDef, record: Record, old: Record | None, explicit: set[str]) -> None:
        _rules.derive(obj.name, record, old, explicit, self.live, self.find)
        missing = [
            f.name
            for f in obj.fields.values()
            if (f.required_on_create if old is None else (not f.nillable and f.updateable))
            and f.type != "boolean"
            and record.get(f.name) in (None, "")
        ]
        if missing:
            raise SalesforceApiError(
                400,
                [
                    ApiError(
                        "REQUIRED_FIELD_MISSING",
                        f"Required fields are missing: [{', '.join(missing)}]",
                        missing,
                    )
                ],
            )
        self._check_references(obj, record, old)
        self._check_unique(obj, record)
        self._put(obj, record["Id"], record)
        if old is None:
            self._changes.append(_Change(obj.name, "CREATE", record["Id"]))
        else:
            changed = tuple(
                name
                for name in obj.fields
                if name not in _NOT_COMPARED and record.get(name) != old.get(name)
            )
            self._changes.append(_Change(obj.name, "UPDATE", record["Id"], changed))
        self._after_write(obj, record, old)

    def _check_references(self, obj: ObjectDef, record: Record, old: Record | None) -> None:
        schema = self.state.schema
        for definition in obj.fields.values():
            value = record.get(definition.name)
            if definition.type != "reference" or value is None or definition.name in SYSTEM_FIELDS:
                continue
            if old is not None and old.get(definition.name) == value:
                continue
            emulated = [t for t in definition.reference_to if schema.get(t) is not None]
            target = schema.by_prefix(value)
            if "User" in definition.reference_to and value.startswith(USER_ID_PREFIX):
                continue
            if not emulated:
                if definition.reference_to == ("User",):
                    raise _bad_id_type(definition, value)
                continue  # a lookup to an object this emulator does not model
            if target is None or target.name not in emulated:
                raise _bad_id_type(definition, value)
            row = self.get(target.name, value)
            if row is None:
                raise SalesforceApiError(
                    400,
                    [
                        ApiError(
                            "INVALID_CROSS_REFERENCE_KEY",
                            "invalid cross reference id",
                            [definition.name],
                        )
                    ],
                )
            if row["IsDeleted"]:
                raise SalesforceApiError(
                    400, [ApiError("ENTITY_IS_DELETED", "entity is deleted", [definition.name])]
                )

    def _check_unique(self, obj: ObjectDef, record: Record) -> None:
        for definition in obj.fields.values():
            if not definition.unique or record.get(definition.name) is None:
                continue
            others = [
                rid
                for rid in self.state.find_by_external_id(obj, definition, record[definition.name])
                if rid != record["Id"]
            ]
            if others:
                raise SalesforceApiError.one(
                    400,
                    "DUPLICATE_VALUE",
                    f"duplicate value found: {definition.name} duplicates value on record "
                    f"with id: {others[0]}",
                )

    def _after_write(self, obj: ObjectDef, record: Record, old: Record | None) -> None:
        """Roll line items up into their opportunity, and give it the entry's price book."""
        if obj.name != "OpportunityLineItem":
            return
        opp_id = record.get("OpportunityId")
        opportunity = self.live("Opportunity", opp_id) if isinstance(opp_id, str) else None
        if opportunity is None or not isinstance(opp_id, str):
            return
        items = self.find("OpportunityLineItem", lambda r: r.get("OpportunityId") == opp_id)
        values = _rules.rollup_opportunity(opportunity, items)
        if opportunity.get("Pricebook2Id") is None and record.get("PricebookEntryId"):
            entry = self.get("PricebookEntry", record["PricebookEntryId"])
            if entry is not None:
                values["Pricebook2Id"] = entry["Pricebook2Id"]
        if any(opportunity.get(k) != v for k, v in values.items()):
            self.apply(
                self.state.schema.objects["Opportunity"], opp_id, values, explicit=set(values)
            )

    # -- commit -----------------------------------------------------------------------------

    def _events(self, commit_number: int) -> list[Callable[[int], ChangeEvent]]:
        """Fold this transaction's changes into one event per record, in first-change order."""
        folded: dict[tuple[str, str], tuple[str, list[str]]] = {}
        order: list[tuple[str, str]] = []
        for change in self._changes:
            key = (change.record_id, change.kind if change.kind in ("DELETE",) else "W")
            if key not in folded:
                folded[key] = (change.kind, list(change.fields))
                order.append(key)
            else:
                fields = folded[key][1]
                fields.extend(f for f in change.fields if f not in fields)
        state = self.state
        timestamp = int(self.now.timestamp() * 1000)
        makers: list[Callable[[int], ChangeEvent]] = []
        sequence = itertools.count(1)
        for key in order:
            kind, fields = folded[key]
            record_id = key[0]
            obj = state.schema.by_prefix(record_id)
            if obj is None:
                continue
            record = self.get(obj.name, record_id) or {"Id": record_id}
            if kind == "UPDATE" and record.get("IsDeleted"):
                continue  # updated, then deleted, in one transaction: only the delete shows
            if kind in ("CREATE", "UNDELETE"):
                payload, changed, nulled = create_payload(obj, record), [], []
            elif kind == "UPDATE":
                names = [*fields, "LastModifiedDate"]
                payload = event_payload(obj, record, names)
                changed = event_changed_names(obj, names)
                nulled = event_changed_names(obj, [f for f in fields if record.get(f) is None])
            else:
                payload, changed, nulled = {}, [], []
            makers.append(
                _event_maker(
                    entity=obj.name,
                    kind=kind,
                    record_id=record_id,
                    origin=self.origin,
                    key=self.key,
                    sequence=next(sequence),
                    timestamp=timestamp,
                    commit_number=commit_number,
                    user=state.user_id,
                    changed=tuple(changed),
                    nulled=tuple(nulled),
                    payload=payload,
                    schema=state.schema_id(obj),
                )
            )
        return makers


def _field_equals(name: str, value: Any) -> Callable[[Record], bool]:
    return lambda record: bool(record.get(name) == value)


def _event_maker(**kw: Any) -> Callable[[int], ChangeEvent]:
    def make(replay_id: int) -> ChangeEvent:
        return ChangeEvent(
            replay_id=replay_id,
            entity=kw["entity"],
            change_type=kw["kind"],
            record_ids=(kw["record_id"],),
            change_origin=kw["origin"],
            transaction_key=kw["key"],
            sequence_number=kw["sequence"],
            commit_timestamp=kw["timestamp"],
            commit_number=kw["commit_number"],
            commit_user=kw["user"],
            changed_fields=kw["changed"],
            nulled_fields=kw["nulled"],
            diff_fields=(),
            fields=kw["payload"],
            schema=kw["schema"],
        )

    return make


def _bad_id_type(definition: FieldDef, value: str) -> SalesforceApiError:
    label = definition.label.removesuffix(" ID")
    return SalesforceApiError(
        400,
        [
            ApiError(
                "FIELD_INTEGRITY_EXCEPTION",
                f"{label} ID: id value of incorrect type: {value}",
                [definition.name],
            )
        ],
    )


class SalesforceState:
    """Everything one emulated org holds. Safe to share between threads.

    ``custom_fields`` declares the org's custom fields (default: the ones syncwright's connector
    uses: ``Account.ERP_Id__c`` (unique external id), ``Subscription_Status__c``, ``ACV__c``).
    ``clock`` returns "now"; Salesforce keeps date-times to the second, and so does the state.
    """

    def __init__(
        self,
        *,
        custom_fields: Iterable[CustomField] = SYNCWRIGHT_CUSTOM_FIELDS,
        clock: Callable[[], dt.datetime] = _utcnow,
        api_version: str = "59.0",
        daily_api_limit: int = 100_000,
        event_retention: int = 100_000,
        query_cursor_limit: int = 200,
    ) -> None:
        self.lock = threading.RLock()
        self.schema = Schema(custom_fields)
        self.clock = clock
        self.api_version = api_version
        self.ids = IdFactory()
        self.org_id = make_id(ORG_ID_PREFIX, 424_242)
        self.user_id = make_id(USER_ID_PREFIX, 737_373)
        self.events = ChangeEventLog(retention=event_retention)
        self.pusher = CdcPusher(self.events)
        self.managed = ManagedSubscriptions()
        self.daily_api_limit = daily_api_limit
        self.api_used = 0
        self.query_cursor_limit = query_cursor_limit
        self.cursors: dict[str, Any] = {}
        self.request_counts: dict[str, int] = {}
        self._tokens: set[str] = set()
        self._records: dict[str, dict[str, Record]] = {}
        self._ext_index: dict[tuple[str, str], dict[Any, set[str]]] = {}
        self._commit_numbers = itertools.count(10_969_661_377)
        self._schema_ids: dict[str, str] = {}
        self._seed()

    # -- storage ----------------------------------------------------------------------------

    def _seed(self) -> None:
        self._records = {name: {} for name in self.schema.objects}
        self._ext_index = {}
        # Every org has exactly one standard price book; it predates any change event.
        book = self.schema.objects["Pricebook2"]
        stamp = format_datetime(self.clock().replace(microsecond=0))
        record: Record = dict.fromkeys(book.fields)
        record.update(
            Id=self.ids.new(book.key_prefix),
            Name="Standard Price Book",
            Description=None,
            IsActive=True,
            IsStandard=True,
            IsArchived=False,
            IsDeleted=False,
            CreatedDate=stamp,
            CreatedById=self.user_id,
            LastModifiedDate=stamp,
            LastModifiedById=self.user_id,
            SystemModstamp=stamp,
        )
        self._store(book.name, record["Id"], record)
        self.standard_pricebook_id: str = record["Id"]

    def _index_key(self, definition: FieldDef, value: Any) -> Any:
        if isinstance(value, str) and not definition.case_sensitive:
            return value.lower()
        return value

    def _store(self, object_name: str, record_id: str, record: Record | None) -> None:
        table = self._records.setdefault(object_name, {})
        old = table.get(record_id)
        obj = self.schema.objects[object_name]
        for definition in obj.indexed_fields():
            index = self._ext_index.setdefault((object_name, definition.name), {})
            if old is not None and not old["IsDeleted"] and old.get(definition.name) is not None:
                ids = index.get(self._index_key(definition, old[definition.name]))
                if ids is not None:
                    ids.discard(record_id)
            if record is not None and not record["IsDeleted"]:
                value = record.get(definition.name)
                if value is not None:
                    index.setdefault(self._index_key(definition, value), set()).add(record_id)
        if record is None:
            table.pop(record_id, None)
        else:
            table[record_id] = record

    def find_by_external_id(self, obj: ObjectDef, definition: FieldDef, value: Any) -> list[str]:
        """Ids of live records whose indexed field (external id or unique) equals ``value``."""
        if definition.name == "Id":
            normalized = normalize_id(str(value))
            record = self._records[obj.name].get(normalized or "")
            return [record["Id"]] if record is not None and not record["IsDeleted"] else []
        typed = coerce(definition, value)
        ids = self._ext_index.get((obj.name, definition.name), {}).get(
            self._index_key(definition, typed), set()
        )
        table = self._records[obj.name]
        return sorted(ids, key=lambda rid: table[rid]["CreatedDate"] + rid)

    # -- transactions -----------------------------------------------------------------------

    @contextmanager
    def transaction(self, origin: str = "") -> Iterator[Transaction]:
        """Run writes atomically; change events are published only when the block succeeds."""
        with self.lock:
            txn = Transaction(self, origin, self.clock().replace(microsecond=0))
            try:
                yield txn
            except BaseException:
                txn.rollback()
                raise
            makers = txn._events(next(self._commit_numbers))
            self.events.publish(makers)

    # -- convenience API for tests and seeding ----------------------------------------------

    def object(self, name: str) -> ObjectDef:
        obj = self.schema.get(name)
        if obj is None:
            raise KeyError(f"unknown sObject type {name!r}")
        return obj

    def insert(self, object_name: str, values: Mapping[str, Any], *, origin: str = "") -> str:
        """Create a record as if through the API; returns its id."""
        with self.transaction(origin) as txn:
            return txn.create(self.object(object_name), values)

    def modify(
        self, object_name: str, record_id: str, values: Mapping[str, Any], *, origin: str = ""
    ) -> None:
        with self.transaction(origin) as txn:
            txn.update(self.object(object_name), record_id, values)

    def remove(self, object_name: str, record_id: str, *, origin: str = "") -> None:
        with self.transaction(origin) as txn:
            txn.delete(self.object(object_name), record_id)

    def restore(self, object_name: str, record_id: str, *, origin: str = "") -> None:
        """Undelete a record from the recycle bin (emits an UNDELETE change event)."""
        with self.transaction(origin) as txn:
            txn.undelete(self.object(object_name), record_id)

    def record(self, object_name: str, record_id: str) -> Record | None:
        """A copy of one record (deleted ones included), or ``None``."""
        with self.lock:
            obj = self.object(object_name)
            row = self._records[obj.name].get(normalize_id(record_id) or "")
            return dict(row) if row is not None else None

    def rows(self, object_name: str, *, include_deleted: bool = False) -> list[Record]:
        """Records of one object in creation order; the dicts are never mutated afterwards."""
        with self.lock:
            table = self._records[self.object(object_name).name]
            return [r for r in table.values() if include_deleted or not r["IsDeleted"]]

    def declare_field(self, custom: CustomField) -> FieldDef:
        """Add a custom field; existing records get ``null`` (or ``false``) for it."""
        with self.lock:
            definition = self.schema.declare(custom)
            obj = self.object(custom.object)
            default = False if definition.type == "boolean" else None
            for record_id, row in list(self._records[obj.name].items()):
                if definition.name not in row:
                    self._records[obj.name][record_id] = {**row, definition.name: default}
            self._schema_ids.pop(obj.name, None)
            return definition

    def schema_id(self, obj: ObjectDef) -> str:
        if obj.name not in self._schema_ids:
            self._schema_ids[obj.name] = schema_id(obj.name, obj.fields)
        return self._schema_ids[obj.name]

    # -- sessions and limits ----------------------------------------------------------------

    def issue_token(self) -> str:
        """A new access token in Salesforce's ``<org id>!<secret>`` form."""
        token = f"{self.org_id[:15]}!{secrets.token_urlsafe(48)}"
        with self.lock:
            self._tokens.add(token)
        return token

    def token_valid(self, token: str) -> bool:
        with self.lock:
            return token in self._tokens

    def revoke_tokens(self) -> int:
        """Expire every session, as a password reset or session timeout would."""
        with self.lock:
            count = len(self._tokens)
            self._tokens.clear()
            return count

    def consume_api_call(self) -> tuple[bool, int, int]:
        """Count one API request against the daily allocation: ``(allowed, used, max)``."""
        with self.lock:
            if self.api_used >= self.daily_api_limit:
                return False, self.api_used, self.daily_api_limit
            self.api_used += 1
            return True, self.api_used, self.daily_api_limit

    def reset_api_usage(self, used: int = 0, limit: int | None = None) -> None:
        with self.lock:
            self.api_used = used
            if limit is not None:
                self.daily_api_limit = limit

    def count_request(self, kind: str) -> None:
        with self.lock:
            self.request_counts[kind] = self.request_counts.get(kind, 0) + 1

    # -- admin ------------------------------------------------------------------------------

    def reset(self) -> None:
        """Forget all records, events and query cursors. Sessions and custom fields stay."""
        with self.lock:
            self.events.clear()
            self.managed.clear()
            self.cursors.clear()
            self.request_counts.clear()
            self.api_used = 0
            self._seed()

    def stats(self) -> dict[str, Any]:
        with self.lock:
            return {
                "records": {
                    name: sum(1 for r in table.values() if not r["IsDeleted"])
                    for name, table in self._records.items()
                },
                "deleted": {
                    name: sum(1 for r in table.values() if r["IsDeleted"])
                    for name, table in self._records.items()
                },
                "apiUsage": {"used": self.api_used, "max": self.daily_api_limit},
                "requests": dict(self.request_counts),
                "events": {
                    "retained": len(self.events),
                    "latestReplayId": self.events.latest_replay_id,
                },
                "sessions": len(self._tokens),
                "subscribers": [s.to_json() for s in self.pusher.subscribers()],
            }
