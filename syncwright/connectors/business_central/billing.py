"""Billing documents on Business Central as engine steps: posted sales invoices and credit
memos (idempotent by external document number; posted only when Business Central's totals
equal the canonical ones) and payments as customer payment journal lines. The rules are
``outbound.py``'s (its docstring); the shared plumbing is ``_steps.py``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from syncwright.connectors.business_central._steps import (
    CREDIT_NOTE,
    INVOICE,
    JSON,
    PAYMENT,
    _audit,
    _billing_lines,
    _connector,
    _customer,
    _find_document,
    _link,
    _parse,
    _post_checked,
    _result,
    _same,
    _write_document,
)
from syncwright.engine import StepContext
from syncwright.errors import BusinessRuleError, DependencyMissingError
from syncwright.model import CreditNote, Invoice, Payment, PaymentApplication, PaymentStatus

if TYPE_CHECKING:
    from syncwright.connectors.business_central.connector import BusinessCentralConnector

__all__ = [
    "apply_payment",
    "probe_apply_payment",
    "probe_credit_memo",
    "probe_invoice",
    "upsert_credit_memo",
    "upsert_invoice",
    "void_credit_memo",
    "void_invoice",
    "void_payment",
]


# -- invoice ---------------------------------------------------------------------------------


def _invoice_body(
    ctx: StepContext, connector: BusinessCentralConnector, invoice: JSON
) -> tuple[Invoice, JSON, str]:
    parsed: Invoice = _parse(Invoice, invoice, "invoice")
    if parsed.tax_inclusive:
        raise BusinessRuleError(
            f"invoice {parsed.global_id} has tax-inclusive amounts; mapping "
            "business_central_outbound books tax-exclusive lines",
            code="business_central.tax_inclusive",
            remediation=(
                "Book this invoice by hand in Business Central, then resolve the exception."
            ),
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
                remediation=(
                    "apply_payment was given an invoice billing has not marked paid; check the "
                    "event, then resolve or retry the exception."
                ),
            )
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
            remediation=(
                "Only succeeded payments are booked in Business Central; check the workflow "
                "that sent it, then resolve the exception."
            ),
        )
    if len(payment.applied_to) > 1:
        raise BusinessRuleError(
            f"payment {payment.global_id} settles {len(payment.applied_to)} invoices; a "
            "Business Central payment line applies to one",
            code="business_central.payment_split",
            remediation=(
                "Book this payment by hand in the payment journal, then resolve the exception."
            ),
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
                remediation=(
                    f"Sync invoice {target} first (upsert_invoice); the exception waits for "
                    "it and retries by itself."
                ),
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
                remediation=(
                    f"Sync invoice {parsed.invoice_id} first; the exception waits for it and "
                    "retries by itself."
                ),
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
