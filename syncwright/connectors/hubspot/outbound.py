"""Actions on HubSpot, written as engine steps: ``(StepContext, connection, *args) -> JSON``.

- :func:`read_account`, :func:`read_deal`: content enrichers -- the canonical Account or Deal as
  HubSpot holds it now.
- :func:`update_account_billing`: billing and ERP facts onto the company (subscription status,
  ACV, ERP id, last invoice), as custom company properties (group ``syncwright``; names in
  ``options.billing_properties``). A PATCH of absolute values, and only of those that differ
  from what the company holds (read first): a retry writes nothing new and causes no webhook;
  :func:`probe_account_billing` reads them back after an uncertain outcome. The properties it
  writes feed no canonical account field, so their webhooks start no sync.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from syncwright.connectors import connector_for, ledger_block
from syncwright.connectors.hubspot.inbound import account_from_record, deal_from_records
from syncwright.engine import StepContext
from syncwright.errors import BusinessRuleError
from syncwright.model import Money

if TYPE_CHECKING:  # the connector imports this module to declare its actions
    from syncwright.connectors.hubspot.connector import HubSpotConnector

__all__ = [
    "BILLING_PROPERTIES",
    "OPTIONAL_BILLING_PROPERTIES",
    "SUBSCRIPTION_STATUS_VALUES",
    "probe_account_billing",
    "read_account",
    "read_deal",
    "update_account_billing",
    "withdraw_account_billing",
]

JSON = dict[str, Any]
MAPPING_VERSION = "hubspot/1"

# Keys of ``update_account_billing(fields=...)`` -> default company property names.
BILLING_PROPERTIES: Mapping[str, str] = {
    "subscription_status": "syncwright_subscription_status",
    "acv": "syncwright_acv",
    "erp_id": "syncwright_erp_id",
    "last_invoice_number": "syncwright_last_invoice_number",
    "last_invoice_status": "syncwright_last_invoice_status",
    # Lifecycle facts (docs/lifecycle.md) and the facts the ERP owns (docs/erp-source.md).
    "product_summary": "syncwright_product_summary",
    "renewal_date": "syncwright_renewal_date",
    "renewal_amount": "syncwright_renewal_amount",
    "cancel_date": "syncwright_cancel_date",
    "standing": "syncwright_standing",
    "balance_due": "syncwright_balance_due",
    "last_payment_date": "syncwright_last_payment_date",
    "last_payment_amount": "syncwright_last_payment_amount",
    "last_refund_date": "syncwright_last_refund_date",
    "last_refund_amount": "syncwright_last_refund_amount",
    "legal_name": "syncwright_legal_name",
    "tax_id": "syncwright_tax_id",
    "credit_status": "syncwright_credit_status",
    "payment_terms": "syncwright_payment_terms",
}
# Keys whose property a portal may lack: skipped (and named in the result), never parked.
OPTIONAL_BILLING_PROPERTIES = frozenset(BILLING_PROPERTIES) - {
    "subscription_status",
    "acv",
    "erp_id",
}
# Canonical Money values, written in major units of the portal's currency.
MONEY_KEYS = frozenset(
    {"acv", "renewal_amount", "balance_due", "last_payment_amount", "last_refund_amount"}
)
# Canonical snake_case values shown as words ("past_due" -> "Past Due").
WORDED_KEYS = frozenset({"last_invoice_status", "standing", "credit_status"})
SUBSCRIPTION_STATUS_VALUES: Mapping[str, str] = {
    "trialing": "Trial",
    "active": "Active",
    "past_due": "Past Due",
    "cancelled": "Cancelled",
    "expired": "Cancelled",
}


def _connector(ctx: StepContext, connection: str) -> HubSpotConnector:
    from syncwright.connectors.hubspot.connector import HubSpotConnector  # imports us

    return connector_for(ctx, connection, HubSpotConnector, label="HubSpot")


def _native_id(ctx: StepContext, entity_type: str, global_id: str, connection: str) -> str:
    native = ctx.services.xref.native_id_for(entity_type, global_id, connection)
    if native is None:
        raise BusinessRuleError(
            f"{entity_type} {global_id} has no HubSpot record on connection {connection!r}",
            code=f"hubspot.{entity_type}_unlinked",
            remediation=f"The {entity_type} is not linked to a HubSpot record on this "
            "connection (it did not come from this portal, or was never matched). Link it in "
            "the cross-reference or check the event's source (syncwright trace), then retry.",
        )
    return str(native)


def read_account(ctx: StepContext, connection: str, account_id: str) -> JSON:
    """The canonical account behind ``account_id``, read from its HubSpot company.
    https://developers.hubspot.com/docs/api/crm/companies"""
    connector = _connector(ctx, connection)
    record = connector.reader.company(_native_id(ctx, "account", account_id, connection))
    account = account_from_record(
        record,
        ctx.services.xref,
        connection=connection,
        options=connector.inbound_options,
        mapping=connector.mapping("inbound"),
    )
    return account.model_dump(mode="json")


