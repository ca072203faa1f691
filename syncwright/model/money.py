"""``Money``: an exact amount in integer minor units of one ISO 4217 currency.

Why integers and never floats: ``0.1 + 0.2 != 0.3`` in binary floating point, and an invoice
total that is off by a cent between billing and the ERP is a reconciliation drift that someone
must chase by hand. Every amount is therefore a count of the currency's minor unit (cents for
USD, yen for JPY, fils for KWD) plus the currency code, and arithmetic is defined only between
amounts of the same currency.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from decimal import Decimal
from types import MappingProxyType
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, WithJsonSchema

from syncwright.errors import BusinessRuleError
from syncwright.model._base import CanonicalModel

__all__ = [
    "CURRENCY_EXPONENTS",
    "CurrencyCode",
    "CurrencyMismatchError",
    "Money",
    "currency_exponent",
    "require_currency",
]

# ISO 4217 minor-unit exponents (number of decimal places). Not exhaustive on purpose: a currency
# we have never been asked to carry is more likely a typo than a customer. Add to this table when
# a real deployment needs a new one; the exponent must come from the ISO 4217 list, not from a
# vendor (some vendors, e.g. for HUF or TWD, use their own exponents; their connectors convert).
CURRENCY_EXPONENTS: MappingProxyType[str, int] = MappingProxyType(
    {
        # zero-decimal currencies
        "BIF": 0,
        "CLP": 0,
        "DJF": 0,
        "GNF": 0,
        "ISK": 0,
        "JPY": 0,
        "KMF": 0,
        "KRW": 0,
        "PYG": 0,
        "RWF": 0,
        "UGX": 0,
        "VND": 0,
        "VUV": 0,
        "XAF": 0,
        "XOF": 0,
        "XPF": 0,
        # three-decimal currencies
        "BHD": 3,
        "IQD": 3,
        "JOD": 3,
        "KWD": 3,
        "LYD": 3,
        "OMR": 3,
        "TND": 3,
        # four-decimal units of account
        "CLF": 4,
        "UYW": 4,
        # two-decimal currencies
        "AED": 2,
        "ARS": 2,
        "AUD": 2,
        "BGN": 2,
        "BRL": 2,
        "CAD": 2,
        "CHF": 2,
        "CNY": 2,
        "COP": 2,
        "CZK": 2,
        "DKK": 2,
        "EGP": 2,
        "EUR": 2,
        "GBP": 2,
        "HKD": 2,
        "HUF": 2,
        "IDR": 2,
        "ILS": 2,
        "INR": 2,
        "KES": 2,
        "MAD": 2,
        "MXN": 2,
        "MYR": 2,
        "NGN": 2,
        "NOK": 2,
        "NZD": 2,
        "PEN": 2,
        "PHP": 2,
        "PKR": 2,
        "PLN": 2,
        "QAR": 2,
        "RON": 2,
        "RSD": 2,
        "SAR": 2,
        "SEK": 2,
        "SGD": 2,
        "THB": 2,
        "TRY": 2,
        "TWD": 2,
        "UAH": 2,
        "USD": 2,
        "UYU": 2,
        "ZAR": 2,
    }
)

_CODE_SHAPE = re.compile(r"^[A-Z]{3}$")
# A plain decimal literal: optional sign, digits, optional fraction. No exponent ("1e3"), no
# thousands separators, no spaces: those are presentation formats a mapping must normalise first.
_DECIMAL_LITERAL = re.compile(r"^[+-]?\d+(\.\d+)?$")


class CurrencyMismatchError(BusinessRuleError, ValueError):
    """Two amounts of different currencies met in one operation.

    A ``BusinessRuleError`` so that a workflow meeting mixed-currency data parks it for a person
    (there is no exchange rate the runtime could honestly pick); a ``ValueError`` so that inside a
    pydantic validator it becomes an ordinary validation error with a field path.
    """

    default_code = "money.currency_mismatch"

    def __init__(self, message: str) -> None:
        super().__init__(
            message,
            remediation=(
                "Amounts in one document must share one currency; fix the currency at the source "
                "system or in the mapping, then retry."
            ),
        )

    @property
    def kind(self) -> str:
        # errors.error_from_dict rebuilds only the public hierarchy; naming the public base
        # keeps "park, don't retry" (and the remediation) across a process boundary, while
        # ``code`` keeps the specifics.
        return BusinessRuleError.__name__


def _check_currency(code: str) -> str:
    if not _CODE_SHAPE.match(code):
        hint = f"; did you mean {code.upper()!r}?" if _CODE_SHAPE.match(code.upper()) else ""
        raise ValueError(
            f"currency must be an ISO 4217 code of three upper-case letters, got {code!r}{hint}"
        )
    if code not in CURRENCY_EXPONENTS:
        raise ValueError(
            f"unknown ISO 4217 currency code {code!r}: not in syncwright.model.CURRENCY_EXPONENTS"
        )
    return code


CurrencyCode = Annotated[
    str,
    AfterValidator(_check_currency),
    # The pattern is for the published JSON Schema only; the validator above does the checking,
    # so the error names the bad code and the table instead of a bare regex mismatch.
    WithJsonSchema({"type": "string", "pattern": "^[A-Z]{3}$"}),
]
"""An ISO 4217 currency code known to :data:`CURRENCY_EXPONENTS`."""


def currency_exponent(currency: str) -> int:
    """Number of decimal places of ``currency``'s minor unit (USD 2, JPY 0, KWD 3)."""
    return CURRENCY_EXPONENTS[_check_currency(currency)]


