"""The HubSpot mapping's named transforms (``hubspot.<name>`` in a mapping file): the rules a
declaration cannot say, each with the business error and remediation a person needs.

HubSpot holds every property as a string; numbers arrive as ``"1200.5"``.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from syncwright.connectors._base.keyed_write import money_amount, option_value
from syncwright.errors import BusinessRuleError
from syncwright.mapping.transforms import TransformContext, register
from syncwright.mapping.transforms import clean_text as text
from syncwright.model import ContactRole, DealStage, Money

__all__ = ["mapping_error"]


def mapping_error(where: str, problem: str) -> BusinessRuleError:
    return BusinessRuleError(
        f"{where}: {problem}",
        code="hubspot.mapping_invalid",
        remediation="Correct the record in HubSpot so that it can be mapped (the message names "
        "the property), then retry this exception.",
    )


def _decimal(value: Any, where: str) -> Decimal:
    if isinstance(value, bool) or value in (None, ""):
        raise mapping_error(where, f"expected a number, got {value!r}")
    try:
        return Decimal(str(value))
    except InvalidOperation as exc:
        raise mapping_error(where, f"expected a number, got {value!r}") from exc


def _money(value: Any, currency: str, where: str) -> Money:
    amount = _decimal(value, where)
    try:
        return Money.from_decimal_string(format(amount, "f"), currency)
    except ValueError as exc:
        raise BusinessRuleError(
            f"{where}: {amount} {currency} has more decimals than {currency} has minor units",
            code="hubspot.amount_fraction",
            remediation=f"Round the amount in HubSpot to whole {currency} minor units, then "
            "retry this exception.",
        ) from exc


@register("hubspot.bill_to")
def bill_to(props: Mapping[str, Any], ctx: TransformContext, /) -> dict[str, Any] | None:
    """A company's address properties as a canonical address; null without street and city;
    an incomplete one (street, city or country missing) parks the record. HubSpot's ``country``
    is free text: a two-letter ISO code is required here."""
    where = ctx.label
    street, city = text(props.get("address")), text(props.get("city"))
    country = text(props.get("country"))
    if street is None and city is None:
        return None
    missing = [
        name
        for name, value in (("address", street), ("city", city), ("country", country))
        if value is None
    ]
    if missing:
        raise BusinessRuleError(
            f"{where} has an incomplete address (missing {', '.join(missing)})",
            code="hubspot.address_incomplete",
            remediation="Complete the company's address in HubSpot (street address, city and "
            "country), which sends a new webhook; then resolve this exception.",
        )
    assert country is not None
    if not (len(country) == 2 and country.isalpha()):
        raise BusinessRuleError(
            f"{where} has country {country!r}, not an ISO 3166 code",
            code="hubspot.country_unmapped",
            remediation="Enter the company's country as a two-letter ISO code (e.g. DE) in "
            "HubSpot, then retry this exception.",
        )
    return {
        "line1": street,
        "line2": text(props.get("address2")),
        "city": city,
        "region": text(props.get("state")),
        "postal_code": text(props.get("zip")),
        "country": country.upper(),
    }


@register("hubspot.deal_stage")
def deal_stage(props: Mapping[str, Any], ctx: TransformContext, /) -> DealStage:
    """A deal's stage: won when ``dealstage`` is one of ``options.won_stages``, lost when
    HubSpot marks it closed otherwise, else open."""
    if props.get("dealstage") in tuple(ctx.options.get("won_stages") or ()):
        return DealStage.CLOSED_WON
    closed = str(props.get("hs_is_closed") or "").lower() == "true"
    return (
        DealStage.CLOSED_LOST
        if closed or props.get("dealstage") == "closedlost"
        else (DealStage.OPEN)
    )


@register("hubspot.quantity")
def quantity(value: Any, ctx: TransformContext, /) -> int:
    """A line item's quantity: a whole number >= 1."""
    where = ctx.label
    number = _decimal(value, f"{where} quantity")
    if number != number.to_integral_value() or number < 1:
        raise BusinessRuleError(
            f"{where} has quantity {number}; canonical deal lines hold whole quantities >= 1",
            code="hubspot.quantity_fractional",
            remediation="Use a whole quantity on the line item in HubSpot (express fractions "
            "in the product's unit), then retry this exception.",
        )
    return int(number)


@register("hubspot.unit_amount")
def unit_amount(
    props: Mapping[str, Any], ctx: TransformContext, /, *, currency: str, quantity: int
) -> Money:
    """What the customer pays per unit: ``price``, or for a discounted line its ``amount``
    (HubSpot's net total) divided by the quantity, which must divide it evenly."""
    here = ctx.label
    unit = _money(props.get("price"), currency, f"{here} price")
    discounted = any(
        props.get(key) not in (None, "", "0", "0.0")
        for key in ("discount", "hs_discount_percentage")
    )
    if discounted and props.get("amount") not in (None, ""):
        total = _money(props.get("amount"), currency, f"{here} amount")
        if total.amount_minor % quantity:
            raise BusinessRuleError(
                f"{here}: a discount on {quantity} units leaves a total of {total} that is not "
                "a whole amount per unit",
                code="hubspot.discount_uneven",
                remediation="Put the discount into the line item's unit price instead (or pick "
                "a quantity it divides evenly), then retry this exception.",
            )
        unit = Money.of(total.amount_minor // quantity, currency)
    return unit


@register("hubspot.option")
def option(
    value: Any, ctx: TransformContext, /, *, values: Mapping[str, Any], key: str, option: str
) -> str | None:
    """A canonical code -> the option value of an enumeration property (``options.<option>``)."""
    return option_value(value, values, where=ctx.label, key=key, option=option, vendor="hubspot")


@register("hubspot.amount")
def amount(value: Any, ctx: TransformContext, /, *, key: str, currency: str | None) -> str | None:
    """Canonical Money -> a number property's text in major units (``"12000.50"``). A number
    property holds no currency: it is the portal's (``currency``; unknown: any)."""
    found = money_amount(value, where=ctx.label, key=key, currency=currency, vendor="hubspot")
    return None if found is None else format(found, "f")


@register("hubspot.contact_roles")
def contact_roles(value: Any, ctx: TransformContext, /) -> list[str]:
    """A multiple checkboxes value (``"billing;technical"``) -> canonical contact roles."""
    chosen = [part.strip().lower() for part in str(value or "").split(";") if part.strip()]
    known = {role.value for role in ContactRole}
    unknown = [part for part in chosen if part not in known]
    if unknown:
        raise mapping_error(
            ctx.label,
            f"syncwright_contact_roles has {', '.join(unknown)}; roles are "
            + ", ".join(sorted(known)),
        )
    return chosen
