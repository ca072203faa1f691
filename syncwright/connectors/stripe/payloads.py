"""Pydantic v2 models of the Stripe objects syncwright reads.

Shapes follow Stripe's API reference for the version the ``stripe`` 16.x SDK pins (Basil and
later: subscription periods live on the items, invoice -> subscription is
``invoice.parent.subscription_details.subscription``) and are checked against Stripe's own
``fixtures3.json``. Docs: https://docs.stripe.com/api/customers/object,
https://docs.stripe.com/api/subscriptions/object, https://docs.stripe.com/api/invoices/object,
https://docs.stripe.com/api/credit_notes/object, https://docs.stripe.com/api/events/object.

Models are *tolerant* of fields we do not use (``extra="allow"``: Stripe adds fields without a
version change) and *strict* on those we do (``strict=True``: an amount sent as a string is an
error, not silently coerced). Expandable references are ``str | Model``; :func:`expandable_id`
reads the id either way.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "MODELED_OBJECT_TYPES",
    "Charge",
    "Customer",
    "DeletedObject",
    "Event",
    "Invoice",
    "InvoiceItem",
    "InvoiceLineItem",
    "ListObject",
    "PaymentIntent",
    "Price",
    "Product",
    "Refund",
    "StripeObject",
    "Subscription",
    "SubscriptionItem",
    "UnsupportedStripeObjectError",
    "expandable_id",
    "parse_stripe_object",
]

T = TypeVar("T")


class _Model(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True, frozen=True)


class StripeObject(_Model):
    """Fields every top-level Stripe API resource carries."""

    id: str
    object: str
    livemode: bool = False


class ListObject(_Model, Generic[T]):
    object: Literal["list"] = "list"
    data: list[T]
    has_more: bool
    url: str | None = None


class Address(_Model):
    city: str | None = None
    country: str | None = None
    line1: str | None = None
    line2: str | None = None
    postal_code: str | None = None
    state: str | None = None


class CustomerInvoiceSettings(_Model):
    default_payment_method: str | dict[str, Any] | None = None


class Customer(StripeObject):
    object: Literal["customer"]
    created: int
    email: str | None = None
    name: str | None = None
    phone: str | None = None
    description: str | None = None
    currency: str | None = None
    balance: int = 0
    delinquent: bool | None = None
    address: Address | None = None
    invoice_settings: CustomerInvoiceSettings | None = None
    test_clock: str | dict[str, Any] | None = None
    metadata: dict[str, str] = Field(default_factory=dict)


class Product(StripeObject):
    object: Literal["product"]
    created: int
    name: str
    active: bool
    description: str | None = None
    default_price: str | Price | None = None
    updated: int | None = None
    metadata: dict[str, str] = Field(default_factory=dict)


class Recurring(_Model):
    interval: Literal["day", "week", "month", "year"]
    interval_count: int
    usage_type: Literal["licensed", "metered"] = "licensed"


class Price(StripeObject):
    object: Literal["price"]
    created: int
    active: bool
    currency: str
    product: str | Product
    type: Literal["one_time", "recurring"]
    unit_amount: int | None = None
    unit_amount_decimal: str | None = None
    recurring: Recurring | None = None
    nickname: str | None = None
    lookup_key: str | None = None
    billing_scheme: Literal["per_unit", "tiered"] = "per_unit"
    tax_behavior: str | None = None
    metadata: dict[str, str] = Field(default_factory=dict)


class SubscriptionItem(StripeObject):
    object: Literal["subscription_item"]
    created: int
    price: Price
    quantity: int | None = None
    subscription: str
    current_period_start: int
    current_period_end: int
    metadata: dict[str, str] = Field(default_factory=dict)


SubscriptionStatus = Literal[
    "incomplete",
    "incomplete_expired",
    "trialing",
    "active",
    "past_due",
    "canceled",
    "unpaid",
    "paused",
]


class CancellationDetails(_Model):
    comment: str | None = None
    feedback: str | None = None
    reason: str | None = None


class Subscription(StripeObject):
    object: Literal["subscription"]
    created: int
    customer: str | Customer
    status: SubscriptionStatus
    items: ListObject[SubscriptionItem]
    currency: str
    collection_method: Literal["charge_automatically", "send_invoice"]
    cancel_at_period_end: bool
    start_date: int
    billing_cycle_anchor: int
    latest_invoice: str | Invoice | None = None
    cancel_at: int | None = None
    canceled_at: int | None = None
    ended_at: int | None = None
    trial_start: int | None = None
    trial_end: int | None = None
    days_until_due: int | None = None
    default_payment_method: str | dict[str, Any] | None = None
    description: str | None = None
    cancellation_details: CancellationDetails | None = None
    test_clock: str | dict[str, Any] | None = None
    metadata: dict[str, str] = Field(default_factory=dict)


class Period(_Model):
    start: int
    end: int


class SubscriptionItemDetails(_Model):
    subscription: str | None = None
    subscription_item: str | None = None
    invoice_item: str | None = None
    proration: bool = False


class InvoiceItemDetails(_Model):
    invoice_item: str
    subscription: str | None = None
    proration: bool = False


class LineParent(_Model):
    type: Literal["invoice_item_details", "subscription_item_details"]
    invoice_item_details: InvoiceItemDetails | None = None
    subscription_item_details: SubscriptionItemDetails | None = None


class PriceDetails(_Model):
    price: str | Price
    product: str | Product


class Pricing(_Model):
    type: Literal["price_details"]
    price_details: PriceDetails | None = None
    unit_amount_decimal: str | None = None


class InvoiceLineItem(StripeObject):
    object: Literal["line_item"]
    amount: int
    currency: str
    description: str | None = None
    quantity: int | None = None
    period: Period
    invoice: str | None = None
    subscription: str | dict[str, Any] | None = None
    parent: LineParent | None = None
    pricing: Pricing | None = None
    metadata: dict[str, str] = Field(default_factory=dict)

    @property
    def proration(self) -> bool:
        parent = self.parent
        if parent is None:
            return False
        details = parent.subscription_item_details or parent.invoice_item_details
        return bool(details and details.proration)


class SubscriptionDetails(_Model):
    subscription: str | Subscription
    metadata: dict[str, str] | None = None


class InvoiceParent(_Model):
    type: Literal["quote_details", "subscription_details"]
    subscription_details: SubscriptionDetails | None = None


class StatusTransitions(_Model):
    finalized_at: int | None = None
    marked_uncollectible_at: int | None = None
    paid_at: int | None = None
    voided_at: int | None = None


InvoiceStatus = Literal["draft", "open", "paid", "uncollectible", "void"]


class Invoice(StripeObject):
    object: Literal["invoice"]
    created: int
    customer: str | Customer
    status: InvoiceStatus | None
    currency: str
    amount_due: int
    amount_paid: int
    amount_remaining: int
    subtotal: int
    total: int
    attempt_count: int
    attempted: bool
    collection_method: Literal["charge_automatically", "send_invoice"]
    lines: ListObject[InvoiceLineItem]
    status_transitions: StatusTransitions
    period_start: int
    period_end: int
    number: str | None = None
    billing_reason: str | None = None
    due_date: int | None = None
    next_payment_attempt: int | None = None
    starting_balance: int = 0
    ending_balance: int | None = None
    pre_payment_credit_notes_amount: int = 0
    post_payment_credit_notes_amount: int = 0
    hosted_invoice_url: str | None = None
    parent: InvoiceParent | None = None
    test_clock: str | dict[str, Any] | None = None
    metadata: dict[str, str] | None = None

    @property
    def subscription_id(self) -> str | None:
        """The subscription that generated this invoice, wherever the API version put it."""
        if self.parent is not None and self.parent.subscription_details is not None:
            return expandable_id(self.parent.subscription_details.subscription)
        legacy = (self.model_extra or {}).get("subscription")
        return expandable_id(legacy)


class InvoiceItemParent(_Model):
    type: str
    subscription_details: dict[str, Any] | None = None


class InvoiceItem(StripeObject):
    object: Literal["invoiceitem"]
    amount: int
    currency: str
    customer: str | Customer
    date: int
    description: str | None = None
    invoice: str | Invoice | None = None
    proration: bool = False
    quantity: int | None = None
    period: Period
    parent: InvoiceItemParent | None = None
    pricing: Pricing | None = None
    metadata: dict[str, str] | None = None


class PaymentError(_Model):
    type: str
    code: str | None = None
    decline_code: str | None = None
    message: str | None = None


PaymentIntentStatus = Literal[
    "requires_payment_method",
    "requires_confirmation",
    "requires_action",
    "processing",
    "requires_capture",
    "canceled",
    "succeeded",
]


class PaymentIntent(StripeObject):
    object: Literal["payment_intent"]
    created: int
    amount: int
    amount_received: int = 0
    currency: str
    status: PaymentIntentStatus
    customer: str | Customer | None = None
    payment_method: str | dict[str, Any] | None = None
    description: str | None = None
    last_payment_error: PaymentError | None = None
    latest_charge: str | dict[str, Any] | None = None
    canceled_at: int | None = None
    metadata: dict[str, str] = Field(default_factory=dict)


class CreditNoteLineItem(StripeObject):
    object: Literal["credit_note_line_item"]
    amount: int
    type: Literal["invoice_line_item", "custom_line_item"]
    description: str | None = None
    quantity: int | None = None
    invoice_line_item: str | None = None
    unit_amount: int | None = None


class CreditNoteRefund(_Model):
    """A refund a post-payment credit note was issued with (``refund_amount``)."""

    amount_refunded: int
    refund: str | dict[str, Any] | None = None


class CreditNote(StripeObject):
    object: Literal["credit_note"]
    created: int
    amount: int
    currency: str
    customer: str | Customer
    invoice: str | Invoice
    status: Literal["issued", "void"]
    type: Literal["pre_payment", "post_payment", "mixed"]
    number: str
    lines: ListObject[CreditNoteLineItem]
    subtotal: int
    total: int
    reason: str | None = None
    memo: str | None = None
    out_of_band_amount: int | None = None
    voided_at: int | None = None
    effective_at: int | None = None
    metadata: dict[str, str] = Field(default_factory=dict)
    refunds: list[CreditNoteRefund] = Field(default_factory=list)


class Refund(StripeObject):
    """https://docs.stripe.com/api/refunds/object"""

    object: Literal["refund"]
    amount: int
    currency: str
    created: int
    status: str | None = None
    charge: str | dict[str, Any] | None = None
    payment_intent: str | dict[str, Any] | None = None
    reason: str | None = None
    metadata: dict[str, str] = Field(default_factory=dict)


