"""The NetSuite mapping's named transforms (``netsuite.<name>`` in a mapping file): lookups in
the connection's options (subsidiary, currency) with the business error and remediation a
person needs, exact amounts, and NetSuite's address text.

They read the checked :class:`~syncwright.connectors.netsuite.mapping.NetSuiteOptions` back from
``ctx.options`` (the mapping is handed ``dataclasses.asdict`` of them).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from syncwright.connectors.netsuite.mapping import NetSuiteOptions, amount, format_address
from syncwright.mapping.transforms import TransformContext, register
from syncwright.model import Address, Money

__all__: list[str] = []

_OPTION_FIELDS = tuple(f.name for f in dataclasses.fields(NetSuiteOptions))


def _options(ctx: TransformContext) -> NetSuiteOptions:
    return NetSuiteOptions(**{k: ctx.options[k] for k in _OPTION_FIELDS if k in ctx.options})


@register("netsuite.subsidiary")
def subsidiary(value: Any, ctx: TransformContext, /, *, account: str) -> str:
    """A legal entity (``Account.subsidiary``; null: ``options.default_subsidiary``) as the
    subsidiary internal id of ``options.subsidiaries``."""
    return _options(ctx).subsidiary_id(value, account=account)


@register("netsuite.currency")
def currency(value: Any, ctx: TransformContext, /) -> str | None:
    """An ISO currency code as the currency internal id of ``options.currencies``."""
    if value is None:
        return None
    return _options(ctx).currency_id(str(value), what=ctx.label)


@register("netsuite.amount")
def money_amount(value: Any, ctx: TransformContext, /) -> int | float | None:
    """Canonical Money as the JSON number whose text is its exact decimal."""
    return None if value is None else amount(Money.model_validate(value))


@register("netsuite.address")
def address(value: Any, ctx: TransformContext, /) -> str | None:
    """A canonical address as NetSuite's ``defaultAddress`` text (one part per line)."""
    return None if value is None else format_address(Address.model_validate(value))
