"""Business rules: defaults, reference checks, totals, and payments applied to invoices.

Each rule raises the error NetSuite gives for it (see ``_errors``), with ``o:errorPath`` pointing
at the offending body field, so a client can tell operations exactly what to fix.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Protocol

from syncwright.sandbox.netsuite._errors import (
    NetSuiteApiError,
    invalid_field_value,
    invalid_reference,
    missing_value,
    period_closed,
    user_error,
)
from syncwright.sandbox.netsuite._schema import (
    CENT,
    ITEM_TYPES,
    RECORD_TYPES,
    FieldSpec,
    RecordType,
)

Record = dict[str, Any]
ZERO = Decimal("0.00")


class Lookup(Protocol):
    """What the rules need from the state: raw stored records, read under the state's lock."""

    def raw(self, rtype: str, rid: str) -> Record | None: ...

    def raw_all(self, rtype: str) -> Iterable[Record]: ...


def _day(value: Any) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])


def money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def find_ref(db: Lookup, spec: FieldSpec, rid: str) -> tuple[str, Record] | None:
    for target in spec.refs:
        found = db.raw(target, rid)
        if found is not None:
            return target, found
    return None


def check_references(db: Lookup, rt: RecordType, record: Record) -> None:
    """Every reference must name an existing record (body: INVALID_KEY_OR_REF; lines: the
    INVALID_CONTENT of Oracle's sample for a bad sublist item)."""
    for spec in rt.fields:
        rid = record.get(spec.name)
        if spec.kind == "ref" and rid is not None and find_ref(db, spec, rid) is None:
            raise invalid_reference(spec.name, rid)
    for sub in rt.sublists:
        for index, line in enumerate(record.get(sub.name) or []):
            for spec in sub.fields:
                rid = line.get(spec.name)
                if spec.kind == "ref" and rid is not None and find_ref(db, spec, rid) is None:
                    path = f"{sub.name}.items[{index}].{spec.name}"
                    raise invalid_field_value(spec.name, rid, path=path)


def merge_lines(existing: list[Record], incoming: list[Record], *, replace: bool) -> list[Record]:
    """PATCH semantics for sublists: lines with a known ``line`` are updated, others appended;
    ``?replace=item`` replaces the whole sublist (Oracle: "Working with Sublists")."""
    if replace:
        return [{**line, "line": n} for n, line in enumerate(incoming, start=1)]
    lines = [dict(line) for line in existing]
    by_number = {line["line"]: line for line in lines}
    next_number = max(by_number, default=0) + 1
    for line in incoming:
        target = by_number.get(line.get("line"))
        if target is None:
            lines.append({**line, "line": next_number})
            next_number += 1
            continue
        if ("quantity" in line or "rate" in line) and "amount" not in line:
            target.pop("amount", None)
        if "item" in line and "rate" not in line:
            target.pop("rate", None)
            if "amount" not in line:
                target.pop("amount", None)
        target.update(line)
    return lines


def find_item(db: Lookup, rid: str) -> Record | None:
    for rtype in ITEM_TYPES:
        found = db.raw(rtype, rid)
        if found is not None:
            return found
    return None


# -- per record type ----------------------------------------------------------------------