class Charge(StripeObject):
    """https://docs.stripe.com/api/charges/object. ``invoice`` left the charge in Basil
    (2025-03-31); the connector's content enricher fills it in from ``/v1/invoice_payments``
    so older and newer payloads read alike, and ``refunds`` (expandable since 2022-11-15) from
    ``/v1/refunds``."""

    object: Literal["charge"]
    amount: int
    amount_refunded: int
    currency: str
    created: int
    refunded: bool
    customer: str | Customer | None = None
    payment_intent: str | dict[str, Any] | None = None
    refunds: ListObject[Refund] | None = None
    invoice: str | None = None


class EventData(_Model):
    object: dict[str, Any]
    previous_attributes: dict[str, Any] | None = None


class EventRequest(_Model):
    id: str | None = None
    idempotency_key: str | None = None


class Event(StripeObject):
    object: Literal["event"]
    created: int
    type: str
    data: EventData
    api_version: str | None = None
    pending_webhooks: int = 0
    request: EventRequest | None = None

    def parsed_object(self) -> StripeObject:
        """``data.object`` as a model (raises :class:`UnsupportedStripeObjectError` if unknown)."""
        return parse_stripe_object(self.data.object)


class DeletedObject(StripeObject):
    """What Stripe answers for a deleted resource (``{"id", "object", "deleted": true}``)."""

    deleted: Literal[True]


