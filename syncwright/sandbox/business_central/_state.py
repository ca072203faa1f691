"""In-memory Business Central tenant: companies, their records, documents and their lines.

Business rules we emulate because the connector depends on them (each as Business Central
behaves, per Microsoft's v2.0 resource pages):

- records carry ``@odata.etag``; PATCH and DELETE need ``If-Match`` (an etag or ``*``), and a
  stale etag is refused with ``Request_EntityChanged``;
- a document names its customer by ``customerId`` or ``customerNumber``; its lines name an item
  by ``itemId`` or ``lineObjectNumber``; totals, tax (from the customer's tax area) and the
  customer's name are computed, never taken from the body;
- sales invoices and credit memos are drafts until ``Microsoft.NAV.post``; a posted document
  cannot be changed or deleted; posting a credit memo applied to an invoice (``invoiceId``)
  lowers that invoice's ``remainingAmount``;
- customer payments are journal lines; ``Microsoft.NAV.post`` on their journal posts them
  (applying each to its invoice) and removes them from the journal, as Business Central does;
- ``lastModifiedDateTime`` is set on every change (unique and increasing here, so a poller's
  cursor is exact).
"""

from __future__ import annotations

import base64
import copy
import threading
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from syncwright.sandbox.business_central._company import Change, Company, Record, money, number
from syncwright.sandbox.business_central._errors import BcApiError, dialog, not_found
from syncwright.sandbox.business_central._rules import (
    CREATORS,
    check_etag,
    check_fields,
    editable,
    resolve_customer,
)
from syncwright.sandbox.business_central._schema import ENTITY_SETS, LINE_SETS, EntitySet

__all__ = ["BcState", "Change", "Record"]