def read_deal(ctx: StepContext, connection: str, deal_id: str) -> JSON:
    """The canonical deal behind ``deal_id``: the deal, its company, contact and line items.
    https://developers.hubspot.com/docs/api/crm/deals"""
    connector = _connector(ctx, connection)
    record = connector.reader.deal(_native_id(ctx, "deal", deal_id, connection))
    deal = deal_from_records(
        record,
        ctx.services.xref,
        connection=connection,
        options=connector.inbound_options,
        mapping=connector.mapping("inbound"),
    )
    return deal.model_dump(mode="json")


# -- update_account_billing --------------------------------------------------------------------


def _status_value(connector: HubSpotConnector, value: Any) -> str:
    if value is None:
        return ""
    found: str | None = connector.subscription_status_values.get(str(value))
    if found is None:
        raise BusinessRuleError(
            f"subscription status {value!r} has no option of the company status property",
            code="hubspot.status_unmapped",
            remediation=f"Add options.subscription_status_values.{value}: <option value> to the "
            "HubSpot connection (and the option to the property), then retry this exception.",
        )
    return found


def _money(connector: HubSpotConnector, key: str, value: Any) -> str:
    if value is None:
        return ""
    try:
        money = Money.model_validate(value)
    except ValidationError as exc:
        raise BusinessRuleError(
            f"{key} must be a Money object (amount_minor, currency), got {value!r}",
            code="hubspot.billing_value_invalid",
            remediation=f"Fix the workflow that passes {key}, then retry this exception.",
        ) from exc
    # A number property holds no currency: it is the portal's company currency.
    expected = connector.inbound_options.default_currency
    if expected and expected.upper() != money.currency:
        raise BusinessRuleError(
            f"{key} is in {money.currency} but the HubSpot portal's currency is {expected}",
            code="hubspot.currency_mismatch",
            remediation=f"Convert {key} in the workflow, or correct options.default_currency "
            "of the HubSpot connection, then retry this exception.",
        )
    return format(money.to_decimal(), "f")