class Rules:
    """Applies the rules of one record type to a merged record before it is stored."""

    def __init__(self, db: Lookup, today: Callable[[], dt.date]) -> None:
        self.db = db
        self.today = today

    def prepare(self, rt: RecordType, rid: str, record: Record, *, is_new: bool) -> None:
        check_references(self.db, rt, record)
        handler = {
            "currency": self._currency,
            "subsidiary": self._subsidiary,
            "term": self._term,
            "accountingPeriod": self._accounting_period,
            "salesTaxItem": self._tax_code,
            "serviceSaleItem": self._item,
            "nonInventorySaleItem": self._item,
            "customer": self._customer,
            "salesOrder": self._sales_order,
            "invoice": self._invoice,
            "customerPayment": self._customer_payment,
            "creditMemo": self._credit_memo,
            "customerRefund": self._customer_refund,
        }.get(rt.name)
        if handler is not None:
            handler(rt, rid, record, is_new)

    # lists and items ------------------------------------------------------------------

    def _require(self, record: Record, name: str, label: str) -> None:
        if record.get(name) in (None, ""):
            raise missing_value(label, path=name)

    def _currency(self, rt: RecordType, rid: str, rec: Record, is_new: bool) -> None:
        self._require(rec, "name", "Name")
        self._require(rec, "symbol", "ISO Code")
        rec.setdefault("exchangeRate", Decimal("1.0"))
        rec.setdefault("isInactive", False)

    def _subsidiary(self, rt: RecordType, rid: str, rec: Record, is_new: bool) -> None:
        self._require(rec, "name", "Name")
        self._require(rec, "country", "Country")
        self._require(rec, "currency", "Currency")
        rec.setdefault("isInactive", False)

    def _term(self, rt: RecordType, rid: str, rec: Record, is_new: bool) -> None:
        self._require(rec, "name", "Terms")
        rec.setdefault("daysUntilNetDue", Decimal(0))

    def _accounting_period(self, rt: RecordType, rid: str, rec: Record, is_new: bool) -> None:
        self._require(rec, "periodName", "Period Name")
        self._require(rec, "startDate", "Start Date")
        self._require(rec, "endDate", "End Date")
        for flag in ("isQuarter", "isYear", "closed", "arLocked", "allLocked"):
            rec.setdefault(flag, False)

    def _tax_code(self, rt: RecordType, rid: str, rec: Record, is_new: bool) -> None:
        self._require(rec, "itemId", "Tax Name")
        rec.setdefault("rate", Decimal(0))

    def _item(self, rt: RecordType, rid: str, rec: Record, is_new: bool) -> None:
        self._require(rec, "itemId", "Item Name/Number")
        rec.setdefault("basePrice", ZERO)
        rec.setdefault("isInactive", False)
        rec["itemType"] = "Service" if rt.name == "serviceSaleItem" else "NonInvtPart"

    # customer -------------------------------------------------------------------------

    def _customer(self, rt: RecordType, rid: str, rec: Record, is_new: bool) -> None:
        rec.setdefault("isPerson", False)
        if rec["isPerson"]:
            self._require(rec, "firstName", "First Name")
            self._require(rec, "lastName", "Last Name")
        else:
            self._require(rec, "companyName", "Company Name")
        self._require(rec, "subsidiary", "Primary Subsidiary")
        subsidiary = self.db.raw("subsidiary", rec["subsidiary"]) or {}
        if rec.get("currency") is None:
            rec["currency"] = subsidiary.get("currency")
        if not rec.get("entityId"):
            rec["entityId"] = f"CUS{rid}"
        else:
            for other in self.db.raw_all("customer"):
                if other["id"] != rid and other.get("entityId") == rec["entityId"]:
                    raise user_error(
                        "A customer record with this ID already exists. You must enter a "
                        "unique customer ID for each record you create.",
                        path="entityId",
                    )
        rec.setdefault("isInactive", False)
        if rec.get("creditLimit") is not None and rec["creditLimit"] < 0:
            raise invalid_field_value("creditLimit", rec["creditLimit"], path="creditLimit")
        rec["balance"] = customer_balance(self.db, rid)

    # transactions -----------------------------------------------------------------------

    def _customer_of(self, rec: Record, field: str) -> Record:
        self._require(rec, field, "Customer")
        customer = self.db.raw("customer", rec[field])
        assert customer is not None  # checked by check_references
        return customer

    def _tran_header(self, rt: RecordType, rid: str, rec: Record, customer: Record) -> None:
        if rec.get("subsidiary") is None:
            rec["subsidiary"] = customer.get("subsidiary")
        if rec.get("subsidiary") is None:
            raise missing_value("Subsidiary", path="subsidiary")
        if rec["subsidiary"] != customer.get("subsidiary"):
            raise user_error(
                f"The subsidiary {self._name('subsidiary', rec['subsidiary'])} is not assigned "
                f"to customer {customer.get('entityId')}.",
                path="subsidiary",
            )
        if rec.get("currency") is None:
            rec["currency"] = customer.get("currency")
        if rec["currency"] != customer.get("currency"):
            raise user_error(
                f"The currency {self._name('currency', rec['currency'])} is not a currency of "
                f"customer {customer.get('entityId')}.",
                path="currency",
            )
        currency = self.db.raw("currency", rec["currency"]) or {}
        rec.setdefault("exchangeRate", currency.get("exchangeRate", Decimal("1.0")))
        if not rec.get("tranDate"):
            rec["tranDate"] = self.today().isoformat()
        if not rec.get("tranId"):
            rec["tranId"] = f"{rt.tran_prefix}{rid}"

    def _name(self, rtype: str, rid: str) -> str:
        found = self.db.raw(rtype, rid) or {}
        return str(found.get("symbol") or found.get("name") or rid)

    def _item_lines(self, rec: Record, customer: Record) -> None:
        lines: list[Record] = rec.get("item") or []
        if not lines:
            raise user_error(
                "You must enter at least one line item for this transaction.", path="item"
            )
        subsidiary = self.db.raw("subsidiary", rec["subsidiary"]) or {}
        subtotal = tax_total = ZERO
        for index, line in enumerate(lines):
            path = f"item.items[{index}]"
            if line.get("item") is None:
                raise missing_value("Item", path=f"{path}.item")
            item = find_item(self.db, line["item"]) or {}
            given = line.get("quantity")
            quantity: Decimal = given if isinstance(given, Decimal) else Decimal(1)
            line["quantity"] = quantity
            if line.get("rate") is None:
                if line.get("amount") is not None and quantity:
                    line["rate"] = money(line["amount"] / quantity)
                else:
                    line["rate"] = item.get("basePrice", ZERO)
            if line.get("amount") is None:
                line["amount"] = money(quantity * line["rate"])
            if line.get("taxCode") is None and customer.get("taxItem") is not None:
                line["taxCode"] = customer["taxItem"]
            rate = Decimal(0)
            if line.get("taxCode") is not None:
                code = self.db.raw("salesTaxItem", line["taxCode"]) or {}
                country = code.get("country")
                if country and country != subsidiary.get("country"):
                    raise user_error(
                        f"The tax code {code.get('itemId')} is not valid for subsidiary "
                        f"{subsidiary.get('name')} (country {subsidiary.get('country')}).",
                        path=f"{path}.taxCode",
                    )
                rate = code.get("rate", Decimal(0))
            line["taxRate1"] = rate
            line["tax1Amt"] = money(line["amount"] * rate / 100)
            subtotal += line["amount"]
            tax_total += line["tax1Amt"]
        rec["subtotal"] = money(subtotal)
        rec["taxTotal"] = money(tax_total)
        rec["total"] = money(subtotal + tax_total)

    def _sales_order(self, rt: RecordType, rid: str, rec: Record, is_new: bool) -> None:
        customer = self._customer_of(rec, "entity")
        self._tran_header(rt, rid, rec, customer)
        rec.setdefault("orderStatus", "A")
        rec["status"] = rec["orderStatus"]
        if rec.get("terms") is None:
            rec["terms"] = customer.get("terms")
        self._item_lines(rec, customer)

    def _invoice(self, rt: RecordType, rid: str, rec: Record, is_new: bool) -> None:
        customer = self._customer_of(rec, "entity")
        if rec.get("createdFrom") is not None:
            order = self.db.raw("salesOrder", rec["createdFrom"]) or {}
            if order.get("entity") != rec["entity"]:
                raise user_error(
                    f"Sales order {order.get('tranId')} belongs to another customer.",
                    path="createdFrom",
                )
            if is_new and not rec.get("item"):
                keep = ("item", "quantity", "rate", "amount", "description", "taxCode")
                rec["item"] = [
                    {k: line[k] for k in keep if k in line} | {"line": line["line"]}
                    for line in order.get("item") or []
                ]
            for key in ("startDate", "endDate", "subsidiary", "currency"):
                if rec.get(key) is None and order.get(key) is not None:
                    rec[key] = order[key]
        self._tran_header(rt, rid, rec, customer)
        self._posting_period(rec)
        if rec.get("terms") is None:
            rec["terms"] = customer.get("terms")
        if not rec.get("dueDate"):
            days = Decimal(0)
            if rec.get("terms") is not None:
                days = (self.db.raw("term", rec["terms"]) or {}).get("daysUntilNetDue", days)
            due = dt.date.fromisoformat(rec["tranDate"]) + dt.timedelta(days=int(days))
            rec["dueDate"] = due.isoformat()
        self._item_lines(rec, customer)
        paid = applied_to(self.db, rid)
        if paid > rec["total"]:
            raise user_error(
                f"The invoice total {rec['total']} is less than the {paid} already applied to it.",
                path="item",
            )
        set_invoice_balance(rec, paid)

    def _apply_lines(
        self,
        rt: RecordType,
        rid: str,
        rec: Record,
        customer_id: str,
        limit: Decimal,
        limit_path: str,
    ) -> None:
        lines = [line for line in rec.get("apply") or [] if line.get("apply") is not False]
        applied = ZERO
        for index, line in enumerate(lines):
            path = f"apply.items[{index}]"
            line["apply"] = True
            if line.get("doc") is None:
                raise missing_value("Document", path=f"{path}.doc")
            invoice = self.db.raw("invoice", line["doc"])
            assert invoice is not None
            if invoice.get("entity") != customer_id:
                raise user_error(
                    f"Invoice {invoice.get('tranId')} belongs to another customer.",
                    path=f"{path}.doc",
                )
            if invoice.get("currency") != rec.get("currency"):
                raise user_error(
                    f"Invoice {invoice.get('tranId')} is in another currency.",
                    path=f"{path}.doc",
                )
            due = invoice["total"] - applied_to(self.db, line["doc"], exclude=(rt.name, rid))
            if line.get("amount") is None:
                line["amount"] = min(due, limit - applied)
            if line["amount"] <= 0:
                raise invalid_field_value("amount", line["amount"], path=f"{path}.amount")
            if line["amount"] > due:
                raise user_error(
                    f"The amount applied to invoice {invoice.get('tranId')} ({line['amount']}) "
                    f"exceeds the amount due ({money(due)}).",
                    path=f"{path}.amount",
                )
            line["due"] = money(due)
            line["total"] = invoice["total"]
            line["refNum"] = invoice.get("tranId")
            applied += line["amount"]
        if applied > limit:
            raise user_error(
                f"The total applied ({money(applied)}) exceeds the amount available ({limit}).",
                path=limit_path,
            )
        rec["apply"] = [{**line, "line": n} for n, line in enumerate(lines, start=1)]
        rec["applied"] = money(applied)
        rec["unapplied"] = money(limit - applied)

    def _posting_period(self, rec: Record) -> None:
        """An accounts-receivable posting (invoice, payment, credit memo) lands in the period
        of its date, which must be open: not closed, not locked for A/R or for everything.
        Without any periods set up (the default) nothing is checked, as in an account that
        does not use Accounting Periods."""
        when = _day(rec["tranDate"])
        for period in self.db.raw_all("accountingPeriod"):
            if period.get("isQuarter") or period.get("isYear"):
                continue
            start, end = period.get("startDate"), period.get("endDate")
            if start is None or end is None:
                continue
            if not _day(start) <= when <= _day(end):
                continue
            rec["postingPeriod"] = period["id"]
            if period.get("closed") or period.get("arLocked") or period.get("allLocked"):
                raise period_closed(str(period.get("periodName") or period["id"]))
            return

    def _customer_payment(self, rt: RecordType, rid: str, rec: Record, is_new: bool) -> None:
        customer = self._customer_of(rec, "customer")
        if rec.get("payment") is None:
            raise missing_value("Payment Amount", path="payment")
        if rec["payment"] <= 0:
            raise invalid_field_value("payment", rec["payment"], path="payment")
        self._tran_header(rt, rid, rec, customer)
        self._posting_period(rec)
        rec["total"] = rec["payment"]
        self._apply_lines(rt, rid, rec, rec["customer"], rec["payment"], "payment")

    def _credit_memo(self, rt: RecordType, rid: str, rec: Record, is_new: bool) -> None:
        customer = self._customer_of(rec, "entity")
        if rec.get("createdFrom") is not None:
            invoice = self.db.raw("invoice", rec["createdFrom"]) or {}
            if invoice.get("entity") != rec["entity"]:
                raise user_error(
                    f"Invoice {invoice.get('tranId')} belongs to another customer.",
                    path="createdFrom",
                )
            if is_new and not rec.get("item"):
                keep = ("item", "quantity", "rate", "amount", "description", "taxCode")
                rec["item"] = [
                    {k: line[k] for k in keep if k in line} | {"line": line["line"]}
                    for line in invoice.get("item") or []
                ]
        self._tran_header(rt, rid, rec, customer)
        self._posting_period(rec)
        self._item_lines(rec, customer)
        # Credit already paid out by customer refunds is no longer there to apply.
        refunded = refunded_from(self.db, rid)
        self._apply_lines(rt, rid, rec, rec["entity"], rec["total"] - refunded, "apply")
        rec["status"] = "B" if rec["unapplied"] == 0 else "A"

    def _customer_refund(self, rt: RecordType, rid: str, rec: Record, is_new: bool) -> None:
        customer = self._customer_of(rec, "customer")
        self._tran_header(rt, rid, rec, customer)
        self._posting_period(rec)
        lines = [line for line in rec.get("apply") or [] if line.get("apply") is not False]
        if not lines:
            raise user_error("You must enter at least one line item for this transaction.")
        total = ZERO
        for index, line in enumerate(lines):
            path = f"apply.items[{index}]"
            line["apply"] = True
            if line.get("doc") is None:
                raise missing_value("Document", path=f"{path}.doc")
            memo = self.db.raw("creditMemo", line["doc"])
            assert memo is not None  # checked by check_references
            if memo.get("entity") != rec["customer"]:
                raise user_error(
                    f"Credit memo {memo.get('tranId')} belongs to another customer.",
                    path=f"{path}.doc",
                )
            if memo.get("currency") != rec.get("currency"):
                raise user_error(
                    f"Credit memo {memo.get('tranId')} is in another currency.",
                    path=f"{path}.doc",
                )
            available = credit_available(self.db, memo, exclude=rid)
            if line.get("amount") is None:
                line["amount"] = available
            if line["amount"] <= 0:
                raise invalid_field_value("amount", line["amount"], path=f"{path}.amount")
            if line["amount"] > available:
                raise user_error(
                    f"The amount refunded from credit memo {memo.get('tranId')} "
                    f"({line['amount']}) exceeds its unapplied credit ({money(available)}).",
                    path=f"{path}.amount",
                )
            line["due"] = money(available)
            line["total"] = memo["total"]
            line["refNum"] = memo.get("tranId")
            total += line["amount"]
        rec["apply"] = [{**line, "line": n} for n, line in enumerate(lines, start=1)]
        rec["total"] = money(total)


