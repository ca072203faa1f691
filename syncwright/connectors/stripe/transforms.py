"""The Stripe mappings' named transforms (``stripe.<name>`` in a mapping file): currency and
address rules with the business error and remediation a person needs, and tax ids.

``ctx.label`` names the record in messages (``Stripe customer cus_...``).
"""

from __future__ import annotations

from typing import Any

from syncwright.connectors.stripe import payloads as sp
from syncwright.connectors.stripe.inbound import (
    stripe_address,
    stripe_currency,
    stripe_decimal_minor,
    stripe_money,
    stripe_ref,
    stripe_tax_ids,
)
from syncwright.mapping.transforms import TransformContext, register
from syncwright.model import Money

__all__: list[str] = []


@register("stripe.currency")
def currency(value: Any, ctx: TransformContext, /) -> str | None:
    """A Stripe currency (``usd``) as an ISO code syncwright carries (``USD``); empty -> null."""
    return stripe_currency(value, ctx.label) if value else None


@register("stripe.address")
def address(value: Any, ctx: TransformContext, /) -> dict[str, Any] | None:
    """A Stripe address as a canonical one: null when it has neither line1 nor city (a country
    alone is kept for tax); line1, city and country all needed otherwise."""
    parsed = sp.Address.model_validate(value) if value is not None else None
    return stripe_address(parsed, ctx.label)


@register("stripe.tax_ids")
def tax_ids(value: Any, ctx: TransformContext, /) -> list[dict[str, Any]]:
    """A customer's ``tax_ids`` list (present when retrieved with ``expand[]=tax_ids``) as
    canonical tax ids; absent -> none."""
    return stripe_tax_ids(value)


@register("stripe.money")
def money(value: Any, ctx: TransformContext, /, *, currency: str) -> Money | None:
    """A Stripe integer amount (its minor units) in ``currency`` as canonical Money (ISK's two
    Stripe decimals handled)."""
    return None if value is None else stripe_money(value, currency, ctx.label)


@register("stripe.ref")
def ref(value: Any, ctx: TransformContext, /, *, what: str, of_record: bool = True) -> str:
    """The id of an expandable reference (an id, or the expanded object); missing parks the
    delivery (``stripe.payload_invalid``, naming ``what``, after the record's label when
    ``of_record``)."""
    return stripe_ref(value, f"{ctx.label} {what}" if of_record else what)


@register("stripe.decimal_minor")
def decimal_minor(value: Any, ctx: TransformContext, /) -> int | None:
    """``unit_amount_decimal`` (text) as whole minor units; a fraction of a cent -> null."""
    return stripe_decimal_minor(value)
