"""Subscriptions: recurring revenue, the centre of most syncwright workflows."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated, Self

from pydantic import Field, model_validator

from syncwright.model._base import CanonicalModel, Entity, GlobalId, Timestamp
from syncwright.model.catalog import BillingFrequency, RecurringInterval
from syncwright.model.money import CurrencyCode, Money, require_currency

__all__ = [
    "BillingPeriod",
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


_NAMED_BY_MONTHS = {
    1: BillingFrequency.MONTHLY,
    3: BillingFrequency.QUARTERLY,
    6: BillingFrequency.SEMIANNUAL,
    12: BillingFrequency.ANNUAL,
}


class BillingPeriod(CanonicalModel):
    """The exact recurring period, as billing systems express it: ``count`` x ``unit`` (every
    week, every 2 weeks, every 10 days, every 2 years). Any count the source allows is held."""

    unit: RecurringInterval
    count: Annotated[int, Field(ge=1)] = 1

    @property
    def months(self) -> int | None:
        """Whole months per period; ``None`` for day- and week-based periods."""
        if self.unit is RecurringInterval.MONTH:
            return self.count
        if self.unit is RecurringInterval.YEAR:
            return 12 * self.count
        return None

    @property
    def frequency(self) -> BillingFrequency:
        """The named frequency of this period, ``CUSTOM`` when it has none."""
        months = self.months
        return (
            _NAMED_BY_MONTHS.get(months, BillingFrequency.CUSTOM)
            if months
            else (BillingFrequency.CUSTOM)
        )

    @classmethod
    def of(cls, frequency: BillingFrequency) -> BillingPeriod | None:
        """The period of a named frequency; ``None`` for one-time and custom."""
        months = frequency.months
        return cls(unit=RecurringInterval.MONTH, count=months) if months else None

    def equivalent(self, other: BillingPeriod) -> bool:
        """The same length: every 12 months is every year, every 2 weeks is every 14 days."""
        return self._length() == other._length()

    def _length(self) -> tuple[str, int]:
        months = self.months
        if months is not None:
            return ("months", months)
        return ("days", self.count * (7 if self.unit is RecurringInterval.WEEK else 1))

    def describe(self) -> str:
        unit = self.unit.value
        return f"every {unit}" if self.count == 1 else f"every {self.count} {unit}s"


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
    # The exact period; required when ``billing_frequency`` is ``custom`` (weekly, two-yearly,
    # ...), optional otherwise (then it must agree with the frequency).
    billing_period: BillingPeriod | None = None
    items: tuple[SubscriptionItem, ...] = Field(min_length=1)
    trial_end: date | None = None
    auto_renew: bool = True
    cancel_at_period_end: bool = False
    cancelled_at: Timestamp | None = None
    contract_id: GlobalId | None = None
    invoice_schedule: InvoiceSchedule | None = None

    @property
    def period(self) -> BillingPeriod:
        """The exact billing period (from ``billing_period``, else the named frequency)."""
        found = self.billing_period or BillingPeriod.of(self.billing_frequency)
        if found is None:  # pragma: no cover - the validator refuses this combination
            raise ValueError(f"subscription {self.global_id} has no recurring period")
        return found

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
        if self.billing_period is None and self.billing_frequency is BillingFrequency.CUSTOM:
            raise ValueError("billing_frequency custom needs a billing_period (unit and count)")
        if (
            self.billing_period is not None
            and self.billing_period.frequency is not self.billing_frequency
        ):
            raise ValueError(
                f"billing_period {self.billing_period.describe()} is "
                f"{self.billing_period.frequency.value}, not billing_frequency "
                f"{self.billing_frequency.value}"
            )
        require_currency(
            self.currency,
            ((f"items[{i}].unit_amount", item.unit_amount) for i, item in enumerate(self.items)),
        )
        ids = [item.global_id for item in self.items]
        if len(set(ids)) != len(ids):
            raise ValueError("subscription item global_ids must be unique")
        return self