# -- invoice balances ---------------------------------------------------------------------

APPLYING_TYPES = ("customerPayment", "creditMemo")
INVOICE_STATUS = {"A": "Open", "B": "Paid In Full"}
CREDIT_MEMO_STATUS = {"A": "Open", "B": "Fully Applied"}


def applied_to(db: Lookup, invoice_id: str, *, exclude: tuple[str, str] | None = None) -> Decimal:
    """What payments and credit memos have applied to one invoice so far."""
    total = ZERO
    for rtype in APPLYING_TYPES:
        for doc in db.raw_all(rtype):
            if exclude is not None and (rtype, doc["id"]) == exclude:
                continue
            for line in doc.get("apply") or []:
                if line.get("doc") == invoice_id:
                    total += line.get("amount") or ZERO
    return total


def refunded_from(db: Lookup, memo_id: str, *, exclude: str | None = None) -> Decimal:
    """What customer refunds have paid out of one credit memo."""
    total = ZERO
    for refund in db.raw_all("customerRefund"):
        if refund["id"] == exclude:
            continue
        for line in refund.get("apply") or []:
            if line.get("doc") == memo_id:
                total += line.get("amount") or ZERO
    return total


def credit_available(db: Lookup, memo: Record, *, exclude: str | None = None) -> Decimal:
    """A credit memo's credit neither applied to invoices nor refunded (``exclude``: a refund
    being rewritten, whose own lines do not count)."""
    return (
        Decimal(memo["total"])
        - (memo.get("applied") or ZERO)
        - refunded_from(db, memo["id"], exclude=exclude)
    )


