"""Business Central's rules for a record before it is stored: which properties a body may
name, ETags, posted documents, and what each entity set fills in on creation (customer name
and number of a document, journal and line number of a payment, ...)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from syncwright.sandbox.business_central._company import EMPTY_GUID, Company, Record
from syncwright.sandbox.business_central._errors import BcApiError, dialog
from syncwright.sandbox.business_central._schema import EntitySet

__all__ = ["CREATORS", "check_etag", "check_fields", "editable", "resolve_customer"]


def check_fields(spec: EntitySet, body: Record) -> None:
    for name in body:
        if name.startswith("@odata"):
            continue
        if name in spec.read_only:
            raise BcApiError(400, "BadRequest_InvalidOperation", f"Control '{name}' is read-only")
        if name not in spec.writable:
            raise BcApiError(
                400,
                "BadRequest",
                f"The property '{name}' does not exist on type 'Microsoft.NAV.{spec.entity}'. "
                "Make sure to only use property names that are defined by the type.",
            )


def check_etag(row: Record, if_match: str | None) -> None:
    if if_match is None:
        raise BcApiError(
            400,
            "BadRequest_InvalidToken",
            "Could not validate the client concurrency token required by the service. Please "
            "provide a valid token in the client request.",
        )
    if if_match.strip() != "*" and if_match.strip() != row["@odata.etag"]:
        raise BcApiError(
            409, "Request_EntityChanged", "Another user has already changed the record."
        )


def editable(spec: EntitySet, row: Record) -> None:
    if spec.name in ("salesInvoices", "salesCreditMemos") and row.get("status") != "Draft":
        raise dialog(
            f"You cannot change or delete posted {spec.entity} {row.get('number')}; "
            "correct it with a credit memo."
        )


def resolve_customer(company: Company, row: Record, body: Record) -> None:
    customers = company.table("customers")
    customer = None
    if body.get("customerId"):
        customer = customers.get(str(body["customerId"]).lower())
    elif body.get("customerNumber"):
        customer = next(
            (c for c in customers.values() if c["number"] == body["customerNumber"]), None
        )
    else:
        raise dialog("A customerNumber or a customerID must be provided.")
    if customer is None:
        wanted = body.get("customerId") or body.get("customerNumber")
        raise BcApiError(
            400,
            "Internal_RecordNotFound",
            f"The Customer does not exist. Identification fields and values: No.='{wanted}'",
        )
    if customer.get("blocked") == "All":
        raise dialog(
            f"You cannot create this type of document when Customer {customer['number']} is "
            "blocked with type All"
        )
    row["customerId"], row["customerNumber"] = customer["id"], customer["number"]
    row["customerName"] = customer["displayName"]


def _create_customer(company: Company, spec: EntitySet, row: Record) -> None:
    if not row.get("displayName"):
        raise BcApiError(
            400,
            "BadRequest_RequiredParamNotProvided",
            "Field 'displayName' must not be blank or empty.",
        )
    defaults = {
        "type": "Company",
        "blocked": " ",
        "balanceDue": 0,
        "creditLimit": 0,
        "taxLiable": False,
        "taxAreaId": EMPTY_GUID,
        "paymentTermsId": EMPTY_GUID,
        "currencyCode": company.local_currency,
    }
    for key, value in defaults.items():
        row.setdefault(key, value)
    if row["blocked"] not in (" ", "Ship", "Invoice", "All"):
        raise BcApiError(
            400,
            "Application_EvaluateException",
            f'The value "{row["blocked"]}" cannot be evaluated into type Option.',
        )
    area = company.table("taxAreas").get(str(row["taxAreaId"]).lower())
    if row["taxAreaId"] != EMPTY_GUID and area is None:
        raise BcApiError(
            400,
            "Internal_InvalidTableRelation",
            f"The field Tax Area Code of table Customer contains a value ({row['taxAreaId']}) "
            "that cannot be found in the related table (Tax Area).",
        )
    row["taxAreaDisplayName"] = area["displayName"] if area else ""


def _create_document(company: Company, spec: EntitySet, row: Record) -> None:
    resolve_customer(company, row, row)
    customer = company.table("customers")[row["customerId"]]
    row.setdefault("currencyCode", customer.get("currencyCode") or company.local_currency)
    row.setdefault("externalDocumentNumber", "")
    row.setdefault("discountAmount", 0)
    row["status"] = "Draft"
    row["pricesIncludeTax"] = False
    today = datetime.now(UTC).date().isoformat()
    date_field = {
        "salesOrders": "orderDate",
        "salesInvoices": "invoiceDate",
        "salesCreditMemos": "creditMemoDate",
    }[spec.name]
    row.setdefault(date_field, today)
    if spec.name == "salesInvoices":
        row.setdefault("dueDate", row["invoiceDate"])
        row["remainingAmount"] = 0
    if spec.name == "salesOrders":
        row["fullyShipped"] = False
    if spec.name == "salesCreditMemos" and (row.get("invoiceId") or row.get("invoiceNumber")):
        invoices = company.table("salesInvoices")
        invoice = invoices.get(str(row.get("invoiceId") or "").lower()) or next(
            (i for i in invoices.values() if i["number"] == row.get("invoiceNumber")), None
        )
        if invoice is None or invoice["status"] == "Draft":
            raise dialog("The credit memo must be applied to a posted invoice of the customer.")
        row["invoiceId"], row["invoiceNumber"] = invoice["id"], invoice["number"]


def _create_payment(company: Company, spec: EntitySet, row: Record) -> None:
    resolve_customer(company, row, row)
    journals = company.table("customerPaymentJournals")
    journal = journals.get(str(row.get("journalId") or "").lower()) or next(
        iter(journals.values()), None
    )
    if journal is None:
        raise dialog("There is no customer payment journal.")
    row["journalId"], row["journalDisplayName"] = journal["id"], journal["displayName"]
    if row.get("amount") is None:
        raise BcApiError(
            400, "BadRequest_RequiredParamNotProvided", "Field 'amount' must not be blank or empty."
        )
    row.setdefault("postingDate", datetime.now(UTC).date().isoformat())
    row.setdefault("externalDocumentNumber", "")
    row.setdefault("description", "")
    row.setdefault("comment", "")
    siblings = [
        p for p in company.table("customerPayments").values() if p["journalId"] == journal["id"]
    ]
    row["lineNumber"] = max((p["lineNumber"] for p in siblings), default=0) + 10000
    count = company.counters.get("customerPayments", 1000) + 1
    company.counters["customerPayments"] = count
    row["documentNumber"] = f"PAY{count}"
    if row.get("appliesToInvoiceId") or row.get("appliesToInvoiceNumber"):
        invoices = company.table("salesInvoices")
        invoice = invoices.get(str(row.get("appliesToInvoiceId") or "").lower()) or next(
            (i for i in invoices.values() if i["number"] == row.get("appliesToInvoiceNumber")), None
        )
        if invoice is None or invoice["status"] == "Draft":
            raise dialog("The payment must be applied to a posted invoice.")
        row["appliesToInvoiceId"], row["appliesToInvoiceNumber"] = invoice["id"], invoice["number"]
    else:
        row["appliesToInvoiceId"], row["appliesToInvoiceNumber"] = EMPTY_GUID, ""
    row.pop("customerNumber", None)
    row["customerNumber"] = company.table("customers")[row["customerId"]]["number"]


CREATORS: dict[str, Callable[[Company, EntitySet, Record], None]] = {
    "customers": _create_customer,
    "salesOrders": _create_document,
    "salesInvoices": _create_document,
    "salesCreditMemos": _create_document,
    "customerPayments": _create_payment,
}
