"""Billing documents: invoices, payments and credit notes.

These are the financially relevant records: every total is ``Money`` in the document's currency,
and the totals must add up from the lines, so that a mapping bug is caught at normalisation
instead of surfacing weeks later as a reconciliation drift between billing and the ERP.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated, Self

from pydantic import Field, model_validator

from syncwright.model._base import CanonicalModel, Entity, GlobalId, NonEmptyStr, Timestamp
from syncwright.model.money import CurrencyCode, Money, require_currency

__all__ = [
    "BillingLine",
    "CreditNote",
    "CreditNoteReason",
    "CreditNoteStatus",
    "Invoice",
    "InvoiceStatus",
    "Payment",
    "PaymentApplication",
    "PaymentMethod",
    "PaymentStatus",
]


class BillingLine(Entity):
    """A line of an invoice or credit note.

    ``amount`` is stored, not derived from ``unit_amount * quantity``: proration, tiered and
    usage lines have amounts no single unit price explains, and the billing system's figure is
    the one that was sent to the customer.
    """

    description: NonEmptyStr
    product_id: GlobalId | None = None
    price_id: GlobalId | None = None
    subscription_item_id: GlobalId | None = None
    quantity: Annotated[int, Field(ge=0)] = 1
    unit_amount: Money | None = None
    amount: Money
    period_start: date | None = None
    period_end: date | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        require_currency(self.amount.currency, [("unit_amount", self.unit_amount)])
        if self.period_start and self.period_end and self.period_end < self.period_start:
            raise ValueError(f"period_end {self.period_end} is before period_start")
        return self


def _check_totals(
    *,
    currency: str,
    lines: tuple[BillingLine, ...],
    subtotal: Money,
    discount_total: Money,
    tax_total: Money,
    total: Money,
    tax_inclusive: bool,
) -> None:
    require_currency(
        currency,
        [
            ("subtotal", subtotal),
            ("discount_total", discount_total),
            ("tax_total", tax_total),
            ("total", total),
            *((f"lines[{i}].amount", line.amount) for i, line in enumerate(lines)),
        ],
    )
    lines_sum = Money.total((line.amount for line in lines), currency)
    if subtotal != lines_sum:
        raise ValueError(f"subtotal {subtotal} does not equal the sum of line amounts {lines_sum}")
    # Inclusive tax is already inside the line amounts (EU B2C style); exclusive tax is added.
    expected = subtotal - discount_total + (Money.zero(currency) if tax_inclusive else tax_total)
    if total != expected:
        how = "subtotal - discount_total" + ("" if tax_inclusive else " + tax_total")
        raise ValueError(f"total {total} does not equal {how} = {expected}")
    ids = [line.global_id for line in lines]
    if len(set(ids)) != len(ids):
        raise ValueError("line global_ids must be unique within a document")


class InvoiceStatus(StrEnum):
    DRAFT = "draft"
    OPEN = "open"
    PAID = "paid"
    VOID = "void"
    UNCOLLECTIBLE = "uncollectible"


class Invoice(Entity):
    account_id: GlobalId
    subscription_id: GlobalId | None = None
    order_id: GlobalId | None = None
    # Assigned at finalisation; drafts usually have none.
    number: str | None = None
    status: InvoiceStatus
    currency: CurrencyCode
    lines: tuple[BillingLine, ...] = ()
    subtotal: Money
    discount_total: Money
    tax_total: Money
    total: Money
    tax_inclusive: bool = False
    amount_paid: Money
    issue_date: date | None = None
    due_date: date | None = None
    paid_at: Timestamp | None = None

    @property
    def amount_remaining(self) -> Money:
        return self.total - self.amount_paid

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        _check_totals(
            currency=self.currency,
            lines=self.lines,
            subtotal=self.subtotal,
            discount_total=self.discount_total,
            tax_total=self.tax_total,
            total=self.total,
            tax_inclusive=self.tax_inclusive,
        )
        require_currency(self.currency, [("amount_paid", self.amount_paid)])
        if self.amount_paid.is_negative:
            raise ValueError(f"amount_paid must not be negative, got {self.amount_paid}")
        if self.status is not InvoiceStatus.DRAFT and self.issue_date is None:
            # An ERP cannot post an invoice without a date; catch it before the ERP does.
            raise ValueError(f"an invoice in status {self.status.value} needs issue_date")
        if self.issue_date and self.due_date and self.due_date < self.issue_date:
            raise ValueError(f"due_date {self.due_date} is before issue_date {self.issue_date}")
        return self


class PaymentStatus(StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    REFUNDED = "refunded"


class PaymentMethod(StrEnum):
    CARD = "card"
    BANK_TRANSFER = "bank_transfer"
    DIRECT_DEBIT = "direct_debit"
    CHECK = "check"
    WALLET = "wallet"
    OTHER = "other"


class PaymentApplication(CanonicalModel):
    """The part of a payment applied to one invoice (one payment can settle several)."""

    invoice_id: GlobalId
    amount: Money


class Payment(Entity):
    account_id: GlobalId
    amount: Money
    status: PaymentStatus
    method: PaymentMethod = PaymentMethod.OTHER
    received_at: Timestamp | None = None
    # The processor's or bank's reference, shown to finance for matching statements.
    reference: str | None = None
    applied_to: tuple[PaymentApplication, ...] = ()
    failure_reason: str | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if not self.amount.is_positive:
            raise ValueError(f"a payment amount must be positive, got {self.amount}")
        currency = self.amount.currency
        require_currency(
            currency, ((f"applied_to[{i}].amount", a.amount) for i, a in enumerate(self.applied_to))
        )
        applied = Money.total((a.amount for a in self.applied_to), currency)
        if applied > self.amount:
            raise ValueError(f"applied amounts {applied} exceed the payment amount {self.amount}")
        return self


class Refund(Entity):
    """Money given back to the customer from a payment (all of it or part).

    ``invoice_id`` is the invoice whose payment is refunded, when the billing system says;
    ``credit_note_id`` the credit note the refund was issued with (its credit memo already
    carries the credit, so the ERP books only the cash going back). Without one, the refund is
    the whole story: the ERP books the credit and the cash refund.
    """

    account_id: GlobalId
    amount: Money
    invoice_id: GlobalId | None = None
    credit_note_id: GlobalId | None = None
    reason: str | None = None
    refunded_at: Timestamp | None = None
    # The processor's reference (Stripe's refund id), shown to finance for matching statements.
    reference: str | None = None

    @model_validator(mode="after")
    def _positive(self) -> Self:
        if not self.amount.is_positive:
            raise ValueError(f"a refund amount must be positive, got {self.amount}")
        return self


class CreditNoteStatus(StrEnum):
    ISSUED = "issued"
    VOID = "void"


class CreditNoteReason(StrEnum):
    DUPLICATE = "duplicate"
    FRAUDULENT = "fraudulent"
    ORDER_CHANGE = "order_change"
    PRODUCT_UNSATISFACTORY = "product_unsatisfactory"
    GOODWILL = "goodwill"
    OTHER = "other"


class CreditNote(Entity):
    """A reduction of what an account owes, usually against one invoice.

    Amounts are positive: the document type says it is a credit, and a sign flip in a mapping
    is exactly the kind of error the positivity rule is there to catch.
    """

    account_id: GlobalId
    invoice_id: GlobalId | None = None
    number: str | None = None
    status: CreditNoteStatus = CreditNoteStatus.ISSUED
    reason: CreditNoteReason = CreditNoteReason.OTHER
    currency: CurrencyCode
    lines: tuple[BillingLine, ...] = ()
    subtotal: Money
    discount_total: Money
    tax_total: Money
    total: Money
    tax_inclusive: bool = False
    issue_date: date

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        _check_totals(
            currency=self.currency,
            lines=self.lines,
            subtotal=self.subtotal,
            discount_total=self.discount_total,
            tax_total=self.tax_total,
            total=self.total,
            tax_inclusive=self.tax_inclusive,
        )
        if not self.total.is_positive:
            raise ValueError(f"a credit note total must be positive, got {self.total}")
        return self