def refresh_credit(db: Lookup, memo: Record) -> None:
    """A credit memo's ``unapplied`` and status after a refund paid some of it out."""
    memo["unapplied"] = money(credit_available(db, memo))
    memo["status"] = "B" if memo["unapplied"] == 0 else "A"


def set_invoice_balance(invoice: Record, paid: Decimal) -> None:
    invoice["amountPaid"] = money(paid)
    invoice["amountRemaining"] = money(invoice["total"] - paid)
    invoice["status"] = "B" if invoice["amountRemaining"] == 0 else "A"


def customer_balance(db: Lookup, customer_id: str) -> Decimal:
    """The customer's open receivables, as NetSuite's read-only ``balance``: what its invoices
    still owe, less the payments and credit memos not yet applied to an invoice."""
    total = ZERO
    for invoice in db.raw_all("invoice"):
        if invoice.get("entity") == customer_id:
            total += invoice.get("amountRemaining") or ZERO
    for rtype, field in (("customerPayment", "customer"), ("creditMemo", "entity")):
        for doc in db.raw_all(rtype):
            if doc.get(field) == customer_id:
                total -= doc.get("unapplied") or ZERO
    return money(total)


def customers_of(record: Record | None) -> set[str]:
    """The customer a transaction belongs to (its ``entity`` or, on payments, ``customer``)."""
    if record is None:
        return set()
    return {record[key] for key in ("entity", "customer") if record.get(key)}


