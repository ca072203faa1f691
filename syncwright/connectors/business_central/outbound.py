"""Actions on Business Central, written as engine steps: ``(StepContext, connection, *args)``.

Every write is idempotent by a key Business Central keeps: a customer by its number (Code[20],
the account's global id or a digest of it), documents and payment journal lines by their
``externalDocumentNumber`` (Code[35], same rule). A step first looks its record up by that key
(``$filter``), then creates it (documents with their lines, a deep insert) or updates it with
the record's ETag (``If-Match``), replacing the lines of a draft. Sales invoices and credit
memos are posted (``Microsoft.NAV.post``) once their draft's totals equal the canonical ones;
a posted document is never changed (Business Central refuses): it is accepted when its total is
ours, else the step parks. Payments are written as customer payment journal lines applied to
their invoice; posting the journal stays with finance (Business Central's review step), so a
retry always finds the line again. Each write step has a probe and, where Business Central can
undo it, a compensation.

Microsoft: resource pages of customer, salesOrder(+Lines), salesInvoice(+Lines),
salesCreditMemo(+Lines), customerPayment, customerPaymentJournal (API v2.0).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from syncwright.connectors import audit_write, connector_for, ledger_block, parse_canonical
from syncwright.connectors.business_central.client import BusinessCentralClient
from syncwright.connectors.business_central.transforms import business_central_code
from syncwright.engine import StepContext
from syncwright.errors import BusinessRuleError, DependencyMissingError
from syncwright.model import (
    Account,
    BillingLine,
    CreditNote,
    Invoice,
    Money,
    Payment,
    PaymentStatus,
    Subscription,
)

if TYPE_CHECKING:  # the connector imports this module to declare its actions
    from syncwright.connectors.business_central.connector import BusinessCentralConnector

__all__ = [
    "apply_payment",
    "close_sales_order",
    "customer_number",
    "document_number",
    "probe_apply_payment",
    "probe_close_sales_order",
    "probe_credit_memo",
    "probe_customer",
    "probe_invoice",
    "probe_sales_order",
    "upsert_credit_memo",
    "upsert_customer",
    "upsert_invoice",
    "upsert_sales_order",
    "void_credit_memo",
    "void_invoice",
    "void_payment",
    "void_sales_order",
]

JSON = dict[str, Any]
VENDOR = "business_central"
LABEL = "Business Central"
ACCOUNT, SUBSCRIPTION, INVOICE, PAYMENT, CREDIT_NOTE = (
    "account",
    "subscription",
    "invoice",
    "payment",
    "credit_note",
)
_LINES = {
    "salesOrders": "salesOrderLines",
    "salesInvoices": "salesInvoiceLines",
    "salesCreditMemos": "salesCreditMemoLines",
}
# What makes two lines the same (Business Central fills descriptions from the item).
_LINE_FIELDS = ("lineObjectNumber", "quantity", "unitPrice")


def customer_number(global_id: str) -> str:
    return business_central_code(global_id, 20)


def document_number(global_id: str) -> str:
    return business_central_code(global_id, 35)


# -- plumbing --------------------------------------------------------------------------------


def _connector(ctx: StepContext, connection: str) -> BusinessCentralConnector:
    from syncwright.connectors.business_central.connector import BusinessCentralConnector

    return connector_for(ctx, connection, BusinessCentralConnector, label=LABEL)


def _parse(model: Any, data: Any, what: str) -> Any:
    return parse_canonical(model, data, what, vendor=VENDOR, label=LABEL)


def _decimal(value: Any) -> Decimal:
    return Decimal(str(value if value is not None else 0))


def _same(value: Any, money: Money) -> bool:
    return _decimal(value) == money.to_decimal()


def _result(
    connection: str,
    entity_type: str,
    global_id: str,
    native_id: str,
    body: Any,
    mapping: str,
    *,
    fields: Mapping[str, Any] | None = None,
    **extra: Any,
) -> JSON:
    return {
        "native_id": native_id,
        "external_id": global_id,
        **extra,
        "ledger": ledger_block(
            connection,
            entity_type,
            global_id,
            native_id,
            body,
            mapping_version=mapping,
            fields=fields,
        ),
    }


def _link(
    ctx: StepContext, entity_type: str, global_id: str, connection: str, native_id: str
) -> None:
    ctx.services.xref.link(entity_type, global_id, connection, native_id)


def _audit(
    ctx: StepContext, connection: str, action: str, native_id: str, total: Money, body: Any
) -> None:
    audit_write(
        ctx,
        connection,
        action,
        native_id,
        body,
        amount_minor=total.amount_minor,
        currency=total.currency,
    )


def _customer(ctx: StepContext, connector: BusinessCentralConnector, account_id: str) -> JSON:
    """The customer of an account: by its number, else the cross-reference (a customer linked
    by match-and-link keeps its own number); waits for it when Business Central has none."""
    client = connector.client
    found = client.find("customers", "number", customer_number(account_id))
    if found is None:
        known = ctx.services.xref.native_id_for(ACCOUNT, account_id, connector.name)
        if known is not None:
            found = client.get("customers", str(known))
    if found is None:
        raise DependencyMissingError(
            f"account {account_id} has no customer in Business Central ({connector.name})",
            code="business_central.customer_not_synced",
            remediation=(
                f"Sync account {account_id} to Business Central first (upsert_account), or link "
                "the existing customer to it; the exception waits for the customer and retries "
                "by itself once it is there."
            ),
            waits_for={
                "entity_type": ACCOUNT,
                "global_id": account_id,
                "system": connector.name,
                "record_type": "customer",
            },
        )
    return found


def _aliases(ctx: StepContext, keys: Iterable[tuple[str, str | None]]) -> list[str]:
    """Canonical ids and their native ids in other systems (a Stripe ``price_...``), in order."""
    out: list[str] = []
    for entity_type, global_id in keys:
        if not global_id:
            continue
        out.append(global_id)
        out.extend(sorted(set(ctx.services.xref.links(entity_type, global_id).values())))
    return out


def _item(connector: BusinessCentralConnector, candidates: Sequence[str], what: str) -> str:
    options = connector.options
    for key in candidates:
        if key in options.items:
            return options.items[key]
    if options.default_item:
        return options.default_item
    raise BusinessRuleError(
        f"{what}: no Business Central item is mapped for {', '.join(candidates) or 'its product'}",
        code="business_central.unmapped_item",
        remediation=(
            f"Map the price or product under connections.{connector.name}.options.items (or set "
            "options.default_item), then retry the exception."
        ),
    )


def _billing_lines(
    ctx: StepContext, connector: BusinessCentralConnector, lines: Sequence[BillingLine], what: str
) -> list[JSON]:
    out = []
    for line in lines:
        keys = _aliases(ctx, [("price", line.price_id), ("product", line.product_id)])
        quantity = Decimal(str(line.quantity))
        unit = line.unit_amount.to_decimal() if line.unit_amount is not None else None
        if unit is None or unit * quantity != line.amount.to_decimal():
            # Business Central computes amount = quantity x unit price: give it one that holds.
            quantity, unit = Decimal(1), line.amount.to_decimal()
        out.append(
            {
                "lineType": "Item",
                "lineObjectNumber": _item(connector, keys, what),
                "description": (line.description or "")[:100],
                "quantity": float(quantity)
                if quantity != quantity.to_integral()
                else int(quantity),
                "unitPrice": float(unit),
            }
        )
    return out


def _same_lines(existing: Sequence[Mapping[str, Any]], wanted: Sequence[Mapping[str, Any]]) -> bool:
    def key(line: Mapping[str, Any]) -> tuple[Any, ...]:
        return tuple(
            _decimal(line.get(f)) if f in ("quantity", "unitPrice") else line.get(f)
            for f in _LINE_FIELDS
        )

    return sorted(map(key, existing), key=str) == sorted(map(key, wanted), key=str)


def _write_document(
    client: BusinessCentralClient, entity_set: str, body: JSON, existing: JSON | None
) -> JSON:
    """Create the document with its lines, or update a draft: header by PATCH, lines replaced
    (Business Central merges nothing: lines are deleted and added), so a retry never doubles."""
    lines_name = _LINES[entity_set]
    lines = body[lines_name]
    if existing is None:
        return client.create(entity_set, body)
    header = {k: v for k, v in body.items() if k != lines_name}
    changed = {k: v for k, v in header.items() if existing.get(k) != v}
    record = client.update(entity_set, existing, changed) if changed else existing
    current = existing.get(lines_name)
    if current is None:
        current = client.get(entity_set, existing["id"], expand=lines_name).get(lines_name) or []
    if not _same_lines(current, lines):
        for line in current:
            client.delete_line(entity_set, existing["id"], lines_name, line)
        for line in lines:
            client.add_line(entity_set, existing["id"], lines_name, line)
        record = client.get(entity_set, existing["id"])
    return record


def _find_document(client: BusinessCentralClient, entity_set: str, global_id: str) -> JSON | None:
    return client.find(
        entity_set, "externalDocumentNumber", document_number(global_id), expand=_LINES[entity_set]
    )


def _post_checked(
    ctx: StepContext,
    connector: BusinessCentralConnector,
    entity_set: str,
    record: JSON,
    total: Money,
    tax: Money,
    what: str,
) -> JSON:
    """Post a draft whose totals are ours; a posted one must carry our total."""
    client = connector.client
    if record.get("status") != "Draft":
        if not _same(record.get("totalAmountIncludingTax"), total):
            raise BusinessRuleError(
                f"{what} is already posted in Business Central ({record.get('number')}) with "
                f"total {record.get('totalAmountIncludingTax')}, not {total}",
                code="business_central.posted_differs",
                remediation=(
                    "A posted document cannot change: correct it in Business Central with a "
                    "credit memo (or cancel it), then retry or resolve the exception."
                ),
            )
        return record
    if not _same(record.get("totalAmountIncludingTax"), total):
        raise BusinessRuleError(
            f"{what}: Business Central computes a total of {record.get('totalAmountIncludingTax')} "
            f"(tax {record.get('totalTaxAmount')}) but billing charged {total} (tax {tax}); the "
            f"draft {record.get('number')} is left unposted",
            code="business_central.total_mismatch",
            remediation=(
                "Give the customer the tax area and liability billing used (options.tax_areas for "
                "new customers), or fix the prices of the mapped items, then retry: the draft is "
                "corrected and posted."
            ),
        )
    client.action(entity_set, record["id"], "post")
    return client.get(entity_set, record["id"])


# -- customer --------------------------------------------------------------------------------


def _customer_body(
    ctx: StepContext, connector: BusinessCentralConnector, account: Account
) -> tuple[JSON, str]:
    mapping = connector.mapping("outbound")
    record = {
        "account": account.model_dump(mode="json"),
        "tax_area_id": connector.tax_area_id(account.subsidiary),
    }
    return mapping.apply("customer", record), mapping.ref


_CUSTOMER_FIELDS = (
    "name",
    "legal_name",
    "status",
    "currency",
    "billing_email",
    "bill_to",
    "website",
    "tax_ids",
)


def _customer_fields(account: Account) -> JSON:
    canonical = account.model_dump(mode="json")
    return {name: canonical[name] for name in _CUSTOMER_FIELDS}


def upsert_customer(ctx: StepContext, connection: str, account: JSON) -> JSON:
    """Account -> Business Central customer (number = the account's global id, or a digest)."""
    connector = _connector(ctx, connection)
    parsed: Account = _parse(Account, account, "account")
    body, ref = _customer_body(ctx, connector, parsed)
    client = connector.client
    existing = client.find("customers", "number", body["number"])
    if existing is None:
        record = client.create("customers", body)
    else:
        changed = {k: v for k, v in body.items() if existing.get(k) != v}
        record = client.update("customers", existing, changed) if changed else existing
    _link(ctx, ACCOUNT, parsed.global_id, connection, record["id"])
    return _result(
        connection,
        ACCOUNT,
        parsed.global_id,
        record["id"],
        body,
        ref,
        fields=_customer_fields(parsed),
        number=record["number"],
    )


def probe_customer(ctx: StepContext, connection: str, account: JSON) -> JSON | None:
    connector = _connector(ctx, connection)
    parsed: Account = _parse(Account, account, "account")
    body, ref = _customer_body(ctx, connector, parsed)
    found = connector.client.find("customers", "number", body["number"])
    if found is None or found.get("displayName") != body["displayName"]:
        return None
    _link(ctx, ACCOUNT, parsed.global_id, connection, found["id"])
    return _result(
        connection,
        ACCOUNT,
        parsed.global_id,
        found["id"],
        body,
        ref,
        fields=_customer_fields(parsed),
        number=found["number"],
    )


# -- sales order -----------------------------------------------------------------------------


def _order_body(
    ctx: StepContext, connector: BusinessCentralConnector, subscription: JSON
) -> tuple[Subscription, JSON, str]:
    parsed: Subscription = _parse(Subscription, subscription, "subscription")
    customer = _customer(ctx, connector, parsed.account_id)
    what = f"subscription {parsed.global_id}"
    lines = []
    for item in parsed.items:
        keys = _aliases(ctx, [("price", item.price_id), ("product", item.product_id)])
        lines.append(
            {
                "lineType": "Item",
                "lineObjectNumber": _item(connector, keys, what),
                "quantity": item.quantity,
                "unitPrice": float(item.unit_amount.to_decimal()),
                "description": (item.description or "")[:100]
                if hasattr(item, "description")
                else "",
            }
        )
    mapping = connector.mapping("outbound")
    record = {
        "subscription": parsed.model_dump(mode="json"),
        "customer_id": customer["id"],
        "lines": lines,
    }
    return parsed, mapping.apply("sales_order", record), mapping.ref


def upsert_sales_order(ctx: StepContext, connection: str, subscription: JSON) -> JSON:
    """Subscription -> sales order (external document No. = subscription global id)."""
    connector = _connector(ctx, connection)
    parsed, body, ref = _order_body(ctx, connector, subscription)
    client = connector.client
    record = _write_document(
        client, "salesOrders", body, _find_document(client, "salesOrders", parsed.global_id)
    )
    _link(ctx, SUBSCRIPTION, parsed.global_id, connection, record["id"])
    return _result(
        connection,
        SUBSCRIPTION,
        parsed.global_id,
        record["id"],
        body,
        ref,
        number=record.get("number"),
        total=parsed.recurring_amount.model_dump(mode="json"),
    )


def probe_sales_order(ctx: StepContext, connection: str, subscription: JSON) -> JSON | None:
    connector = _connector(ctx, connection)
    parsed, body, ref = _order_body(ctx, connector, subscription)
    found = _find_document(connector.client, "salesOrders", parsed.global_id)
    if found is None or not _same_lines(
        found.get("salesOrderLines") or [], body["salesOrderLines"]
    ):
        return None
    _link(ctx, SUBSCRIPTION, parsed.global_id, connection, found["id"])
    return _result(
        connection,
        SUBSCRIPTION,
        parsed.global_id,
        found["id"],
        body,
        ref,
        number=found.get("number"),
        total=parsed.recurring_amount.model_dump(mode="json"),
    )


def void_sales_order(ctx: StepContext, result: JSON, connection: str, *args: Any) -> None:
    """Compensation for :func:`upsert_sales_order`: delete the order (gone already: done)."""
    client = _connector(ctx, connection).client
    try:
        record = client.get("salesOrders", str(result["native_id"]))
    except BusinessRuleError as exc:
        if exc.code == "business_central.BadRequest_NotFound":
            return
        raise
    client.delete("salesOrders", record)


def _order_to_close(
    ctx: StepContext, connector: BusinessCentralConnector, subscription: JSON
) -> tuple[Subscription, JSON | None]:
    parsed: Subscription = _parse(Subscription, subscription, "subscription")
    return parsed, _find_document(connector.client, "salesOrders", parsed.global_id)


def close_sales_order(
    ctx: StepContext, connection: str, subscription: JSON, effective_date: str | None = None
) -> JSON:
    """Cancellation: nothing more is shipped or invoiced from the subscription's sales order
    (every line's ``shipQuantity`` and ``invoiceQuantity`` set to 0). Business Central has no
    "closed" order state in the API; the order stays for finance to archive."""
    connector = _connector(ctx, connection)
    parsed, order = _order_to_close(ctx, connector, subscription)
    if order is None:
        raise BusinessRuleError(
            f"subscription {parsed.global_id} has no sales order in Business Central ({connection})",
            code="business_central.sales_order_not_found",
            remediation=(
                "Nothing to close: if the subscription should have reached Business Central, "
                "replay its activation first and retry; if it never did, resolve this exception."
            ),
        )
    body = {"shipQuantity": 0, "invoiceQuantity": 0}
    closed = 0
    for line in order.get("salesOrderLines") or []:
        if line.get("shipQuantity") or line.get("invoiceQuantity"):
            connector.client.update_line("salesOrders", order["id"], "salesOrderLines", line, body)
        closed += 1
    _link(ctx, SUBSCRIPTION, parsed.global_id, connection, order["id"])
    ref = connector.mapping("outbound").ref
    return _result(
        connection,
        SUBSCRIPTION,
        parsed.global_id,
        order["id"],
        body,
        ref,
        closed_lines=closed,
        effective_date=effective_date,
    )


def probe_close_sales_order(
    ctx: StepContext, connection: str, subscription: JSON, effective_date: str | None = None
) -> JSON | None:
    connector = _connector(ctx, connection)
    parsed, order = _order_to_close(ctx, connector, subscription)
    if order is None:
        return None
    lines = order.get("salesOrderLines") or []
    if any(line.get("shipQuantity") or line.get("invoiceQuantity") for line in lines):
        return None
    body = {"shipQuantity": 0, "invoiceQuantity": 0}
    ref = connector.mapping("outbound").ref
    return _result(
        connection,
        SUBSCRIPTION,
        parsed.global_id,
        order["id"],
        body,
        ref,
        closed_lines=len(lines),
        effective_date=effective_date,
    )


# -- invoice ---------------------------------------------------------------------------------


def _invoice_body(
    ctx: StepContext, connector: BusinessCentralConnector, invoice: JSON
) -> tuple[Invoice, JSON, str]:
    parsed: Invoice = _parse(Invoice, invoice, "invoice")
    if parsed.tax_inclusive:
        raise BusinessRuleError(
            f"invoice {parsed.global_id} has tax-inclusive amounts; mapping business_central_outbound books tax-exclusive lines",
            code="business_central.tax_inclusive",
            remediation="Book this invoice by hand in Business Central, then resolve the exception.",
        )
    customer = _customer(ctx, connector, parsed.account_id)
    lines = _billing_lines(ctx, connector, parsed.lines, f"invoice {parsed.global_id}")
    mapping = connector.mapping("outbound")
    record = {
        "invoice": parsed.model_dump(mode="json"),
        "customer_id": customer["id"],
        "lines": lines,
    }
    return parsed, mapping.apply("invoice", record), mapping.ref


def _invoice_result(connection: str, parsed: Invoice, record: JSON, body: JSON, ref: str) -> JSON:
    return _result(
        connection,
        INVOICE,
        parsed.global_id,
        record["id"],
        body,
        ref,
        number=record.get("number"),
        status=record.get("status"),
        total=parsed.total.model_dump(mode="json"),
        remaining=record.get("remainingAmount"),
    )


def upsert_invoice(ctx: StepContext, connection: str, invoice: JSON) -> JSON:
    """Invoice -> posted sales invoice (external document No. = invoice global id), posted
    only when Business Central's totals equal the canonical ones."""
    connector = _connector(ctx, connection)
    parsed, body, ref = _invoice_body(ctx, connector, invoice)
    client = connector.client
    what = f"invoice {parsed.global_id}"
    existing = _find_document(client, "salesInvoices", parsed.global_id)
    draft = (
        existing
        if existing is not None and existing.get("status") != "Draft"
        else _write_document(client, "salesInvoices", body, existing)
    )
    record = _post_checked(
        ctx, connector, "salesInvoices", draft, parsed.total, parsed.tax_total, what
    )
    _link(ctx, INVOICE, parsed.global_id, connection, record["id"])
    _audit(ctx, connection, "business_central.salesInvoice.post", record["id"], parsed.total, body)
    return _invoice_result(connection, parsed, record, body, ref)


def probe_invoice(ctx: StepContext, connection: str, invoice: JSON) -> JSON | None:
    connector = _connector(ctx, connection)
    parsed, body, ref = _invoice_body(ctx, connector, invoice)
    found = _find_document(connector.client, "salesInvoices", parsed.global_id)
    if (
        found is None
        or found.get("status") == "Draft"
        or not _same(found.get("totalAmountIncludingTax"), parsed.total)
    ):
        return None
    _link(ctx, INVOICE, parsed.global_id, connection, found["id"])
    _audit(ctx, connection, "business_central.salesInvoice.post", found["id"], parsed.total, body)
    return _invoice_result(connection, parsed, found, body, ref)


def void_invoice(ctx: StepContext, result: JSON, connection: str, *args: Any) -> None:
    """Compensation for :func:`upsert_invoice`: cancel the posted invoice
    (``Microsoft.NAV.cancel``: Business Central books a corrective credit memo); refused once
    it is partly paid, and the compensation then fails and is reported."""
    client = _connector(ctx, connection).client
    record = client.get("salesInvoices", str(result["native_id"]))
    if record.get("status") == "Draft":
        client.delete("salesInvoices", record)
    elif record.get("status") != "Canceled":
        client.action("salesInvoices", record["id"], "cancel")


# -- payments --------------------------------------------------------------------------------


def _payment(
    ctx: StepContext, connector: BusinessCentralConnector, document: JSON, payment_id: str | None
) -> tuple[Payment, JSON, str]:
    """The payment (a canonical Payment, or one for a paid invoice's amount) and its body."""
    if "subtotal" in document:
        invoice: Invoice = _parse(Invoice, document, "invoice")
        if not invoice.amount_paid.is_positive:
            raise BusinessRuleError(
                f"invoice {invoice.global_id} has no amount paid",
                code="business_central.invoice_unpaid",
                remediation="apply_payment was given an invoice billing has not marked paid; check the event, then resolve or retry the exception.",
            )
        from syncwright.model import PaymentApplication

        payment = Payment(
            global_id=payment_id or f"{invoice.global_id}.payment",
            account_id=invoice.account_id,
            amount=invoice.amount_paid,
            status=PaymentStatus.SUCCEEDED,
            received_at=invoice.paid_at,
            applied_to=(
                PaymentApplication(invoice_id=invoice.global_id, amount=invoice.amount_paid),
            ),
        )
    else:
        payment = _parse(Payment, document, "payment")
    if payment.status is not PaymentStatus.SUCCEEDED:
        raise BusinessRuleError(
            f"payment {payment.global_id} is {payment.status.value}, not succeeded",
            code="business_central.payment_not_succeeded",
            remediation="Only succeeded payments are booked in Business Central; check the workflow that sent it, then resolve the exception.",
        )
    if len(payment.applied_to) > 1:
        raise BusinessRuleError(
            f"payment {payment.global_id} settles {len(payment.applied_to)} invoices; a Business Central payment line applies to one",
            code="business_central.payment_split",
            remediation="Book this payment by hand in the payment journal, then resolve the exception.",
        )
    customer = _customer(ctx, connector, payment.account_id)
    invoice_id = None
    if payment.applied_to:
        target = payment.applied_to[0].invoice_id
        found = _find_document(connector.client, "salesInvoices", target)
        if found is None or found.get("status") == "Draft":
            raise DependencyMissingError(
                f"invoice {target} is not posted in Business Central ({connector.name})",
                code="business_central.invoice_not_synced",
                remediation=f"Sync invoice {target} first (upsert_invoice); the exception waits for it and retries by itself.",
                waits_for={
                    "entity_type": INVOICE,
                    "global_id": target,
                    "system": connector.name,
                    "record_type": "salesInvoice",
                },
            )
        invoice_id = found["id"]
    mapping = connector.mapping("outbound")
    record = {
        "payment": payment.model_dump(mode="json"),
        "customer_id": customer["id"],
        "journal_id": connector.payment_journal_id(),
        "invoice_id": invoice_id,
    }
    return payment, mapping.apply("customer_payment", record), mapping.ref


def apply_payment(
    ctx: StepContext, connection: str, document: JSON, payment_id: str | None = None
) -> JSON:
    """A succeeded payment -> a customer payment journal line applied to its invoice."""
    connector = _connector(ctx, connection)
    payment, body, ref = _payment(ctx, connector, document, payment_id)
    client = connector.client
    existing = client.find(
        "customerPayments", "externalDocumentNumber", body["externalDocumentNumber"]
    )
    if existing is None:
        record = client.create("customerPayments", body)
    else:
        changed = {k: v for k, v in body.items() if k != "journalId" and existing.get(k) != v}
        record = client.update("customerPayments", existing, changed) if changed else existing
    _link(ctx, PAYMENT, payment.global_id, connection, record["id"])
    _audit(
        ctx,
        connection,
        "business_central.customerPayment.upsert",
        record["id"],
        payment.amount,
        body,
    )
    return _result(
        connection,
        PAYMENT,
        payment.global_id,
        record["id"],
        body,
        ref,
        amount=payment.amount.model_dump(mode="json"),
    )


def probe_apply_payment(
    ctx: StepContext, connection: str, document: JSON, payment_id: str | None = None
) -> JSON | None:
    connector = _connector(ctx, connection)
    payment, body, ref = _payment(ctx, connector, document, payment_id)
    found = connector.client.find(
        "customerPayments", "externalDocumentNumber", body["externalDocumentNumber"]
    )
    if found is None or not _same(found.get("amount"), payment.amount):
        return None
    _link(ctx, PAYMENT, payment.global_id, connection, found["id"])
    _audit(
        ctx,
        connection,
        "business_central.customerPayment.upsert",
        found["id"],
        payment.amount,
        body,
    )
    return _result(
        connection,
        PAYMENT,
        payment.global_id,
        found["id"],
        body,
        ref,
        amount=payment.amount.model_dump(mode="json"),
    )


def void_payment(ctx: StepContext, result: JSON, connection: str, *args: Any) -> None:
    """Compensation for :func:`apply_payment`: delete the (unposted) journal line."""
    client = _connector(ctx, connection).client
    try:
        record = client.get("customerPayments", str(result["native_id"]))
    except BusinessRuleError as exc:
        if exc.code == "business_central.BadRequest_NotFound":
            return  # gone, or posted by finance meanwhile: nothing we may undo
        raise
    client.delete("customerPayments", record)


# -- credit memo -----------------------------------------------------------------------------


def _credit_body(
    ctx: StepContext, connector: BusinessCentralConnector, credit_note: JSON
) -> tuple[CreditNote, JSON, str]:
    parsed: CreditNote = _parse(CreditNote, credit_note, "credit note")
    customer = _customer(ctx, connector, parsed.account_id)
    invoice_id = None
    if parsed.invoice_id is not None:
        found = _find_document(connector.client, "salesInvoices", parsed.invoice_id)
        if found is None or found.get("status") == "Draft":
            raise DependencyMissingError(
                f"invoice {parsed.invoice_id} is not posted in Business Central ({connector.name})",
                code="business_central.invoice_not_synced",
                remediation=f"Sync invoice {parsed.invoice_id} first; the exception waits for it and retries by itself.",
                waits_for={
                    "entity_type": INVOICE,
                    "global_id": parsed.invoice_id,
                    "system": connector.name,
                    "record_type": "salesInvoice",
                },
            )
        invoice_id = found["id"]
    lines = _billing_lines(ctx, connector, parsed.lines, f"credit note {parsed.global_id}")
    mapping = connector.mapping("outbound")
    record = {
        "credit_note": parsed.model_dump(mode="json"),
        "customer_id": customer["id"],
        "invoice_id": invoice_id,
        "lines": lines,
    }
    return parsed, mapping.apply("credit_memo", record), mapping.ref


def upsert_credit_memo(ctx: StepContext, connection: str, credit_note: JSON) -> JSON:
    """CreditNote -> posted sales credit memo applied to its invoice."""
    connector = _connector(ctx, connection)
    parsed, body, ref = _credit_body(ctx, connector, credit_note)
    client = connector.client
    existing = _find_document(client, "salesCreditMemos", parsed.global_id)
    draft = (
        existing
        if existing is not None and existing.get("status") != "Draft"
        else _write_document(client, "salesCreditMemos", body, existing)
    )
    record = _post_checked(
        ctx,
        connector,
        "salesCreditMemos",
        draft,
        parsed.total,
        parsed.tax_total,
        f"credit note {parsed.global_id}",
    )
    _link(ctx, CREDIT_NOTE, parsed.global_id, connection, record["id"])
    _audit(
        ctx, connection, "business_central.salesCreditMemo.post", record["id"], parsed.total, body
    )
    return _result(
        connection,
        CREDIT_NOTE,
        parsed.global_id,
        record["id"],
        body,
        ref,
        number=record.get("number"),
        total=parsed.total.model_dump(mode="json"),
    )


def probe_credit_memo(ctx: StepContext, connection: str, credit_note: JSON) -> JSON | None:
    connector = _connector(ctx, connection)
    parsed, body, ref = _credit_body(ctx, connector, credit_note)
    found = _find_document(connector.client, "salesCreditMemos", parsed.global_id)
    if (
        found is None
        or found.get("status") == "Draft"
        or not _same(found.get("totalAmountIncludingTax"), parsed.total)
    ):
        return None
    _link(ctx, CREDIT_NOTE, parsed.global_id, connection, found["id"])
    _audit(
        ctx, connection, "business_central.salesCreditMemo.post", found["id"], parsed.total, body
    )
    return _result(
        connection,
        CREDIT_NOTE,
        parsed.global_id,
        found["id"],
        body,
        ref,
        number=found.get("number"),
        total=parsed.total.model_dump(mode="json"),
    )


def void_credit_memo(ctx: StepContext, result: JSON, connection: str, *args: Any) -> None:
    """Compensation for :func:`upsert_credit_memo`: cancel the posted credit memo
    (``Microsoft.NAV.cancel``), so its invoice is due again; a draft is deleted."""
    client = _connector(ctx, connection).client
    record = client.get("salesCreditMemos", str(result["native_id"]))
    if record.get("status") == "Draft":
        client.delete("salesCreditMemos", record)
    elif record.get("status") != "Canceled":
        client.action("salesCreditMemos", record["id"], "cancel")
