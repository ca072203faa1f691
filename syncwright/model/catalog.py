"""The catalog: what is sold (``Product``) and at what price (``Price``)."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Self

from pydantic import Field, model_validator

from syncwright.model._base import Entity, GlobalId, NonEmptyStr
from syncwright.model.money import Money

__all__ = [
    "BillingFrequency",
    "Price",
    "Product",
    "RecurringInterval",
]


class RecurringInterval(StrEnum):
    """The unit a recurring price is quoted per ("$10 per seat per *month*")."""

    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    YEAR = "year"


class BillingFrequency(StrEnum):
    """How often an invoice is raised, independent of the price's interval.

    A price of $10/month billed ``QUARTERLY`` produces one $30 invoice line per quarter: CRMs
    and CPQ tools quote per interval, ERPs and billing systems invoice per frequency, and both
    must be kept.
    """

    ONE_TIME = "one_time"
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    SEMIANNUAL = "semiannual"
    ANNUAL = "annual"
    # Any other recurring period (every week, every 2 years, every 10 days): the exact period
    # is the subscription's ``billing_period``.
    CUSTOM = "custom"

    @property
    def months(self) -> int | None:
        """Months between invoices; ``None`` for a one-time charge or a custom period."""
        return _FREQUENCY_MONTHS[self]


_FREQUENCY_MONTHS: dict[BillingFrequency, int | None] = {
    BillingFrequency.ONE_TIME: None,
    BillingFrequency.MONTHLY: 1,
    BillingFrequency.QUARTERLY: 3,
    BillingFrequency.SEMIANNUAL: 6,
    BillingFrequency.ANNUAL: 12,
    BillingFrequency.CUSTOM: None,
}


class Product(Entity):
    name: NonEmptyStr
    sku: str | None = None
    description: str | None = None
    # Grouping used by reconciliation and entitlements ("Support plans", "Platform").
    family: str | None = None
    # Tax classification code as the tax engine knows it (e.g. an Avalara or Stripe tax code).
    tax_code: str | None = None
    active: bool = True


class Price(Entity):
    """A unit price of a product, one-time or recurring."""

    product_id: GlobalId
    nickname: str | None = None
    unit_amount: Money
    # None means a one-time charge.
    recurring_interval: RecurringInterval | None = None
    interval_count: Annotated[int, Field(ge=1)] = 1
    billing_frequency: BillingFrequency = BillingFrequency.ONE_TIME
    active: bool = True

    @property
    def currency(self) -> str:
        return self.unit_amount.currency

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        # Negative list prices are credits in disguise; credits have their own documents.
        if self.unit_amount.is_negative:
            raise ValueError(f"unit_amount must not be negative, got {self.unit_amount}")
        one_time = self.recurring_interval is None
        if one_time and self.billing_frequency is not BillingFrequency.ONE_TIME:
            raise ValueError(
                "a one-time price (no recurring_interval) must have billing_frequency one_time"
            )
        if one_time and self.interval_count != 1:
            raise ValueError("interval_count applies only to recurring prices")
        if not one_time and self.billing_frequency is BillingFrequency.ONE_TIME:
            raise ValueError("a recurring price needs a recurring billing_frequency")
        return self
