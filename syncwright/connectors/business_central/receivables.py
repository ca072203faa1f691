"""Receivables on Business Central as engine steps: payments and dunning.

**Payments** (``apply_payment``) are written as Business Central takes them: a line in a
customer payment journal (``customerPayments``, ``journalId`` = ``options.payment_journal``)
applied to its posted invoice (``appliesToInvoiceId``), idempotent by its
``externalDocumentNumber``. With ``options.post_payments`` (the default) the journal is then
posted (``customerPaymentJournals({id})/Microsoft.NAV.post``): the invoice's remaining amount
drops and the line leaves the journal. Posting posts *every* line of that journal, so give
syncwright a journal of its own; with ``post_payments: false`` the lines wait there for
finance to review and post. The payment is linked to its line before posting, so a retry after
a lost answer finds a linked payment whose line has left the journal: posted, not written
twice.

**Dunning** (``mark_dunning``): Business Central's API has no reminder or collection status
on an invoice; what finance does with a customer who does not pay is block it (the customer's
``blocked``: ``Ship`` stops deliveries, ``Invoice`` also invoicing, ``All`` everything). A
failed collection sets ``blocked`` to ``options.dunning_block`` (default ``Ship``: syncwright's
own invoices still post) on a customer that is not blocked; a customer already blocked is left
as finance set it. When a posted payment leaves the customer owing nothing (``balanceDue`` 0),
the block is lifted, but only a block syncwright set (its last write of the customer's credit
status was ``hold``): a block finance set stays. Both writes are remembered as the account's
``credit_status`` (``hold`` / ``good``), so the customers poll does not send them back to the
CRM as an ERP change.

Microsoft: resource pages customerPayment, customerPaymentJournal, customer (API v2.0).
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from syncwright.connectors._base.payments import payment_to_book
from syncwright.connectors.business_central._steps import (
    ACCOUNT,
    JSON,
    LABEL,
    PAYMENT,
    VENDOR,
    _audit,
    _connector,
    _customer,
    _link,
    _parse,
    _result,
    _same,
)
from syncwright.connectors.business_central.billing import posted_invoice
from syncwright.engine import StepContext
from syncwright.errors import BusinessRuleError
from syncwright.model import Invoice, Payment
from syncwright.policy.entities import value_digest
from syncwright.policy.store import PolicyStore

if TYPE_CHECKING:
    from syncwright.connectors.business_central.connector import BusinessCentralConnector

__all__ = [
    "apply_payment",
    "mark_dunning",
    "probe_apply_payment",
    "probe_mark_dunning",
    "void_payment",
]

_NOT_BLOCKED = " "
_PAYMENTS = "customerPayments"
_NOT_FOUND = "business_central.BadRequest_NotFound"


# -- payments --------------------------------------------------------------------------------


def _payment(
    ctx: StepContext, connector: BusinessCentralConnector, document: JSON, payment_id: str | None
) -> tuple[Payment, JSON, str, JSON]:
    """The payment (a canonical Payment, or one for a paid invoice's amount), its journal line
    body, the mapping's ref and the customer."""
    payment = payment_to_book(document, payment_id, vendor=VENDOR, label=LABEL)
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
        invoice_id = posted_invoice(connector, payment.applied_to[0].invoice_id)
    mapping = connector.mapping("outbound")
    record = {
        "payment": payment.model_dump(mode="json"),
        "customer_id": customer["id"],
        "journal_id": connector.payment_journal_id(),
        "invoice_id": invoice_id,
    }
    return payment, mapping.apply("customer_payment", record), mapping.ref, customer


def _payment_booked(
    ctx: StepContext,
    connection: str,
    payment: Payment,
    native_id: str,
    body: JSON,
    ref: str,
    *,
    posted: bool,
) -> JSON:
    _audit(
        ctx, connection, "business_central.customerPayment.upsert", native_id, payment.amount, body
    )
    amount = payment.amount.model_dump(mode="json")
    return _result(
        connection, PAYMENT, payment.global_id, native_id, body, ref, amount=amount, posted=posted
    )


def _posted_before(ctx: StepContext, connection: str, payment: Payment) -> str | None:
    """The line a payment was linked to when no line of it is in the journal any more: the
    journal was posted (by us before a lost answer, or by finance)."""
    native_id = ctx.services.xref.native_id_for(PAYMENT, payment.global_id, connection)
    return None if native_id is None else str(native_id)


def apply_payment(
    ctx: StepContext, connection: str, document: JSON, payment_id: str | None = None
) -> JSON:
    """A succeeded payment -> a customer payment journal line applied to its invoice, posted
    when ``options.post_payments``; a customer whose dunning block syncwright set and who now
    owes nothing is unblocked."""
    connector = _connector(ctx, connection)
    payment, body, ref, customer = _payment(ctx, connector, document, payment_id)
    client = connector.client
    existing = client.find(_PAYMENTS, "externalDocumentNumber", body["externalDocumentNumber"])
    if existing is None:
        posted = _posted_before(ctx, connection, payment)
        if posted is not None:  # posted before an answer was lost: what followed, again
            _lift_dunning_block(ctx, connector, payment.account_id, customer["id"])
            return _payment_booked(ctx, connection, payment, posted, body, ref, posted=True)
        record = client.create(_PAYMENTS, body)
    else:
        changed = {k: v for k, v in body.items() if k != "journalId" and existing.get(k) != v}
        record = client.update(_PAYMENTS, existing, changed) if changed else existing
    # Linked before posting: a retry after a lost answer must not write the line again.
    _link(ctx, PAYMENT, payment.global_id, connection, record["id"])
    post = connector.options.post_payments
    if post:
        client.action("customerPaymentJournals", body["journalId"], "post")
        _lift_dunning_block(ctx, connector, payment.account_id, customer["id"])
    return _payment_booked(ctx, connection, payment, record["id"], body, ref, posted=post)


def probe_apply_payment(
    ctx: StepContext, connection: str, document: JSON, payment_id: str | None = None
) -> JSON | None:
    connector = _connector(ctx, connection)
    payment, body, ref, _ = _payment(ctx, connector, document, payment_id)
    number = body["externalDocumentNumber"]
    found = connector.client.find(_PAYMENTS, "externalDocumentNumber", number)
    if found is None:
        posted = _posted_before(ctx, connection, payment)
        if posted is None:
            return None
        return _payment_booked(ctx, connection, payment, posted, body, ref, posted=True)
    if not _same(found.get("amount"), payment.amount):
        return None
    # The line is there, not posted yet: the step runs again to post it.
    if connector.options.post_payments:
        return None
    _link(ctx, PAYMENT, payment.global_id, connection, found["id"])
    return _payment_booked(ctx, connection, payment, found["id"], body, ref, posted=False)


def void_payment(ctx: StepContext, result: JSON, connection: str, *args: Any) -> None:
    """Compensation for :func:`apply_payment`: delete the journal line if it is not posted (a
    posted payment is finance's to reverse)."""
    client = _connector(ctx, connection).client
    try:
        record = client.get(_PAYMENTS, str(result["native_id"]))
    except BusinessRuleError as exc:
        if exc.code == _NOT_FOUND:
            return  # posted, or deleted meanwhile: nothing we may undo
        raise
    client.delete(_PAYMENTS, record)


# -- dunning ---------------------------------------------------------------------------------


def _ours(ctx: StepContext, connection: str, account_id: str, status: str) -> bool:
    """Whether syncwright's last write of the account's credit status here was ``status``."""
    with ctx.services.db.engine.connect() as conn:
        written = PolicyStore.written(conn, connection, ACCOUNT, account_id)
    return written.get("credit_status") == value_digest(status)


def _dunning_result(
    connector: BusinessCentralConnector,
    account_id: str,
    customer: JSON,
    body: JSON,
    *,
    status: str,
    **extra: Any,
) -> JSON:
    return _result(
        connector.name,
        ACCOUNT,
        account_id,
        str(customer["id"]),
        body,
        connector.mapping("outbound").ref,
        fields={"credit_status": status} if body else None,
        blocked=customer.get("blocked"),
        **extra,
    )


def mark_dunning(
    ctx: StepContext, connection: str, invoice: JSON, attempt_count: int, reason: str | None = None
) -> JSON:
    """A failed collection attempt: block the invoice's customer with ``options.dunning_block``
    unless it is blocked already (see the module docstring)."""
    connector = _connector(ctx, connection)
    parsed: Invoice = _parse(Invoice, invoice, "invoice")
    customer = _customer(ctx, connector, parsed.account_id)
    body: JSON = {}
    if str(customer.get("blocked") or _NOT_BLOCKED).strip() == "":
        body = {"blocked": connector.options.dunning_block}
        customer = connector.client.update("customers", customer, body)
    return _dunning_result(
        connector, parsed.account_id, customer, body, status="hold", attempt_count=attempt_count
    )


def probe_mark_dunning(
    ctx: StepContext, connection: str, invoice: JSON, attempt_count: int, reason: str | None = None
) -> JSON | None:
    connector = _connector(ctx, connection)
    parsed: Invoice = _parse(Invoice, invoice, "invoice")
    customer = _customer(ctx, connector, parsed.account_id)
    if customer.get("blocked") != connector.options.dunning_block:
        return None
    body = {"blocked": connector.options.dunning_block}
    return _dunning_result(
        connector, parsed.account_id, customer, body, status="hold", attempt_count=attempt_count
    )


def _lift_dunning_block(
    ctx: StepContext, connector: BusinessCentralConnector, account_id: str, customer_id: str
) -> None:
    """After a posted payment: unblock a customer syncwright blocked for dunning once it owes
    nothing; remembered as the account's credit status ``good``."""
    customer = connector.client.get("customers", customer_id)
    if customer.get("blocked") != connector.options.dunning_block:
        return
    if Decimal(str(customer.get("balanceDue") or 0)) > 0:
        return  # still owes: the block stays until the rest is paid
    if not _ours(ctx, connector.name, account_id, "hold"):
        return  # finance blocked it: not ours to lift
    connector.client.update("customers", customer, {"blocked": _NOT_BLOCKED})
    ctx.services.policy_store.remember_writes(
        connector.name, ACCOUNT, account_id, {"credit_status": value_digest("good")}
    )
