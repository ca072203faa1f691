"""The Salesforce mapping's named transforms (``salesforce.<name>`` in a mapping file): the
rules a declaration cannot say, each with the business error and remediation a person needs.

``ctx.label`` names the record in messages (``Salesforce Opportunity 006... line 00k...``).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from syncwright.connectors._base.keyed_write import money_amount, option_value
from syncwright.errors import BusinessRuleError
from syncwright.mapping.transforms import TransformContext, register
from syncwright.mapping.transforms import clean_text as text
from syncwright.model import DealStage, Money

__all__ = ["mapping_error"]


def mapping_error(where: str, problem: str) -> BusinessRuleError:
    return BusinessRuleError(
        f"{where}: {problem}",
        code="salesforce.mapping_invalid",
        remediation="Correct the record in Salesforce so that it can be mapped (the message "
        "names the field), then retry this exception.",
    )


def _decimal(value: Any, where: str) -> Decimal:
    if isinstance(value, bool) or value is None:
        raise mapping_error(where, f"expected a number, got {value!r}")
    try:
        # JSON numbers arrive as floats; str() of a float is its shortest exact repr.
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
            code="salesforce.amount_fraction",
            remediation=f"Round the amount in Salesforce to whole {currency} minor units "
            "(check the field's decimal places), then retry this exception.",
        ) from exc


def _country(record: Mapping[str, Any], where: str) -> str | None:
    code = text(record.get("BillingCountryCode"))
    if code:
        return code.upper()
    country = text(record.get("BillingCountry"))
    if country is None:
        return None
    if len(country) == 2 and country.isalpha():
        return country.upper()
    raise BusinessRuleError(
        f"{where} has billing country {country!r}, not an ISO 3166 code",
        code="salesforce.country_unmapped",
        remediation="Enter the billing country as a two-letter ISO code (e.g. DE), or enable "
        "state and country/territory picklists in Salesforce so that BillingCountryCode is set; "
        "then retry this exception.",
    )


@register("salesforce.bill_to")
def bill_to(record: Mapping[str, Any], ctx: TransformContext, /) -> dict[str, Any] | None:
    """An Account's Billing* fields as a canonical address; null without street and city; an
    incomplete address (street or city or country missing) parks the record."""
    where = ctx.label
    street = text(record.get("BillingStreet"))
    city = text(record.get("BillingCity"))
    country = _country(record, where)
    if street is None and city is None:
        return None  # no address, or only a country: nothing a document can be sent to
    if street is None or city is None or country is None:
        missing = [
            name
            for name, value in (
                ("BillingStreet", street),
                ("BillingCity", city),
                ("BillingCountry", country),
            )
            if value is None
        ]
        raise BusinessRuleError(
            f"{where} has an incomplete billing address (missing {', '.join(missing)})",
            code="salesforce.address_incomplete",
            remediation="Complete the account's billing address in Salesforce (street, city and "
            "country), which sends a new change event; then resolve this exception.",
        )
    lines = [line.strip() for line in street.splitlines() if line.strip()]
    return {
        "line1": lines[0],
        "line2": ", ".join(lines[1:]) or None,
        "city": city,
        "region": text(record.get("BillingStateCode")) or text(record.get("BillingState")),
        "postal_code": text(record.get("BillingPostalCode")),
        "country": country,
    }


@register("salesforce.deal_stage")
def deal_stage(record: Mapping[str, Any], ctx: TransformContext, /) -> DealStage:
    """An Opportunity's stage: won (``IsWon``, else ``StageName`` in ``options.won_stages``),
    lost (closed, not won) or open."""
    won = record.get("IsWon")
    if won is None:
        won = record.get("StageName") in tuple(ctx.options.get("won_stages") or ())
    if won:
        return DealStage.CLOSED_WON
    return DealStage.CLOSED_LOST if record.get("IsClosed") else DealStage.OPEN


@register("salesforce.money")
def money(value: Any, ctx: TransformContext, /, *, currency: str, field: str) -> Money | None:
    """A currency field (decimal, major units) as Money in ``currency``."""
    if value is None:
        return None
    return _money(value, currency, f"{ctx.label} {field}")


@register("salesforce.quantity")
def quantity(value: Any, ctx: TransformContext, /) -> int:
    """An OpportunityLineItem's Quantity: a whole number >= 1."""
    where = ctx.label
    number = _decimal(value, f"{where} Quantity")
    if number != number.to_integral_value() or number < 1:
        raise BusinessRuleError(
            f"{where} has quantity {number}; canonical deal lines hold whole quantities >= 1",
            code="salesforce.quantity_fractional",
            remediation="Use a whole quantity on the opportunity product in Salesforce (express "
            "fractions in the product's unit), then retry this exception.",
        )
    return int(number)


@register("salesforce.unit_amount")
def unit_amount(
    line: Mapping[str, Any], ctx: TransformContext, /, *, currency: str, quantity: int
) -> Money:
    """What the customer pays per unit: UnitPrice, or for a discounted line its TotalPrice
    divided by the quantity (which must divide it evenly)."""
    here = ctx.label
    unit = _money(line.get("UnitPrice"), currency, f"{here} UnitPrice")
    discount = line.get("Discount")
    if discount not in (None, 0, 0.0) and line.get("TotalPrice") is not None:
        # A discounted line: the negotiated unit amount is what the customer pays per unit.
        total = _money(line.get("TotalPrice"), currency, f"{here} TotalPrice")
        if total.amount_minor % quantity:
            raise BusinessRuleError(
                f"{here}: a {discount}% discount on {quantity} units leaves a total of {total} "
                "that is not a whole amount per unit",
                code="salesforce.discount_uneven",
                remediation="Put the discount into the opportunity product's sales price instead "
                "of the Discount field (or pick a quantity it divides evenly), then retry this "
                "exception.",
            )
        unit = Money.of(total.amount_minor // quantity, currency)
    return unit


# -- outbound: update_account_billing (mappings/outbound.yaml) --------------------------------


@register("salesforce.picklist")
def picklist(
    value: Any, ctx: TransformContext, /, *, values: Mapping[str, Any], key: str, option: str
) -> str | None:
    """A canonical code -> the picklist value ``values`` (``options.<option>``) gives it."""
    return option_value(value, values, where=ctx.label, key=key, option=option, vendor="salesforce")


@register("salesforce.currency_amount")
def currency_amount(
    value: Any, ctx: TransformContext, /, *, key: str, currency: str | None
) -> float | None:
    """Canonical Money -> a currency field's number in major units, refused unless the Account
    holds amounts in that currency (``currency``: its CurrencyIsoCode, or the connection's
    ``default_currency``; unknown: any)."""
    amount = money_amount(value, where=ctx.label, key=key, currency=currency, vendor="salesforce")
    # JSON numbers: the float's repr is the exact decimal for any amount below 2**53 minor units.
    return None if amount is None else float(amount)
