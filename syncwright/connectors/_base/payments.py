"""What every ERP's ``apply_payment`` is handed, as one canonical payment.

The billing workflow sends either a canonical :class:`~syncwright.model.Payment` or the paid
:class:`~syncwright.model.Invoice` itself (``invoice.paid``: billing systems settle an invoice
with one charge). A paid invoice becomes the one payment that settles it, named ``payment_id``
(the billing system's payment) or ``<invoice id>.payment``. Only succeeded payments are booked:
failed collections go to ``mark_dunning``.
"""

from __future__ import annotations

from typing import Any

from syncwright.connectors._base.steps import parse_canonical
from syncwright.errors import BusinessRuleError
from syncwright.model import Invoice, Payment, PaymentApplication, PaymentStatus

__all__ = ["invoice_payment_id", "payment_to_book"]


def invoice_payment_id(invoice_global_id: str) -> str:
    """The id of the one payment that settles a paid invoice (no canonical payment)."""
    return f"{invoice_global_id}.payment"


def payment_to_book(
    document: dict[str, Any], payment_id: str | None, *, vendor: str, label: str
) -> Payment:
    """The succeeded payment ``document`` stands for (a Payment, or a paid Invoice)."""
    if "subtotal" in document:  # a paid invoice, settled by one payment we name after it
        invoice = parse_canonical(Invoice, document, "invoice", vendor=vendor, label=label)
        if not invoice.amount_paid.is_positive:
            raise BusinessRuleError(
                f"invoice {invoice.global_id} has no amount paid",
                code=f"{vendor}.invoice_unpaid",
                remediation=(
                    "apply_payment was given an invoice that billing has not marked paid; "
                    "check the event, then resolve or retry the exception."
                ),
            )
        payment = Payment(
            global_id=payment_id or invoice_payment_id(invoice.global_id),
            account_id=invoice.account_id,
            amount=invoice.amount_paid,
            status=PaymentStatus.SUCCEEDED,
            received_at=invoice.paid_at,
            applied_to=(
                PaymentApplication(invoice_id=invoice.global_id, amount=invoice.amount_paid),
            ),
        )
    else:
        payment = parse_canonical(Payment, document, "payment", vendor=vendor, label=label)
    if payment.status is not PaymentStatus.SUCCEEDED:
        raise BusinessRuleError(
            f"payment {payment.global_id} is {payment.status.value}, not succeeded",
            code=f"{vendor}.payment_not_succeeded",
            remediation=(
                f"Only succeeded payments are booked in {label} (failed ones go to "
                "mark_dunning); check the workflow that sent it, then resolve the exception."
            ),
        )
    return payment
