"""The entity sets of API v2.0 the emulator serves, with the properties Microsoft documents.

Property names come from the v2.0 resource pages (``dynamics_customer.md``,
``dynamics_salesorder.md``, ``dynamics_salesinvoice.md``, ``dynamics_customerpayment.md``,
``dynamics_item.md``, ``dynamics_paymentterm.md``, ...; copies in
``tests/vendor/business_central``). Only the properties the emulator fills are listed; a body
naming any other property is refused, as OData does.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ENTITY_SETS", "LINE_SETS", "EntitySet"]


@dataclass(frozen=True)
class EntitySet:
    name: str  # the URL segment: customers
    entity: str  # the type, as error messages name it: customer
    writable: frozenset[str]
    read_only: frozenset[str]
    lines: str | None = None  # the navigation property of a document's lines
    number_prefix: str | None = None  # the number series of new records
    creatable: bool = True

    @property
    def fields(self) -> frozenset[str]:
        return self.writable | self.read_only


def _set(*names: str) -> frozenset[str]:
    return frozenset(names)


_ADDRESS = ("AddressLine1", "AddressLine2", "City", "Country", "State", "PostCode")
_DOC_WRITABLE = _set(
    "externalDocumentNumber",
    "customerId",
    "customerNumber",
    "currencyCode",
    "discountAmount",
    "email",
    *(f"billTo{a}" for a in _ADDRESS),
)
_DOC_READ_ONLY = _set(
    "id",
    "number",
    "customerName",
    "totalAmountExcludingTax",
    "totalTaxAmount",
    "totalAmountIncludingTax",
    "pricesIncludeTax",
    "status",
    "lastModifiedDateTime",
)
_LINE_WRITABLE = _set(
    "sequence",
    "lineType",
    "itemId",
    "lineObjectNumber",
    "description",
    "quantity",
    "unitPrice",
    "discountAmount",
)
_LINE_READ_ONLY = _set(
    "id", "documentId", "amountExcludingTax", "taxPercent", "totalTaxAmount", "amountIncludingTax"
)

ENTITY_SETS: dict[str, EntitySet] = {
    s.name: s
    for s in (
        EntitySet(
            "customers",
            "customer",
            _set(
                "number",
                "displayName",
                "type",
                "addressLine1",
                "addressLine2",
                "city",
                "state",
                "country",
                "postalCode",
                "phoneNumber",
                "email",
                "website",
                "creditLimit",
                "taxLiable",
                "taxAreaId",
                "taxRegistrationNumber",
                "currencyCode",
                "paymentTermsId",
                "blocked",
            ),
            _set("id", "balanceDue", "taxAreaDisplayName", "lastModifiedDateTime"),
            number_prefix="C",
        ),
        EntitySet(
            "items",
            "item",
            _set("number", "displayName", "type", "blocked", "unitPrice", "taxGroupCode"),
            _set("id", "lastModifiedDateTime"),
            number_prefix="I",
        ),
        EntitySet(
            "salesOrders",
            "salesOrder",
            _DOC_WRITABLE | _set("orderDate", "requestedDeliveryDate"),
            _DOC_READ_ONLY | _set("fullyShipped"),
            lines="salesOrderLines",
            number_prefix="S-ORD",
        ),
        EntitySet(
            "salesInvoices",
            "salesInvoice",
            _DOC_WRITABLE | _set("invoiceDate", "dueDate", "orderId"),
            _DOC_READ_ONLY | _set("remainingAmount"),
            lines="salesInvoiceLines",
            number_prefix="S-INV",
        ),
        EntitySet(
            "salesCreditMemos",
            "salesCreditMemo",
            _DOC_WRITABLE | _set("creditMemoDate", "invoiceId", "invoiceNumber"),
            _DOC_READ_ONLY,
            lines="salesCreditMemoLines",
            number_prefix="S-CR",
        ),
        EntitySet(
            "customerPayments",
            "customerPayment",
            _set(
                "journalId",
                "customerId",
                "customerNumber",
                "postingDate",
                "externalDocumentNumber",
                "amount",
                "appliesToInvoiceId",
                "appliesToInvoiceNumber",
                "description",
                "comment",
            ),
            _set(
                "id", "lineNumber", "documentNumber", "journalDisplayName", "lastModifiedDateTime"
            ),
            number_prefix="PAY",
        ),
        EntitySet(
            "customerPaymentJournals",
            "customerPaymentJournal",
            _set("code", "displayName"),
            _set("id", "lastModifiedDateTime"),
        ),
        EntitySet(
            "taxAreas",
            "taxArea",
            _set(),
            _set("id", "code", "displayName", "taxType", "lastModifiedDateTime"),
            creatable=False,
        ),
        EntitySet(
            "paymentTerms",
            "paymentTerm",
            _set(),
            _set("id", "code", "displayName", "dueDateCalculation", "lastModifiedDateTime"),
            creatable=False,
        ),
        EntitySet(
            "currencies",
            "currency",
            _set(),
            _set("id", "code", "displayName", "lastModifiedDateTime"),
            creatable=False,
        ),
    )
}

LINE_SETS: dict[str, EntitySet] = {
    name: EntitySet(name, name[:-1], _LINE_WRITABLE | extra, _LINE_READ_ONLY)
    for name, extra in (
        ("salesOrderLines", _set("shipQuantity", "invoiceQuantity")),
        ("salesInvoiceLines", _set()),
        ("salesCreditMemoLines", _set()),
    )
}