def applied_invoices(record: Record | None) -> set[str]:
    if record is None:
        return set()
    return {line["doc"] for line in record.get("apply") or [] if line.get("doc")}


def dependents(db: Lookup, rtype: str, rid: str) -> list[tuple[str, str]]:
    """Records that reference ``rtype``/``rid``: those block a delete, as in NetSuite."""
    found: list[tuple[str, str]] = []
    for other in RECORD_TYPES.values():
        specs = [s for s in other.fields if s.kind == "ref" and rtype in s.refs]
        subs = [
            (sub.name, [s for s in sub.fields if s.kind == "ref" and rtype in s.refs])
            for sub in other.sublists
        ]
        if not specs and not any(fields for _, fields in subs):
            continue
        for rec in db.raw_all(other.name):
            hit = any(rec.get(s.name) == rid for s in specs) or any(
                line.get(s.name) == rid
                for name, fields in subs
                for line in rec.get(name) or []
                for s in fields
            )
            if hit:
                found.append((other.name, rec["id"]))
    return found


def in_use_error() -> NetSuiteApiError:
    return user_error("This record cannot be deleted because it has dependent records.")


__all__ = [
    "CREDIT_MEMO_STATUS",
    "INVOICE_STATUS",
    "ITEM_TYPES",
    "Lookup",
    "Rules",
    "applied_invoices",
    "applied_to",
    "credit_available",
    "customer_balance",
    "customers_of",
    "dependents",
    "in_use_error",
    "merge_lines",
    "money",
    "refresh_credit",
    "refunded_from",
    "set_invoice_balance",
]
