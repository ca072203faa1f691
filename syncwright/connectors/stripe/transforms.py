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
    stripe_period,
    stripe_ref,
    stripe_tax_ids,
    stripe_unit_amount,
)
from syncwright.mapping.transforms import TransformContext, register
from syncwright.model import BillingFrequency, BillingPeriod, Money

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


@register("stripe.frequency")
def frequency(value: Any, ctx: TransformContext, /) -> BillingFrequency | None:
    """A recurring Stripe price's interval as a canonical frequency (every interval Stripe
    allows has one: ``custom`` for weekly, daily, every 2 years, ...); a one-time price parks
    (``stripe.interval_unsupported``); no price -> null."""
    if value is None:
        return None
    return stripe_period(sp.Price.model_validate(value), ctx.label).frequency


@register("stripe.custom_period")
def custom_period(value: Any, ctx: TransformContext, /) -> BillingPeriod | None:
    """A recurring Stripe price's exact period when no named frequency says it (weekly, every
    2 years); null for monthly, quarterly, semiannual and annual prices (and no price)."""
    if value is None:
        return None
    period = stripe_period(sp.Price.model_validate(value), ctx.label)
    return period if period.frequency is BillingFrequency.CUSTOM else None


@register("stripe.unit_amount")
def unit_amount(value: Any, ctx: TransformContext, /) -> Money | None:
    """A per-unit Stripe price's amount as canonical Money; tiered, custom and fractional-cent
    prices park (``stripe.price_not_per_unit``); no price -> null."""
    if value is None:
        return None
    return stripe_unit_amount(sp.Price.model_validate(value), ctx.label)
