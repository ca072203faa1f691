"""Selling: the deal won in the CRM, the order it becomes and the contract that governs it."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated, Self

from pydantic import Field, model_validator

from syncwright.model._base import Entity, GlobalId, NonEmptyStr, Timestamp
from syncwright.model.catalog import BillingFrequency
from syncwright.model.money import CurrencyCode, Money, require_currency
from syncwright.model.party import Address

__all__ = [
    "Contract",
    "ContractStatus",
    "Deal",
    "DealStage",
    "LineItem",
    "Order",
    "OrderStatus",
]


class LineItem(Entity):
    """One product line of a deal or an order."""

    product_id: GlobalId
    price_id: GlobalId | None = None
    description: str | None = None
    quantity: Annotated[int, Field(ge=1)]
    # The negotiated unit amount, which may differ from the price's list amount.
    unit_amount: Money
    billing_frequency: BillingFrequency = BillingFrequency.ONE_TIME
    service_start: date | None = None
    service_end: date | None = None

    @property
    def amount(self) -> Money:
        return self.unit_amount * self.quantity

    @model_validator(mode="after")
    def _service_period(self) -> Self:
        _check_period(self.service_start, self.service_end, "service_start", "service_end")
        return self


def _check_period(start: date | None, end: date | None, start_name: str, end_name: str) -> None:
    if start is not None and end is not None and end < start:
        raise ValueError(f"{end_name} {end} is before {start_name} {start}")


def _check_lines(currency: str, lines: tuple[LineItem, ...]) -> None:
    require_currency(
        currency, ((f"lines[{i}].unit_amount", line.unit_amount) for i, line in enumerate(lines))
    )
    ids = [line.global_id for line in lines]
    if len(set(ids)) != len(ids):
        raise ValueError("line global_ids must be unique within a document")


class DealStage(StrEnum):
    OPEN = "open"
    CLOSED_WON = "closed_won"
    CLOSED_LOST = "closed_lost"


class Deal(Entity):
    """A CRM opportunity. Only its outcome matters downstream, so stages are coarse."""

    account_id: GlobalId
    name: NonEmptyStr
    stage: DealStage
    currency: CurrencyCode
    amount: Money | None = None
    close_date: date | None = None
    primary_contact_id: GlobalId | None = None
    lines: tuple[LineItem, ...] = ()

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        require_currency(self.currency, [("amount", self.amount)])
        _check_lines(self.currency, self.lines)
        return self


class OrderStatus(StrEnum):
    DRAFT = "draft"
    PLACED = "placed"
    FULFILLED = "fulfilled"
    CANCELLED = "cancelled"


class Order(Entity):
    """A sales order: what the customer committed to buy, as the ERP books it."""

    account_id: GlobalId
    order_number: str | None = None
    deal_id: GlobalId | None = None
    contract_id: GlobalId | None = None
    status: OrderStatus
    currency: CurrencyCode
    placed_at: Timestamp | None = None
    bill_to: Address | None = None
    ship_to: Address | None = None
    lines: tuple[LineItem, ...] = Field(min_length=1)

    @property
    def subtotal(self) -> Money:
        """Sum of line amounts before tax; tax is computed by the ERP or tax engine."""
        return Money.total((line.amount for line in self.lines), self.currency)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        _check_lines(self.currency, self.lines)
        if self.status is not OrderStatus.DRAFT and self.placed_at is None:
            raise ValueError(f"an order in status {self.status.value} needs placed_at")
        return self


class ContractStatus(StrEnum):
    DRAFT = "draft"
    ACTIVE = "active"
    EXPIRED = "expired"
    TERMINATED = "terminated"


class Contract(Entity):
    """The agreement that governs one or more subscriptions over a term."""

    account_id: GlobalId
    contract_number: str | None = None
    status: ContractStatus
    currency: CurrencyCode
    start_date: date
    # None for an evergreen contract.
    end_date: date | None = None
    term_months: Annotated[int, Field(ge=1)] | None = None
    auto_renew: bool = False
    signed_date: date | None = None
    total_value: Money | None = None
    subscription_ids: tuple[GlobalId, ...] = ()

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        _check_period(self.start_date, self.end_date, "start_date", "end_date")
        require_currency(self.currency, [("total_value", self.total_value)])
        return self
