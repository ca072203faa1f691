"""Money: integer minor units, known currencies, same-currency arithmetic only."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from syncwright.errors import BusinessRuleError, error_from_dict
from syncwright.model import CURRENCY_EXPONENTS, CurrencyMismatchError, Money, currency_exponent


def usd(cents: int) -> Money:
    return Money.of(cents, "USD")


# -- construction and validation -----------------------------------------------------------------


def test_holds_integer_minor_units_and_currency() -> None:
    m = Money(amount_minor=1234, currency="USD")
    assert (m.amount_minor, m.currency) == (1234, "USD")
    assert Money.of(1234, "USD") == m
    assert str(m) == "12.34 USD"


@pytest.mark.parametrize("bad", [12.34, 12.0, Decimal("12"), "1234", True, None])
def test_refuses_anything_but_int_amounts(bad: Any) -> None:
    with pytest.raises(ValidationError) as err:
        Money(amount_minor=bad, currency="USD")
    assert "amount_minor must be an int count of minor units" in str(err.value)


def test_float_error_points_to_from_decimal_string() -> None:
    with pytest.raises(ValidationError, match="floats are never accepted"):
        Money(amount_minor=1.5, currency="USD")


def test_unknown_currency_error_names_the_code() -> None:
    with pytest.raises(ValidationError, match="unknown ISO 4217 currency code 'XYZ'"):
        Money.of(1, "XYZ")


@pytest.mark.parametrize("bad", ["usd", "US", "USDD", "U$D", ""])
def test_currency_must_be_three_upper_case_letters(bad: str) -> None:
    with pytest.raises(ValidationError, match="three upper-case letters"):
        Money.of(1, bad)


def test_lower_case_currency_gets_a_hint() -> None:
    with pytest.raises(ValidationError, match="did you mean 'USD'"):
        Money.of(1, "usd")


def test_exponents_from_iso_4217() -> None:
    assert currency_exponent("USD") == 2
    assert currency_exponent("JPY") == 0
    assert currency_exponent("KWD") == 3
    assert all(0 <= e <= 4 for e in CURRENCY_EXPONENTS.values())
    with pytest.raises(ValueError, match="'ZZZ'"):
        currency_exponent("ZZZ")


def test_is_frozen_and_hashable() -> None:
    m = usd(100)
    with pytest.raises(ValidationError):
        m.amount_minor = 5  # type: ignore[misc]
    assert {m, usd(100)} == {m}


def test_json_round_trip() -> None:
    m = Money.of(-505, "KWD")
    assert m.model_dump(mode="json") == {"amount_minor": -505, "currency": "KWD"}
    assert Money.model_validate_json(m.model_dump_json()) == m


def test_rejects_unknown_fields() -> None:
    with pytest.raises(ValidationError, match="Extra inputs"):
        Money.model_validate({"amount_minor": 1, "currency": "USD", "amount": 0.01})


# -- decimal strings -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "currency", "minor"),
    [
        ("12.34", "USD", 1234),
        ("12.3", "USD", 1230),
        ("12", "USD", 1200),
        ("-0.05", "USD", -5),
        ("12.340", "USD", 1234),
        ("1234", "JPY", 1234),
        ("1.000", "JPY", 1),
        ("1.234", "KWD", 1234),
        (" 7.5 ", "EUR", 750),
    ],
)
def test_from_decimal_string(text: str, currency: str, minor: int) -> None:
    assert Money.from_decimal_string(text, currency) == Money.of(minor, currency)


@pytest.mark.parametrize(
    ("minor", "currency", "text"),
    [
        (1234, "USD", "12.34"),
        (5, "USD", "0.05"),
        (-5, "USD", "-0.05"),
        (0, "USD", "0.00"),
        (1234, "JPY", "1234"),
        (-1, "KWD", "-0.001"),
        (10000, "CLF", "1.0000"),
    ],
)
def test_to_decimal_string(minor: int, currency: str, text: str) -> None:
    m = Money.of(minor, currency)
    assert m.to_decimal_string() == text
    assert Money.from_decimal_string(text, currency) == m
    assert m.to_decimal() == Decimal(text)


def test_too_many_decimal_places_is_an_error_not_a_rounding() -> None:
    with pytest.raises(ValueError, match="more decimal places than USD allows"):
        Money.from_decimal_string("12.345", "USD")
    with pytest.raises(ValueError, match="JPY"):
        Money.from_decimal_string("1.5", "JPY")


@pytest.mark.parametrize("text", ["1e3", "12,34", "1 000", "", ".5", "12.", "abc", "--1"])
def test_only_plain_decimal_literals(text: str) -> None:
    with pytest.raises(ValueError, match="not a plain decimal amount"):
        Money.from_decimal_string(text, "USD")


def test_from_decimal_string_refuses_floats() -> None:
    with pytest.raises(TypeError, match="floats are never accepted"):
        Money.from_decimal_string(12.34, "USD")  # type: ignore[arg-type]


# -- arithmetic ----------------------------------------------------------------------------------


def test_add_subtract_negate_multiply() -> None:
    assert usd(100) + usd(25) == usd(125)
    assert usd(100) - usd(125) == usd(-25)
    assert -usd(5) == usd(-5)
    assert abs(usd(-5)) == usd(5)
    assert usd(250) * 3 == usd(750)
    assert 3 * usd(250) == usd(750)


def test_multiplying_by_a_float_is_refused() -> None:
    with pytest.raises(TypeError, match="must be an int"):
        usd(100) * 1.5  # type: ignore[operator]
    with pytest.raises(TypeError):
        usd(100) * True


def test_comparisons_within_one_currency() -> None:
    assert usd(1) < usd(2) <= usd(2) < usd(3)
    assert usd(3) > usd(2) >= usd(2)
    assert max(usd(5), usd(9), usd(1)) == usd(9)
    assert usd(1) != Money.of(1, "EUR")


@pytest.mark.parametrize(
    "op",
    [
        lambda a, b: a + b,
        lambda a, b: a - b,
        lambda a, b: a < b,
        lambda a, b: a <= b,
        lambda a, b: a > b,
        lambda a, b: a >= b,
    ],
)
def test_mixed_currency_is_refused(op: Any) -> None:
    with pytest.raises(CurrencyMismatchError, match="USD vs EUR") as err:
        op(usd(100), Money.of(100, "EUR"))
    # Parked by workflows like any business rule, and a ValueError inside validators.
    assert isinstance(err.value, BusinessRuleError)
    assert isinstance(err.value, ValueError)
    assert err.value.code == "money.currency_mismatch"
    assert err.value.remediation


def test_adding_a_non_money_is_a_type_error() -> None:
    with pytest.raises(TypeError):
        usd(1) + 1


def test_total() -> None:
    assert Money.total([usd(1), usd(2), usd(3)], "USD") == usd(6)
    assert Money.total([], "JPY") == Money.zero("JPY")
    with pytest.raises(CurrencyMismatchError):
        Money.total([usd(1), Money.of(1, "EUR")], "USD")


def test_predicates() -> None:
    assert Money.zero("USD").is_zero
    assert usd(-1).is_negative
    assert usd(1).is_positive


# -- allocation ----------------------------------------------------------------------------------


def test_allocate_never_loses_a_minor_unit() -> None:
    parts = usd(100).allocate([1, 1, 1])
    assert parts == [usd(34), usd(33), usd(33)]
    assert Money.total(parts, "USD") == usd(100)


def test_allocate_by_ratio_and_largest_remainder() -> None:
    assert usd(5).allocate([3, 7]) == [usd(2), usd(3)]  # 1.5 / 3.5 -> remainder to the larger
    assert usd(1000).allocate([70, 20, 10]) == [usd(700), usd(200), usd(100)]
    assert usd(10).allocate([1, 0]) == [usd(10), usd(0)]


def test_allocate_negative_mirrors_positive() -> None:
    assert usd(-100).allocate([1, 1, 1]) == [-m for m in usd(100).allocate([1, 1, 1])]


@pytest.mark.parametrize("amount", [0, 1, 7, 99, 100, 101, 12345, -12345])
@pytest.mark.parametrize("ratios", [[1], [1, 1], [1, 2, 3], [5, 0, 5], [33, 33, 34]])
def test_allocate_sums_back(amount: int, ratios: list[int]) -> None:
    parts = usd(amount).allocate(ratios)
    assert len(parts) == len(ratios)
    assert Money.total(parts, "USD") == usd(amount)


@pytest.mark.parametrize(
    ("ratios", "message"),
    [([], "at least one"), ([0, 0], "all be zero"), ([1, -1], "negative")],
)
def test_allocate_rejects_bad_ratios(ratios: list[int], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        usd(100).allocate(ratios)


def test_allocate_rejects_float_ratios() -> None:
    with pytest.raises(TypeError):
        usd(100).allocate([0.5, 0.5])  # type: ignore[list-item]


def test_split() -> None:
    assert Money.of(10, "JPY").split(3) == [Money.of(n, "JPY") for n in (4, 3, 3)]
    with pytest.raises(ValueError, match="0 parts"):
        usd(1).split(0)


def test_currency_mismatch_survives_a_process_boundary_as_a_business_rule_error() -> None:
    with pytest.raises(CurrencyMismatchError) as err:
        usd(1) + Money.of(1, "EUR")
    rebuilt = error_from_dict(err.value.to_dict())
    assert isinstance(rebuilt, BusinessRuleError)
    assert rebuilt.code == "money.currency_mismatch"
    assert rebuilt.remediation == err.value.remediation