def billing_body(
    connector: HubSpotConnector, fields: Mapping[str, Any]
) -> tuple[dict[str, str], list[str]]:
    """The company properties for ``fields`` (HubSpot values are strings; ``""`` clears one)
    and the optional keys skipped because the portal lacks their property."""
    if not isinstance(fields, Mapping):
        raise BusinessRuleError(
            f"update_account_billing takes a dict of fields, got {type(fields).__name__}",
            code="hubspot.billing_value_invalid",
            remediation="Fix the workflow that calls update_account_billing, then retry.",
        )
    names = connector.billing_properties
    known = connector.client.property_names("companies")
    if any(names.get(key) not in known for key in fields):
        # An admin may have created the property since the last read.
        known = connector.client.property_names("companies", fresh=True)
    body: dict[str, str] = {}
    skipped: list[str] = []
    for key, value in fields.items():
        prop = names.get(key)
        if prop is None:
            raise BusinessRuleError(
                f"update_account_billing got field {key!r}; it writes {', '.join(sorted(names))}",
                code="hubspot.billing_field_unknown",
                remediation="A workflow passed a field this action does not write; fix the "
                "workflow (or map it in options.billing_properties), then retry this exception.",
            )
        if prop not in known:
            if key in OPTIONAL_BILLING_PROPERTIES:
                skipped.append(key)
                continue
            raise BusinessRuleError(
                f"HubSpot companies have no property {prop} (for {key})",
                code="hubspot.property_missing",
                remediation=f"Create the company property {prop} in HubSpot (Settings > "
                f"Properties), or name another in options.billing_properties.{key}; then retry "
                "this exception.",
            )
        if key == "subscription_status":
            body[prop] = _status_value(connector, value)
        elif key in MONEY_KEYS:
            body[prop] = _money(connector, key, value)
        elif key in WORDED_KEYS:
            body[prop] = "" if value is None else str(value).replace("_", " ").title()
        else:
            body[prop] = "" if value is None else str(value)
    return body, skipped


def _same(written: str, found: Any) -> bool:
    found_text = "" if found is None else str(found)
    if written == found_text:
        return True
    try:
        return Decimal(written) == Decimal(found_text)
    except InvalidOperation:
        return False


def _result(connection: str, account_id: str, native: str, body: JSON, skipped: list[str]) -> JSON:
    return {
        "native_id": native,
        "written": body,
        "skipped": skipped,
        "ledger": ledger_block(
            connection, "account", account_id, native, body, mapping_version=MAPPING_VERSION
        ),
    }


def _compare(
    ctx: StepContext, connection: str, account_id: str, fields: Mapping[str, Any]
) -> tuple[HubSpotConnector, str, dict[str, str], list[str], dict[str, str]]:
    """``(connector, company id, body, skipped keys, the part of body the company does not
    hold yet)`` -- read first, so that a write sends only what differs and a probe can tell."""
    connector = _connector(ctx, connection)
    native = _native_id(ctx, "account", account_id, connection)
    body, skipped = billing_body(connector, fields)
    held: dict[str, Any] = {}
    if body:
        held = connector.client.get("companies", native, list(body)).get("properties") or {}
    differing = {name: value for name, value in body.items() if not _same(value, held.get(name))}
    return connector, native, body, skipped, differing


def update_account_billing(
    ctx: StepContext, connection: str, account_id: str, fields: Mapping[str, Any]
) -> JSON:
    """Write billing facts onto the HubSpot company of ``account_id``.

    ``fields`` keys: those of :data:`BILLING_PROPERTIES` -- ``subscription_status``
    (canonical), Money keys (:data:`MONEY_KEYS`, written in major units), the rest as text.
    ``None`` clears a property. All but ``subscription_status``, ``acv`` and ``erp_id`` are
    skipped when the portal lacks their property. Only properties whose value differs are sent
    (``written``).
    https://developers.hubspot.com/docs/api/crm/companies (Update)"""
    connector, native, _, skipped, differing = _compare(ctx, connection, account_id, fields)
    if differing:
        connector.client.update("companies", native, differing)
    return _result(connection, account_id, native, differing, skipped)


def probe_account_billing(
    ctx: StepContext, connection: str, account_id: str, fields: Mapping[str, Any]
) -> JSON | None:
    """After an uncertain write: does the company hold exactly these values now?"""
    _, native, body, skipped, differing = _compare(ctx, connection, account_id, fields)
    return None if differing else _result(connection, account_id, native, body, skipped)


def withdraw_account_billing(
    ctx: StepContext, result: JSON, connection: str, account_id: str, fields: Mapping[str, Any]
) -> None:
    """Compensation for :func:`update_account_billing` when the onboarding it belonged to was
    rolled back: the company shows the subscription as cancelled and no contract value."""
    update_account_billing(
        ctx, connection, account_id, {"subscription_status": "cancelled", "acv": None}
    )
