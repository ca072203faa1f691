"""Named transforms: the Python a mapping file calls for what a declaration cannot say.

A transform is ``fn(value, ctx, **args) -> value``. ``ctx`` is a :class:`TransformContext`
(the whole record, the fields produced so far, the connection options, a label naming the
record). A transform that cannot convert a value raises :class:`TransformError` with the
problem; the mapping turns it into its ``on_error`` business error, naming record and field.

Generic transforms live here. A connector's own live in ``syncwright/connectors/<vendor>/
transforms.py`` under the name ``<vendor>.<name>``; that module is imported the first time a
mapping names one of them. The list with what each does: ``docs/mappings.md``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from syncwright.model import Money

__all__ = [
    "Transform",
    "TransformContext",
    "TransformError",
    "clean_text",
    "find_transform",
    "load_vendor_transforms",
    "register",
    "transform_names",
]


class TransformError(ValueError):
    """A value a transform cannot convert; the message says why."""


@dataclass(frozen=True)
class TransformContext:
    """What a transform may read besides its value."""

    label: str
    record: Any
    options: Mapping[str, Any]
    result: Mapping[str, Any] = field(default_factory=dict)
    parent: Mapping[str, Any] | None = None
    parent_label: str | None = None


# ``fn(value, ctx, **args) -> value``; arguments are checked when the mapping runs.
Transform = Callable[..., Any]
F = TypeVar("F", bound=Transform)


_REGISTRY: dict[str, Transform] = {}


def register(name: str) -> Callable[[F], F]:
    """Register ``fn`` under ``name`` (``<vendor>.<name>`` for a connector's own)."""

    def add(fn: F) -> F:
        if name in _REGISTRY and _REGISTRY[name] is not fn:
            raise ValueError(f"transform {name!r} is registered twice")
        _REGISTRY[name] = fn
        return fn

    return add


def find_transform(name: str) -> Transform | None:
    """The transform called ``name``; a ``<vendor>.`` name imports that vendor's module."""
    if name not in _REGISTRY and "." in name:
        load_vendor_transforms(name.split(".", 1)[0])
    return _REGISTRY.get(name)


def load_vendor_transforms(vendor: str) -> None:
    """Import ``syncwright.connectors.<vendor>.transforms`` (which registers its transforms),
    when that vendor has one."""
    package = f"syncwright.connectors.{vendor}"
    try:
        importlib.import_module(f"{package}.transforms")
    except ModuleNotFoundError as exc:
        if exc.name not in (package, f"{package}.transforms"):
            raise  # the module exists but something it imports does not


def transform_names() -> list[str]:
    """Every registered name (generic ones, and vendors' once imported), sorted."""
    return sorted(_REGISTRY)


def _decimal(value: Any) -> Decimal:
    if isinstance(value, bool) or value is None:
        raise TransformError(f"expected a number, got {value!r}")
    try:
        # JSON numbers arrive as floats; str() of a float is its shortest exact repr.
        return Decimal(str(value))
    except InvalidOperation:
        raise TransformError(f"expected a number, got {value!r}") from None


def _currency(currency: Any) -> str:
    if not isinstance(currency, str) or not currency:
        raise TransformError(f"has no currency for the amount (got {currency!r})")
    return currency.upper()


# -- generic transforms ----------------------------------------------------------------------


def clean_text(value: Any) -> str | None:
    """The value as text with surrounding blanks removed; blank text (or null) is None."""
    if value is None:
        return None
    stripped = str(value).strip()
    return stripped or None


@register("text")
def text(value: Any, ctx: TransformContext, /) -> str | None:
    """The value as text with surrounding blanks removed; blank text becomes null."""
    return clean_text(value)


@register("string")
def string(value: Any, ctx: TransformContext, /) -> str | None:
    """The value as text, unchanged otherwise."""
    return None if value is None else str(value)


@register("upper")
def upper(value: Any, ctx: TransformContext, /) -> str | None:
    """Text in upper case (currency and country codes)."""
    return None if value is None else str(value).upper()


@register("lower")
def lower(value: Any, ctx: TransformContext, /) -> str | None:
    """Text in lower case."""
    return None if value is None else str(value).lower()


@register("title_words")
def title_words(value: Any, ctx: TransformContext, /) -> str | None:
    """``past_due`` -> ``Past Due``: a code as a person reads it."""
    return None if value is None else str(value).replace("_", " ").title()


@register("integer")
def integer(value: Any, ctx: TransformContext, /) -> int | None:
    """A whole number (``"3"``, ``3.0`` -> 3); a fraction is an error."""
    if value is None:
        return None
    number = _decimal(value)
    if number != number.to_integral_value():
        raise TransformError(f"expected a whole number, got {value!r}")
    return int(number)


@register("decimal_string")
def decimal_string(value: Any, ctx: TransformContext, /) -> str | None:
    """A number as exact decimal text (``1200.5`` -> ``"1200.5"``)."""
    return None if value is None else format(_decimal(value), "f")


@register("iso_date")
def iso_date(value: Any, ctx: TransformContext, /) -> date | None:
    """``YYYY-MM-DD`` text (or the date part of an ISO timestamp) as a date."""
    if value is None:
        return None
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        raise TransformError(f"expected a date like 2026-03-31, got {value!r}") from None


@register("iso_date_from_epoch")
def iso_date_from_epoch(value: Any, ctx: TransformContext, /) -> date | None:
    """Unix seconds (Stripe's timestamps) as the UTC calendar date."""
    stamp = datetime_from_epoch(value, ctx)
    return None if stamp is None else stamp.date()


@register("datetime_from_epoch")
def datetime_from_epoch(value: Any, ctx: TransformContext, /) -> datetime | None:
    """Unix seconds as a UTC timestamp."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TransformError(f"expected Unix seconds, got {value!r}")
    return datetime.fromtimestamp(value, UTC)


@register("money_from_minor")
def money_from_minor(value: Any, ctx: TransformContext, /, *, currency: Any = None) -> Any:
    """Integer minor units (Stripe's ``amount``: cents) and ``currency`` as canonical Money."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise TransformError(f"expected an amount in minor units (a whole number), got {value!r}")
    return Money.of(value, _currency(currency))


@register("money_from_decimal")
def money_from_decimal(value: Any, ctx: TransformContext, /, *, currency: Any = None) -> Any:
    """A decimal amount in major units (``1200.50``) and ``currency`` as canonical Money."""
    if value is None:
        return None
    code = _currency(currency)
    try:
        return Money.from_decimal_string(format(_decimal(value), "f"), code)
    except ValueError:
        raise TransformError(
            f"{value} {code} has more decimals than {code} has minor units"
        ) from None


@register("decimal_from_money")
def decimal_from_money(value: Any, ctx: TransformContext, /) -> float | None:
    """Canonical Money (``{amount_minor, currency}``) as a number in major units."""
    if value is None:
        return None
    try:
        money = Money.model_validate(value)
    except ValueError:
        raise TransformError(
            f"expected a Money object (amount_minor, currency), got {value!r}"
        ) from None
    # JSON numbers: the float's repr is the exact decimal for any amount below 2**53 minor units.
    return float(money.to_decimal())


@register("get")
def get(value: Any, ctx: TransformContext, /, *, key: Any) -> Any:
    """``value[key]`` of a mapping, for a field whose name is an option
    (``args_from: {key: $options.legal_entity_field}``)."""
    if not isinstance(value, Mapping) or key is None:
        return None
    return value.get(str(key))


@register("format")
def format_text(value: Any, ctx: TransformContext, /, *, pattern: str, **values: Any) -> Any:
    """``pattern`` with ``{}`` replaced by the value and ``{name}`` by the named arguments
    (``args_from``): ``{pattern: "Invoice {}"}``. Null stays null."""
    if value is None:
        return None
    try:
        return pattern.format(value, **values)
    except (IndexError, KeyError, ValueError) as exc:
        raise TransformError(f"pattern {pattern!r} does not fit: {exc}") from None


@register("truncate")
def truncate(value: Any, ctx: TransformContext, /, *, length: int) -> Any:
    """Text of at most ``length`` characters, the last one ``…`` when it was cut."""
    if value is None:
        return None
    text = str(value)
    return text if len(text) <= length else text[: length - 1] + "…"
