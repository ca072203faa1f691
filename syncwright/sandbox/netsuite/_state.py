"""The in-memory NetSuite account: records by type and id, behind one lock.

Every write is validated on a copy and stored only if every rule passes, so a rejected request
leaves no trace -- the property a client relies on when it retries after a 400.
"""

from __future__ import annotations

import copy
import datetime as dt
import threading
from collections.abc import Callable, Iterable
from typing import Any

from syncwright.sandbox.netsuite._errors import (
    NetSuiteApiError,
    not_found,
    unknown_record_type,
    user_error,
)
from syncwright.sandbox.netsuite._rules import (
    Record,
    Rules,
    applied_invoices,
    applied_to,
    customer_balance,
    customers_of,
    dependents,
    in_use_error,
    merge_lines,
    refresh_credit,
    set_invoice_balance,
)
from syncwright.sandbox.netsuite._schema import RecordType, read_body, record_type
from syncwright.sandbox.netsuite._seed import FIRST_NEW_ID, seed_records

__all__ = ["NetSuiteState"]


class NetSuiteState:
    """Records of one sandbox account. Methods take the REST record type name
    (case-insensitive) and raise :class:`NetSuiteApiError` with NetSuite's codes."""

    def __init__(self, *, seed: bool = True, today: Callable[[], dt.date] | None = None) -> None:
        self.lock = threading.RLock()
        self._seed = seed
        self._today = today or (lambda: dt.datetime.now(dt.UTC).date())
        self._records: dict[str, dict[str, Record]] = {}
        self._next_id = FIRST_NEW_ID
        self.reset()

    # -- Lookup protocol (callers hold the lock) ------------------------------------------

    def raw(self, rtype: str, rid: str) -> Record | None:
        return self._records.get(rtype, {}).get(rid)

    def raw_all(self, rtype: str) -> Iterable[Record]:
        return self._records.get(rtype, {}).values()

    # -- administration -------------------------------------------------------------------

    def reset(self) -> None:
        """Back to the seeded account (or an empty one with ``seed=False``)."""
        with self.lock:
            self._records = {}
            self._next_id = FIRST_NEW_ID
            if self._seed:
                for rtype, rows in seed_records().items():
                    self._records[rtype] = {row["id"]: dict(row) for row in rows}

    def counts(self) -> dict[str, int]:
        with self.lock:
            return {rtype: len(rows) for rtype, rows in self._records.items() if rows}

    # -- reads ----------------------------------------------------------------------------

    def get(self, rtype: str, rid: str) -> Record:
        """A deep copy of one record; 404 NONEXISTENT_ID if there is none."""
        rt = self._type(rtype)
        with self.lock:
            rid = self._resolve(rt, rid)
            return copy.deepcopy(self._records[rt.name][rid])

    def find(self, rtype: str, rid: str) -> Record | None:
        try:
            return self.get(rtype, rid)
        except NetSuiteApiError as exc:
            if exc.code == "NONEXISTENT_ID":
                return None
            raise

    def find_by_external_id(self, rtype: str, external_id: str) -> Record | None:
        return self.find(rtype, f"eid:{external_id}")

    def ids(self, rtype: str, where: Callable[[Record], bool] | None = None) -> list[str]:
        """Internal ids in id order, optionally only those of records matching ``where``."""
        rt = self._type(rtype)
        with self.lock:
            rows = self._records.get(rt.name, {})
            matching = [rid for rid, rec in rows.items() if where is None or where(rec)]
            return sorted(matching, key=_id_order)

    def all(self, rtype: str) -> list[Record]:
        rt = self._type(rtype)
        with self.lock:
            rows = self._records.get(rt.name, {})
            return [copy.deepcopy(rows[rid]) for rid in sorted(rows, key=_id_order)]

    # -- writes ---------------------------------------------------------------------------

    def create(self, rtype: str, body: Any) -> str:
        """POST: a new record; its id. A duplicate ``externalId`` is refused."""
        rt = self._type(rtype)
        fields, sublists = read_body(rt, body)
        with self.lock:
            eid = fields.get("externalId")
            if eid is not None and self._by_eid(rt, eid) is not None:
                raise user_error(
                    f"A {rt.name} record with the external ID '{eid}' already exists.",
                    path="externalId",
                )
            rid = str(self._next_id)
            record: Record = {"id": rid}
            record.update({k: v for k, v in fields.items() if v is not None})
            for name, lines in sublists.items():
                record[name] = merge_lines([], lines, replace=True)
            self._store(rt, rid, record, previous=None)
            self._next_id += 1
            return rid

    def update(self, rtype: str, rid: str, body: Any, *, replace: Iterable[str] = ()) -> str:
        """PATCH: change the given fields; sublists merge by ``line`` unless named in
        ``replace``. ``rid`` may be ``eid:...``. Returns the internal id."""
        rt = self._type(rtype)
        fields, sublists = read_body(rt, body)
        replaced = {name.lower() for name in replace}
        with self.lock:
            rid = self._resolve(rt, rid)
            previous = self._records[rt.name][rid]
            eid = fields.get("externalId")
            if eid is not None:
                holder = self._by_eid(rt, eid)
                if holder is not None and holder != rid:
                    raise user_error(
                        f"A {rt.name} record with the external ID '{eid}' already exists.",
                        path="externalId",
                    )
            record = copy.deepcopy(previous)
            for key, value in fields.items():
                if value is None:
                    record.pop(key, None)
                else:
                    record[key] = value
            for name, lines in sublists.items():
                record[name] = merge_lines(
                    record.get(name) or [], lines, replace=name.lower() in replaced
                )
            self._store(rt, rid, record, previous=previous)
            return rid

    def upsert(
        self, rtype: str, external_id: str, body: Any, *, replace: Iterable[str] = ()
    ) -> tuple[str, bool]:
        """PUT ``eid:...``: update the record with that external id (sublists named in
        ``replace`` replaced, as a PATCH), or create it. Returns ``(id, created)``."""
        rt = self._type(rtype)
        if isinstance(body, dict):
            given = next((v for k, v in body.items() if k.lower() == "externalid"), None)
            if given is not None and str(given) != external_id:
                raise user_error(
                    "The external ID in the request body does not match the one in the URL.",
                    path="externalId",
                )
        with self.lock:
            existing = self._by_eid(rt, external_id)
            if existing is not None:
                return self.update(rt.name, existing, body, replace=replace), False
            payload = dict(body) if isinstance(body, dict) else body
            if isinstance(payload, dict):
                payload = {k: v for k, v in payload.items() if k.lower() != "externalid"}
                payload["externalId"] = external_id
            return self.create(rt.name, payload), True

    def delete(self, rtype: str, rid: str) -> None:
        rt = self._type(rtype)
        with self.lock:
            rid = self._resolve(rt, rid)
            if dependents(self, rt.name, rid):
                raise in_use_error()
            previous = self._records[rt.name].pop(rid)
            self._refresh_credits(rt, previous, None)
            self._refresh_invoices(applied_invoices(previous))
            self._refresh_balances(customers_of(previous) if rt.family == "transaction" else set())

    # -- internals ------------------------------------------------------------------------

    def _type(self, rtype: str) -> RecordType:
        rt = record_type(rtype)
        if rt is None:
            raise unknown_record_type(rtype)
        return rt

    def _by_eid(self, rt: RecordType, eid: str) -> str | None:
        for rid, rec in self._records.get(rt.name, {}).items():
            if rec.get("externalId") == eid:
                return rid
        return None

    def _resolve(self, rt: RecordType, rid: str) -> str:
        if rid.startswith("eid:"):
            found = self._by_eid(rt, rid[4:])
            if found is None:
                raise not_found(rt.name, rid)
            return found
        if rid not in self._records.get(rt.name, {}):
            raise not_found(rt.name, rid)
        return rid

    def _store(self, rt: RecordType, rid: str, record: Record, *, previous: Record | None) -> None:
        Rules(self, self._today).prepare(rt, rid, record, is_new=previous is None)
        now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        record.setdefault("dateCreated", now)
        record["lastModifiedDate"] = now
        self._records.setdefault(rt.name, {})[rid] = record
        self._refresh_credits(rt, previous, record)
        self._refresh_invoices(applied_invoices(previous) | applied_invoices(record))
        if rt.family == "transaction":
            self._refresh_balances(customers_of(previous) | customers_of(record))

    def _refresh_invoices(self, invoice_ids: set[str]) -> None:
        for invoice_id in invoice_ids:
            invoice = self.raw("invoice", invoice_id)
            if invoice is not None:
                set_invoice_balance(invoice, applied_to(self, invoice_id))

    def _refresh_credits(
        self, rt: RecordType, previous: Record | None, record: Record | None
    ) -> None:
        """A customer refund pays credit out of the credit memos it applies: their
        ``unapplied`` (and so the customer's balance) follows. Its apply lines name credit
        memos, not invoices, so the invoice refresh below finds nothing to do for them."""
        if rt.name != "customerRefund":
            return
        for memo_id in applied_invoices(previous) | applied_invoices(record):
            memo = self.raw("creditMemo", memo_id)
            if memo is not None:
                refresh_credit(self, memo)

    def _refresh_balances(self, customer_ids: set[str]) -> None:
        """Customer ``balance`` follows every invoice, payment and credit memo written."""
        for customer_id in customer_ids:
            customer = self.raw("customer", customer_id)
            if customer is not None:
                customer["balance"] = customer_balance(self, customer_id)


def _id_order(rid: str) -> tuple[int, str]:
    try:
        return (int(rid), "")
    except ValueError:
        return (1 << 62, rid)
