"""Every recurring period billing systems allow is a canonical subscription period."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from syncwright.model import BillingFrequency, BillingPeriod, Subscription


def _subscription(**extra: Any) -> Subscription:
    return Subscription.model_validate(
        {
            "global_id": "sub_1",
            "account_id": "acct_1",
            "plan_id": "prod_1",
            "status": "active",
            "currency": "USD",
            "term_start": "2026-12-01",
            "items": [
                {
                    "global_id": "si_1",
                    "price_id": "price_1",
                    "quantity": 1,
                    "unit_amount": {"amount_minor": 1000, "currency": "USD"},
                }
            ],
            **extra,
        }
    )


@pytest.mark.parametrize(
    ("unit", "count", "frequency", "months"),
    [
        ("day", 10, "custom", None),
        ("week", 1, "custom", None),
        ("week", 2, "custom", None),
        ("month", 1, "monthly", 1),
        ("month", 3, "quarterly", 3),
        ("month", 2, "custom", 2),
        ("year", 1, "annual", 12),
        ("year", 2, "custom", 24),
        ("year", 3, "custom", 36),
    ],
)
def test_periods_and_their_named_frequency(
    unit: str, count: int, frequency: str, months: int | None
) -> None:
    period = BillingPeriod.model_validate({"unit": unit, "count": count})
    assert period.frequency == frequency and period.months == months
    sub = _subscription(billing_frequency=frequency, billing_period=period.model_dump())
    assert sub.period == period


def test_custom_needs_a_period_and_a_period_must_agree() -> None:
    with pytest.raises(ValidationError, match="custom needs a billing_period"):
        _subscription(billing_frequency="custom")
    with pytest.raises(ValidationError, match="every 2 weeks is custom, not billing_frequency"):
        _subscription(billing_frequency="monthly", billing_period={"unit": "week", "count": 2})
    with pytest.raises(ValidationError):
        BillingPeriod.model_validate({"unit": "week", "count": 0})
    # A named frequency alone still works, and has its period.
    assert _subscription(billing_frequency="annual").period.months == 12


def test_equivalent_lengths() -> None:
    year = BillingPeriod.model_validate({"unit": "year", "count": 1})
    assert year.equivalent(BillingPeriod.of(BillingFrequency.ANNUAL) or year)
    fortnight = BillingPeriod.model_validate({"unit": "week", "count": 2})
    assert fortnight.equivalent(BillingPeriod.model_validate({"unit": "day", "count": 14}))
    assert not fortnight.equivalent(BillingPeriod.model_validate({"unit": "month", "count": 1}))