class UnsupportedStripeObjectError(ValueError):
    """``object`` names a Stripe type syncwright does not model."""


_MODELS: dict[str, type[StripeObject]] = {
    "customer": Customer,
    "product": Product,
    "price": Price,
    "subscription": Subscription,
    "subscription_item": SubscriptionItem,
    "invoice": Invoice,
    "line_item": InvoiceLineItem,
    "invoiceitem": InvoiceItem,
    "payment_intent": PaymentIntent,
    "credit_note": CreditNote,
    "credit_note_line_item": CreditNoteLineItem,
    "charge": Charge,
    "refund": Refund,
    "event": Event,
}

MODELED_OBJECT_TYPES: frozenset[str] = frozenset(_MODELS)


def parse_stripe_object(data: Mapping[str, Any]) -> StripeObject:
    """Validate a Stripe JSON object into its model, dispatching on ``object`` (and ``deleted``).

    Raises :class:`pydantic.ValidationError` when a field we use has the wrong shape, and
    :class:`UnsupportedStripeObjectError` for an ``object`` type we do not model.
    """
    kind = data.get("object")
    if data.get("deleted") is True and kind in _MODELS:
        return DeletedObject.model_validate(dict(data))
    model = _MODELS.get(str(kind))
    if model is None:
        raise UnsupportedStripeObjectError(f"unsupported Stripe object type: {kind!r}")
    return model.model_validate(dict(data))


def expandable_id(value: object) -> str | None:
    """The id of an expandable field, whether it holds an id, a dict or a model."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, StripeObject):
        return value.id
    if isinstance(value, Mapping):
        found = value.get("id")
        return found if isinstance(found, str) else None
    return None


for _model in (Product, Subscription, InvoiceLineItem, Invoice, InvoiceItem, CreditNote, Event):
    _model.model_rebuild()