def require_currency(currency: str, amounts: Iterable[tuple[str, Money | None]]) -> None:
    """Raise :class:`CurrencyMismatchError` naming the first amount not in ``currency``.

    Documents (invoices, orders, subscriptions) carry one currency; every amount on them must
    match it, or the totals the ERP posts would silently mix currencies.
    """
    for where, amount in amounts:
        if amount is not None and amount.currency != currency:
            raise CurrencyMismatchError(
                f"{where} is in {amount.currency} but the document currency is {currency}"
            )


def _only_int(value: Any) -> Any:
    # bool is an int subclass: True would silently become one cent. Floats and Decimals are
    # refused rather than rounded, so that the caller who holds a major-unit value must say how
    # it is written (from_decimal_string) instead of us guessing.
    if isinstance(value, bool) or not isinstance(value, int):
        kind = type(value).__name__
        raise ValueError(
            f"amount_minor must be an int count of minor units (e.g. cents), got {kind} "
            f"{value!r}; floats are never accepted for money: use Money.from_decimal_string()"
        )
    return value


def _require_int(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{what} must be an int, got {type(value).__name__} {value!r}")
    return value


class Money(CanonicalModel):
    """An exact amount: ``amount_minor`` minor units of ``currency``. Immutable."""

    amount_minor: Annotated[int, BeforeValidator(_only_int)]
    currency: CurrencyCode

    # -- construction -------------------------------------------------------------------------

    @classmethod
    def of(cls, amount_minor: int, currency: str) -> Money:
        """Positional shorthand: ``Money.of(1234, "USD")`` is 12.34 USD."""
        return cls(amount_minor=amount_minor, currency=currency)

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(amount_minor=0, currency=currency)

    @classmethod
    def from_decimal_string(cls, value: str, currency: str) -> Money:
        """Parse a major-unit decimal string: ``from_decimal_string("12.34", "USD")``.

        More fractional digits than the currency has minor units is an error, not a rounding:
        "12.345 USD" means the source holds a value we cannot represent, and rounding it here
        would hide a cent of drift.
        """
        if not isinstance(value, str):
            raise TypeError(
                f"from_decimal_string takes a str, got {type(value).__name__} {value!r}; "
                "floats are never accepted for money"
            )
        text = value.strip()
        if not _DECIMAL_LITERAL.match(text):
            raise ValueError(f"not a plain decimal amount: {value!r} (expected e.g. '12.34')")
        exponent = currency_exponent(currency)
        fraction = text.partition(".")[2]
        if len(fraction.rstrip("0")) > exponent:
            raise ValueError(
                f"{value!r} has more decimal places than {currency} allows ({exponent})"
            )
        minor = Decimal(text).scaleb(exponent)
        return cls(amount_minor=int(minor), currency=currency)

    @classmethod
    def total(cls, amounts: Iterable[Money], currency: str) -> Money:
        """Sum of ``amounts``; ``currency`` is required so that an empty sum has one."""
        result = cls.zero(currency)
        for amount in amounts:
            result = result + amount
        return result

    # -- presentation -------------------------------------------------------------------------

    @property
    def exponent(self) -> int:
        return CURRENCY_EXPONENTS[self.currency]

    def to_decimal(self) -> Decimal:
        """The amount in major units as an exact ``Decimal`` (``Decimal('12.34')``)."""
        return Decimal(self.amount_minor).scaleb(-self.exponent)

    def to_decimal_string(self) -> str:
        """Major units with exactly the currency's decimal places: ``"12.34"``, ``"1234"``."""
        exponent = self.exponent
        sign = "-" if self.amount_minor < 0 else ""
        digits = str(abs(self.amount_minor)).rjust(exponent + 1, "0")
        if exponent == 0:
            return sign + digits
        return f"{sign}{digits[:-exponent]}.{digits[-exponent:]}"

    def __str__(self) -> str:
        return f"{self.to_decimal_string()} {self.currency}"

    # -- predicates ---------------------------------------------------------------------------

    @property
    def is_zero(self) -> bool:
        return self.amount_minor == 0

    @property
    def is_negative(self) -> bool:
        return self.amount_minor < 0

    @property
    def is_positive(self) -> bool:
        return self.amount_minor > 0

    # -- arithmetic (same currency only) ------------------------------------------------------

    def _same_currency(self, other: Money, op: str) -> None:
        if other.currency != self.currency:
            raise CurrencyMismatchError(
                f"cannot {op} {other} and {self}: currencies differ "
                f"({self.currency} vs {other.currency})"
            )

    def __add__(self, other: object) -> Money:
        if not isinstance(other, Money):
            return NotImplemented
        self._same_currency(other, "add")
        return Money(amount_minor=self.amount_minor + other.amount_minor, currency=self.currency)

    def __sub__(self, other: object) -> Money:
        if not isinstance(other, Money):
            return NotImplemented
        self._same_currency(other, "subtract")
        return Money(amount_minor=self.amount_minor - other.amount_minor, currency=self.currency)

    def __neg__(self) -> Money:
        return Money(amount_minor=-self.amount_minor, currency=self.currency)

    def __abs__(self) -> Money:
        return Money(amount_minor=abs(self.amount_minor), currency=self.currency)

    def __mul__(self, factor: int) -> Money:
        # Only integer factors (a quantity): multiplying by a rate needs an explicit rounding
        # rule, and that belongs to the caller (tax, proration), not to Money. Checked at run
        # time too, because untyped callers (mappings) do pass floats.
        count = _require_int(factor, "a Money multiplier")
        return Money(amount_minor=self.amount_minor * count, currency=self.currency)

    __rmul__ = __mul__

    def _compare_key(self, other: object, op: str) -> tuple[int, int] | None:
        if not isinstance(other, Money):
            return None
        self._same_currency(other, op)
        return self.amount_minor, other.amount_minor

    def __lt__(self, other: object) -> bool:
        pair = self._compare_key(other, "compare")
        return NotImplemented if pair is None else pair[0] < pair[1]

    def __le__(self, other: object) -> bool:
        pair = self._compare_key(other, "compare")
        return NotImplemented if pair is None else pair[0] <= pair[1]

    def __gt__(self, other: object) -> bool:
        pair = self._compare_key(other, "compare")
        return NotImplemented if pair is None else pair[0] > pair[1]

    def __ge__(self, other: object) -> bool:
        pair = self._compare_key(other, "compare")
        return NotImplemented if pair is None else pair[0] >= pair[1]

    def allocate(self, ratios: Sequence[int]) -> list[Money]:
        """Split into parts proportional to ``ratios`` without losing or inventing a minor unit.

        Largest-remainder method: each part gets its floor share, then the leftover minor units
        go one each to the parts with the largest remainders (earlier parts win ties), so the
        parts always add up to exactly ``self``. ``Money.of(100, "USD").allocate([1, 1, 1])``
        is 34, 33, 33 cents.
        """
        weights = [_require_int(r, "an allocation ratio") for r in ratios]
        if not weights:
            raise ValueError("allocate needs at least one ratio")
        if any(w < 0 for w in weights):
            raise ValueError(f"allocation ratios must not be negative, got {weights}")
        whole = sum(weights)
        if whole == 0:
            raise ValueError("allocation ratios must not all be zero")
        # Allocate the magnitude and restore the sign, so a refund splits like the charge did.
        sign = -1 if self.amount_minor < 0 else 1
        magnitude = abs(self.amount_minor)
        shares = [magnitude * w // whole for w in weights]
        remainders = [magnitude * w % whole for w in weights]
        leftover = magnitude - sum(shares)
        by_remainder = sorted(range(len(weights)), key=lambda i: (-remainders[i], i))
        for i in by_remainder[:leftover]:
            shares[i] += 1
        return [Money(amount_minor=sign * s, currency=self.currency) for s in shares]

    def split(self, parts: int) -> list[Money]:
        """``allocate`` into ``parts`` equal shares (differing by at most one minor unit)."""
        count = _require_int(parts, "the number of parts")
        if count < 1:
            raise ValueError(f"cannot split into {count} parts")
        return self.allocate([1] * count)