class BcState:
    """One tenant; thread-safe (every method takes the lock)."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.companies: dict[str, Company] = {}
        self._last = datetime.now(UTC)
        self.listeners: list[Callable[[Change], None]] = []

    # -- clock and etags ---------------------------------------------------------------------

    def now(self) -> str:
        """A unique, increasing ``lastModifiedDateTime`` (milliseconds, Z)."""
        moment = max(datetime.now(UTC), self._last + timedelta(milliseconds=1))
        self._last = moment
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"

    @staticmethod
    def _etag(record: Record, version: int) -> str:
        token = base64.b64encode(f"{version};{record['id']};".encode()).decode()
        return f'W/"{token}"'

    def _touch(self, record: Record) -> None:
        version = int(record.pop("_version", 0)) + 1
        record["lastModifiedDateTime"] = self.now()
        record["_version"] = version
        record["@odata.etag"] = self._etag(record, version)

    # -- companies ---------------------------------------------------------------------------

    def add_company(self, name: str, *, local_currency: str = "GBP", company_id: str = "") -> str:
        with self.lock:
            cid = company_id or str(uuid.uuid4())
            record = {
                "id": cid,
                "systemVersion": "26.0.30643.32481",
                "name": name,
                "displayName": name,
                "businessProfileId": "",
                "systemCreatedAt": self.now(),
                "systemModifiedAt": self.now(),
            }
            self.companies[cid] = Company(record, local_currency=local_currency)
            return cid

    def company(self, company_id: str) -> Company:
        found = self.companies.get(company_id.lower())
        if found is None:
            raise BcApiError(
                404,
                "Internal_CompanyNotFound",
                f"Cannot process the request because the company {company_id} cannot be found.",
            )
        return found

    def seed(self, company_id: str, entity_set: str, record: Record) -> Record:
        """Insert a record as it would exist (master data: items, tax areas, currencies)."""
        with self.lock:
            company = self.company(company_id)
            row = {"id": str(uuid.uuid4()), **record}
            self._touch(row)
            company.table(entity_set)[row["id"]] = row
            return self.public(row)

    def set_tax_rate(self, company_id: str, tax_area_id: str, percent: Decimal) -> None:
        with self.lock:
            self.company(company_id).tax_rates[tax_area_id] = percent

    # -- reads -------------------------------------------------------------------------------

    @staticmethod
    def public(record: Record) -> Record:
        return {k: copy.deepcopy(v) for k, v in record.items() if not k.startswith("_")}

    def rows(self, company_id: str, entity_set: str) -> list[Record]:
        with self.lock:
            company = self.company(company_id)
            if entity_set in LINE_SETS:
                rows = list(company.lines.get(entity_set, {}).values())
            else:
                rows = list(company.table(entity_set).values())
            return [self.public(r) for r in rows]

    def get(self, company_id: str, spec: EntitySet, record_id: str) -> Record:
        with self.lock:
            return self.public(self._row(company_id, spec, record_id))

    def lines_of(self, company_id: str, spec: EntitySet, document_id: str) -> list[Record]:
        with self.lock:
            company = self.company(company_id)
            assert spec.lines is not None
            found = [
                line
                for line in company.lines.get(spec.lines, {}).values()
                if line["documentId"] == document_id
            ]
            return [self.public(r) for r in sorted(found, key=lambda r: r["sequence"])]

    def _row(self, company_id: str, spec: EntitySet, record_id: str) -> Record:
        company = self.company(company_id)
        table = company.lines.get(spec.name, {}) if spec.name in LINE_SETS else None
        row = (table if table is not None else company.table(spec.name)).get(record_id.lower())
        if row is None:
            raise not_found(spec.entity, record_id)
        return row

    # -- writes ------------------------------------------------------------------------------

    def create(self, company_id: str, spec: EntitySet, body: Record) -> Record:
        with self.lock:
            company = self.company(company_id)
            lines = body.pop(spec.lines, None) if spec.lines else None
            check_fields(spec, body)
            row: Record = {"id": str(uuid.uuid4())}
            creator = CREATORS.get(spec.name)
            row.update(body)
            if creator is not None:
                creator(company, spec, row)
            if spec.number_prefix and not row.get("number") and spec.name != "customerPayments":
                row["number"] = self._nextnumber(company, spec)
            self._check_unique(company, spec, row)
            self._touch(row)
            company.table(spec.name)[row["id"]] = row
            if spec.lines:
                for n, line in enumerate(lines or [], start=1):
                    self._add_line(company, spec, row, {"sequence": n * 10000, **line})
                self._compute(company, spec, row)
            self._emit(company_id, spec.name, row["id"], "created")
            return self.public(row)

    def update(
        self, company_id: str, spec: EntitySet, record_id: str, body: Record, if_match: str | None
    ) -> Record:
        with self.lock:
            company = self.company(company_id)
            row = self._row(company_id, spec, record_id)
            check_etag(row, if_match)
            check_fields(spec, body)
            if spec.name in LINE_SETS:
                document, doc_spec = self._document_of(company, spec, row)
                editable(doc_spec, document)
                row.update(body)
                self._price_line(company, document, row)
                self._touch(row)
                self._compute(company, doc_spec, document)
                self._emit(company_id, doc_spec.name, document["id"], "updated")
                return self.public(row)
            editable(spec, row)
            if "customerId" in body or "customerNumber" in body:
                resolve_customer(company, row, body)
            row.update({k: v for k, v in body.items() if k not in ("customerNumber",)})
            self._check_unique(company, spec, row)
            self._touch(row)
            if spec.lines:
                self._compute(company, spec, row)
            self._emit(company_id, spec.name, row["id"], "updated")
            return self.public(row)

    def delete(
        self, company_id: str, spec: EntitySet, record_id: str, if_match: str | None
    ) -> None:
        with self.lock:
            company = self.company(company_id)
            row = self._row(company_id, spec, record_id)
            check_etag(row, if_match)
            if spec.name in LINE_SETS:
                document, doc_spec = self._document_of(company, spec, row)
                editable(doc_spec, document)
                del company.lines[spec.name][row["id"]]
                self._touch(document)
                self._compute(company, doc_spec, document)
                self._emit(company_id, doc_spec.name, document["id"], "updated")
                return
            editable(spec, row)
            del company.table(spec.name)[row["id"]]
            if spec.lines:
                for line_id in [
                    k
                    for k, v in company.lines.get(spec.lines, {}).items()
                    if v["documentId"] == row["id"]
                ]:
                    del company.lines[spec.lines][line_id]
            self._emit(company_id, spec.name, row["id"], "deleted")

    def add_line(self, company_id: str, spec: EntitySet, document_id: str, body: Record) -> Record:
        with self.lock:
            company = self.company(company_id)
            document = self._row(company_id, spec, document_id)
            editable(spec, document)
            line = self._add_line(company, spec, document, body)
            self._touch(document)
            self._compute(company, spec, document)
            self._emit(company_id, spec.name, document_id, "updated")
            return self.public(line)

    # -- bound actions -----------------------------------------------------------------------

    def post(self, company_id: str, spec: EntitySet, record_id: str) -> None:
        """``Microsoft.NAV.post`` of a sales invoice, a credit memo or a payment journal."""
        with self.lock:
            company = self.company(company_id)
            row = self._row(company_id, spec, record_id)
            if spec.name == "customerPaymentJournals":
                self._post_payments(company, company_id, row)
                return
            if spec.name not in ("salesInvoices", "salesCreditMemos"):
                raise BcApiError(
                    400, "BadRequest_MethodNotImplemented", "Entity does not support bound actions"
                )
            if row["status"] != "Draft":
                raise dialog(f"{spec.entity} {row['number']} is already posted.")
            if not self.lines_of(company_id, spec, row["id"]):
                raise dialog("There is nothing to post.")
            row["status"] = "Open"
            if spec.name == "salesInvoices":
                row["remainingAmount"] = row["totalAmountIncludingTax"]
            elif row.get("invoiceId"):
                invoice = company.table("salesInvoices").get(row["invoiceId"])
                if invoice is not None:
                    self._apply(invoice, money(row["totalAmountIncludingTax"]))
                    row["status"] = "Paid"
            self._touch(row)
            self._refresh_balance(company, row["customerId"])
            self._emit(company_id, spec.name, row["id"], "updated")

    def cancel(self, company_id: str, spec: EntitySet, record_id: str) -> None:
        """``Microsoft.NAV.cancel`` of a posted, unpaid sales invoice, or of a posted credit
        memo (what it applied to its invoice is due again)."""
        with self.lock:
            company = self.company(company_id)
            row = self._row(company_id, spec, record_id)
            if spec.name == "salesCreditMemos" and row["status"] in ("Open", "Paid"):
                invoice = company.table("salesInvoices").get(str(row.get("invoiceId")))
                if invoice is not None and invoice["status"] in ("Open", "Paid"):
                    restored = money(invoice.get("remainingAmount")) + money(
                        row["totalAmountIncludingTax"]
                    )
                    invoice["remainingAmount"], invoice["status"] = number(restored), "Open"
                    self._touch(invoice)
                    self._emit(company_id, "salesInvoices", invoice["id"], "updated")
            elif spec.name != "salesInvoices" or row["status"] not in ("Open",):
                raise dialog(f"{spec.entity} {row.get('number')} cannot be canceled.")
            elif money(row["remainingAmount"]) != money(row["totalAmountIncludingTax"]):
                raise dialog(f"You cannot cancel invoice {row['number']}: it is partly paid.")
            else:
                row["remainingAmount"] = 0
            row["status"] = "Canceled"
            self._touch(row)
            self._refresh_balance(company, row["customerId"])
            self._emit(company_id, spec.name, row["id"], "updated")

    def _post_payments(self, company: Company, company_id: str, journal: Record) -> None:
        payments = company.table("customerPayments")
        posted = [p for p in payments.values() if p.get("journalId") == journal["id"]]
        for payment in posted:
            invoice = company.table("salesInvoices").get(str(payment.get("appliesToInvoiceId")))
            if invoice is not None:
                self._apply(invoice, money(payment["amount"]))
                self._emit(company_id, "salesInvoices", invoice["id"], "updated")
            del payments[payment["id"]]
            company.table("_postedPayments")[payment["id"]] = payment
            self._refresh_balance(company, payment["customerId"])

    def _apply(self, invoice: Record, amount: Decimal) -> None:
        remaining = max(money(invoice.get("remainingAmount")) - amount, Decimal(0))
        invoice["remainingAmount"] = number(remaining)
        if remaining == 0 and invoice["status"] == "Open":
            invoice["status"] = "Paid"
        self._touch(invoice)

    # -- webhooks ----------------------------------------------------------------------------

    def _emit(self, company_id: str, entity_set: str, record_id: str, change_type: str) -> None:
        # A notification carries the record's own lastModifiedDateTime (now, for a deletion).
        row = self.company(company_id).table(entity_set).get(record_id)
        at = str(row["lastModifiedDateTime"]) if row is not None else self.now()
        change = Change(company_id, entity_set, record_id, change_type, at)
        for listener in list(self.listeners):
            listener(change)

    # -- computing documents -----------------------------------------------------------------

    def _nextnumber(self, company: Company, spec: EntitySet) -> str:
        count = company.counters.get(spec.name, 1000) + 1
        company.counters[spec.name] = count
        return f"{spec.number_prefix}{count}"

    def _check_unique(self, company: Company, spec: EntitySet, row: Record) -> None:
        if "number" not in spec.writable or not row.get("number"):
            return
        for other in company.table(spec.name).values():
            if other["id"] != row["id"] and other.get("number") == row["number"]:
                raise BcApiError(
                    400,
                    "Internal_EntityWithSameKeyExists",
                    f"The {spec.entity} already exists. Identification fields and values: "
                    f"No.='{row['number']}'",
                )

    def _document_of(
        self, company: Company, spec: EntitySet, line: Record
    ) -> tuple[Record, EntitySet]:
        doc_spec = next(s for s in ENTITY_SETS.values() if s.lines == spec.name)
        return company.table(doc_spec.name)[line["documentId"]], doc_spec

    def _add_line(
        self, company: Company, spec: EntitySet, document: Record, body: Record
    ) -> Record:
        assert spec.lines is not None
        line_spec = LINE_SETS[spec.lines]
        check_fields(line_spec, body)
        line: Record = {
            "id": str(uuid.uuid4()),
            "documentId": document["id"],
            "lineType": "Item",
            "quantity": 1,
            "discountAmount": 0,
            "description": "",
        }
        line.update(body)
        if "sequence" not in body:
            existing = [
                v["sequence"]
                for v in company.lines.get(spec.lines, {}).values()
                if v["documentId"] == document["id"]
            ]
            line["sequence"] = max(existing, default=0) + 10000
        self._price_line(company, document, line)
        if spec.lines == "salesOrderLines":
            line.setdefault("shipQuantity", line["quantity"])
            line.setdefault("invoiceQuantity", line["quantity"])
        self._touch(line)
        company.lines.setdefault(spec.lines, {})[line["id"]] = line
        return line

    def _price_line(self, company: Company, document: Record, line: Record) -> None:
        if line.get("lineType") != "Item":
            raise BcApiError(
                400,
                "Application_EvaluateException",
                f'The value "{line.get("lineType")}" cannot be evaluated into type Option.',
            )
        items = company.table("items")
        item = None
        if line.get("itemId"):
            item = items.get(str(line["itemId"]).lower())
        elif line.get("lineObjectNumber"):
            item = next(
                (i for i in items.values() if i["number"] == line["lineObjectNumber"]), None
            )
        if item is None:
            wanted = line.get("itemId") or line.get("lineObjectNumber") or ""
            raise BcApiError(
                400,
                "Internal_InvalidTableRelation",
                f"The field No. of table Sales Line contains a value ({wanted}) that cannot be "
                "found in the related table (Item).",
            )
        if item.get("blocked"):
            raise dialog(f"You cannot sell item {item['number']} because it is blocked.")
        line["itemId"], line["lineObjectNumber"] = item["id"], item["number"]
        if not line.get("description"):
            line["description"] = item["displayName"]
        if "unitPrice" not in line:
            line["unitPrice"] = item.get("unitPrice", 0)
        amount = money(Decimal(str(line["quantity"])) * Decimal(str(line["unitPrice"])))
        line["amountExcludingTax"] = number(amount - money(line.get("discountAmount")))

    def _compute(self, company: Company, spec: EntitySet, document: Record) -> None:
        assert spec.lines is not None
        lines = [
            line
            for line in company.lines.get(spec.lines, {}).values()
            if line["documentId"] == document["id"]
        ]
        customer = company.table("customers").get(document["customerId"], {})
        rate = Decimal(0)
        if customer.get("taxLiable"):
            rate = company.tax_rates.get(str(customer.get("taxAreaId")), Decimal(0))
        net = sum((money(line["amountExcludingTax"]) for line in lines), Decimal(0))
        net -= money(document.get("discountAmount"))
        tax = money(net * rate / 100)
        for line in lines:
            line_tax = money(money(line["amountExcludingTax"]) * rate / 100)
            line["taxPercent"] = number(rate)
            line["totalTaxAmount"] = number(line_tax)
            line["amountIncludingTax"] = number(money(line["amountExcludingTax"]) + line_tax)
        document["totalAmountExcludingTax"] = number(net)
        document["totalTaxAmount"] = number(tax)
        document["totalAmountIncludingTax"] = number(net + tax)
        if spec.name == "salesInvoices" and document["status"] == "Draft":
            document["remainingAmount"] = 0

    def _refresh_balance(self, company: Company, customer_id: str) -> None:
        customer = company.table("customers").get(customer_id)
        if customer is None:
            return
        due = sum(
            (
                money(i.get("remainingAmount"))
                for i in company.table("salesInvoices").values()
                if i["customerId"] == customer_id and i["status"] == "Open"
            ),
            Decimal(0),
        )
        customer["balanceDue"] = number(due)
        self._touch(customer)

    def iter_companies(self) -> Iterator[Record]:
        with self.lock:
            for company in self.companies.values():
                yield dict(company.record)
