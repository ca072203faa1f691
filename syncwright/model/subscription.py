"""Subscriptions: recurring revenue, the centre of most syncwright workflows."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated, Self

from pydantic import Field, model_validator

from syncwright.model._base import CanonicalModel, Entity, GlobalId, Timestamp
from syncwright.model.catalog import BillingFrequency
from syncwright.model.money import CurrencyCode, Money, require_currency

__all__ = [
    "BillingTiming",
    "InvoiceSchedule",
    "Subscription",
    "SubscriptionItem",
    "SubscriptionStatus",
]


class SubscriptionStatus(StrEnum):
    # Created but not yet started (future start date, first payment outstanding).
    PENDING = "pending"
    TRIALING = "trialing"
    ACTIVE = "active"
    PAST_DUE = "past_due"
    PAUSED = "paused"
    CANCELLED = "cancelled"
    # The term ended without renewal; different from CANCELLED for revenue reporting.
    EXPIRED = "expired"


class BillingTiming(StrEnum):
    IN_ADVANCE = "in_advance"
    IN_ARREARS = "in_arrears"


class InvoiceSchedule(CanonicalModel):
    """When invoices for a subscription are raised, so the ERP and billing agree on dates."""

    frequency: BillingFrequency
    timing: BillingTiming = BillingTiming.IN_ADVANCE
    anchor_date: date
    next_invoice_date: date | None = None
    # Payment terms ("net 30"): due date = invoice date + net_days.
    net_days: Annotated[int, Field(ge=0)] = 0


class SubscriptionItem(Entity):
    price_id: GlobalId
    product_id: GlobalId | None = None
    quantity: Annotated[int, Field(ge=0)]
    # The unit amount actually charged, which may be a negotiated deviation from the price.
    unit_amount: Money

    @property
    def amount(self) -> Money:
        return self.unit_amount * self.quantity


class Subscription(Entity):
    account_id: GlobalId
    # The plan is a product in the catalog (its global id).
    plan_id: GlobalId
    status: SubscriptionStatus
    currency: CurrencyCode
    term_start: date
    # None for an evergreen subscription that renews until cancelled.
    term_end: date | None = None
    term_length_months: Annotated[int, Field(ge=1)] | None = None
    billing_frequency: BillingFrequency
    items: tuple[SubscriptionItem, ...] = Field(min_length=1)
    trial_end: date | None = None
    auto_renew: bool = True
    cancel_at_period_end: bool = False
    cancelled_at: Timestamp | None = None
    contract_id: GlobalId | None = None
    invoice_schedule: InvoiceSchedule | None = None

    @property
    def recurring_amount(self) -> Money:
        """Sum of item amounts per price interval (before discounts and tax)."""
        return Money.total((item.amount for item in self.items), self.currency)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.term_end is not None and self.term_end <= self.term_start:
            raise ValueError(f"term_end {self.term_end} must be after term_start {self.term_start}")
        if self.billing_frequency is BillingFrequency.ONE_TIME:
            raise ValueError("a subscription needs a recurring billing_frequency, not one_time")
        require_currency(
            self.currency,
            ((f"items[{i}].unit_amount", item.unit_amount) for i, item in enumerate(self.items)),
        )
        ids = [item.global_id for item in self.items]
        if len(set(ids)) != len(ids):
            raise ValueError("subscription item global_ids must be unique")
        return self
