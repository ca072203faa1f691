"""Money stays exact across currencies: Stripe's minor units -> canonical Money -> NetSuite
amounts, for zero-decimal (JPY) and three-decimal (KWD, BHD, JOD) currencies; never a float
that rounds, never a conversion."""

from __future__ import annotations

from decimal import Decimal

import pytest

from syncwright.connectors.netsuite.mapping import amount
from syncwright.connectors.stripe.inbound import stripe_money
from syncwright.errors import BusinessRuleError
from syncwright.model.money import CURRENCY_EXPONENTS, Money

# Stripe's own lists (https://docs.stripe.com/currencies#zero-decimal and #three-decimal),
# restricted to the currencies syncwright carries.
STRIPE_ZERO_DECIMAL = {"BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX",
                       "VND", "VUV", "XAF", "XOF", "XPF"}  # fmt: skip
STRIPE_THREE_DECIMAL = {"BHD", "JOD", "KWD", "OMR", "TND"}


def test_stripe_decimal_lists_agree_with_iso_exponents() -> None:
    assert {c: CURRENCY_EXPONENTS[c] for c in STRIPE_ZERO_DECIMAL} == dict.fromkeys(
        STRIPE_ZERO_DECIMAL, 0
    )
    assert {c: CURRENCY_EXPONENTS[c] for c in STRIPE_THREE_DECIMAL} == dict.fromkeys(
        STRIPE_THREE_DECIMAL, 3
    )


@pytest.mark.parametrize(
    ("stripe_amount", "currency", "decimal_text", "netsuite"),
    [
        (1500, "jpy", "1500", 1500),  # yen: no minor unit
        (98_765, "jpy", "98765", 98765),
        (24_680, "kwd", "24.680", 24.68),  # fils: a thousandth of a dinar
        (1_000, "bhd", "1.000", 1.0),
        (7_250, "jod", "7.250", 7.25),
        (4_999, "usd", "49.99", 49.99),
    ],
)
def test_stripe_minor_units_reach_netsuite_exactly(
    stripe_amount: int, currency: str, decimal_text: str, netsuite: float
) -> None:
    money = stripe_money(stripe_amount, currency, "test")
    assert money.amount_minor == stripe_amount and money.currency == currency.upper()
    assert money.to_decimal_string() == decimal_text
    sent = amount(money)
    assert sent == netsuite and type(sent) is type(netsuite)
    # The JSON text NetSuite receives is exactly the decimal of the minor units.
    assert Decimal(repr(sent)) == Decimal(decimal_text)


@pytest.mark.parametrize("minor", [24_685, 1, 999])
def test_a_three_decimal_amount_netsuite_cannot_hold_parks_instead_of_rounding(
    minor: int,
) -> None:
    with pytest.raises(BusinessRuleError) as raised:
        amount(Money.of(minor, "KWD"))
    assert raised.value.code == "netsuite.amount_precision"
    assert "by hand" in raised.value.remediation


def test_sums_of_yen_and_dinars_stay_exact() -> None:
    dinars = Money.total([Money.of(12_340, "KWD")] * 3, "KWD")
    assert dinars.to_decimal_string() == "37.020" and amount(dinars) == 37.02
    yen = Money.total([Money.of(333, "JPY")] * 3, "JPY")
    assert amount(yen) == 999
    with pytest.raises(ValueError, match="KWD"):
        Money.of(1, "JPY") + Money.of(1, "KWD")  # no conversion between currencies
