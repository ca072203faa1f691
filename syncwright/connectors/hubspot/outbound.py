"""Actions on HubSpot, written as engine steps: ``(StepContext, connection, *args) -> JSON``.

- :func:`read_account`, :func:`read_deal`: content enrichers -- the canonical Account or Deal as
  HubSpot holds it now.
- :func:`update_account_billing`: billing and ERP facts onto the company (subscription status,
  ACV, ERP id, last invoice, renewal forecast, payment standing), as custom company properties
  (group ``syncwright``); keys, properties and value conversions are the connection's outbound
  mapping (``mappings/outbound.yaml``, ``hubspot_outbound``; ``options.billing_properties``
  renames a property). A PATCH of absolute values, and only of those that differ from what the
  company holds (read first): a retry writes nothing new and causes no webhook;
  :func:`probe_account_billing` reads them back after an uncertain outcome. The properties it
  writes feed no canonical account field, so their webhooks start no sync.

Each step returns a ``ledger`` block whose mapping version is the outbound mapping in effect.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from syncwright.connectors import (
    connector_for,
    differing,
    partial_write_result,
)
from syncwright.connectors._base.keyed_write import KeyedFields, keyed_fields
from syncwright.connectors._base.linked import linked_native_id
from syncwright.connectors.hubspot.inbound import account_from_record, deal_from_records
from syncwright.engine import StepContext
from syncwright.errors import BusinessRuleError

if TYPE_CHECKING:  # the connector imports this module to declare its actions
    from syncwright.connectors.hubspot.connector import HubSpotConnector

__all__ = [
    "BILLING_ENTITY",
    "billing_body",
    "billing_properties",
    "probe_account_billing",
    "read_account",
    "read_deal",
    "update_account_billing",
    "withdraw_account_billing",
]

JSON = dict[str, Any]
# The mapping entity that turns update_account_billing's fields into a company Update body.
BILLING_ENTITY = "company_billing"


def _connector(ctx: StepContext, connection: str) -> HubSpotConnector:
    from syncwright.connectors.hubspot.connector import HubSpotConnector  # imports us

    return connector_for(ctx, connection, HubSpotConnector, label="HubSpot")


def _native_id(ctx: StepContext, entity_type: str, global_id: str, connection: str) -> str:
    return linked_native_id(
        ctx, entity_type, global_id, connection, vendor="hubspot", label="HubSpot"
    )


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


def billing_properties(connector: HubSpotConnector) -> KeyedFields:
    """The keys the connection's outbound mapping writes, their company properties (renamed by
    ``options.billing_properties``) and which of them must exist."""
    return keyed_fields(
        connector.mapping("outbound"),
        BILLING_ENTITY,
        connection=connector.name,
        renamed=connector.options.billing_properties or {},
        rename_option="billing_properties",
    )


def billing_body(
    connector: HubSpotConnector, native_id: str, fields: Mapping[str, Any]
) -> tuple[dict[str, str], list[str], str]:
    """The company properties for ``fields`` (HubSpot values are strings; ``""`` clears one),
    the optional keys skipped because the portal lacks their property, and the
    ``name@version`` of the mapping that shaped them."""
    if not isinstance(fields, Mapping):
        raise BusinessRuleError(
            f"update_account_billing takes a dict of fields, got {type(fields).__name__}",
            code="hubspot.billing_value_invalid",
            remediation="Fix the workflow that calls update_account_billing, then retry.",
        )
    declared = billing_properties(connector)
    names = declared.names
    known = connector.client.property_names("companies")
    if any(names.get(key) not in known for key in fields):
        # An admin may have created the property since the last read.
        known = connector.client.property_names("companies", fresh=True)
    given: dict[str, str] = {}
    skipped: list[str] = []
    for key in fields:
        prop = names.get(key)
        if prop is None:
            raise BusinessRuleError(
                f"update_account_billing got field {key!r}; it writes {', '.join(sorted(names))}",
                code="hubspot.billing_field_unknown",
                remediation="A workflow passed a field this action does not write; fix the "
                "workflow (or add the key to the HubSpot outbound mapping), then retry this "
                "exception.",
            )
        if prop in known:
            given[key] = prop
        elif key in declared.required:
            raise BusinessRuleError(
                f"HubSpot companies have no property {prop} (for {key})",
                code="hubspot.property_missing",
                remediation=f"Create the company property {prop} in HubSpot (Settings > "
                f"Properties), or name another in options.billing_properties.{key}; then retry "
                "this exception.",
            )
        else:
            skipped.append(key)
    if not given:
        return {}, skipped, declared.mapping.ref
    options = declared.mapping.options
    mapped = declared.mapping.apply(
        BILLING_ENTITY,
        {key: fields[key] for key in given},
        options={
            "company_id": native_id,
            "portal_currency": connector.inbound_options.default_currency,
            # The connection's option values add to (or override) the mapping's.
            "subscription_status_values": {
                **(options.get("subscription_status_values") or {}),
                **(connector.options.subscription_status_values or {}),
            },
        },
    )
    body = {}
    for key, prop in given.items():
        value = mapped.get(declared.targets[key])
        body[prop] = "" if value is None else str(value)
    return body, skipped, declared.mapping.ref


def _same(written: str, found: Any) -> bool:
    found_text = "" if found is None else str(found)
    if written == found_text:
        return True
    try:
        return Decimal(written) == Decimal(found_text)
    except InvalidOperation:
        return False


def _compare(
    ctx: StepContext, connection: str, account_id: str, fields: Mapping[str, Any]
) -> tuple[HubSpotConnector, str, dict[str, str], list[str], dict[str, str], str]:
    """``(connector, company id, body, skipped keys, the part of body the company does not
    hold yet, mapping ref)`` -- read first, so that a write sends only what differs and a
    probe can tell."""
    connector = _connector(ctx, connection)
    native = _native_id(ctx, "account", account_id, connection)
    body, skipped, ref = billing_body(connector, native, fields)
    held: dict[str, Any] = {}
    if body:
        held = connector.client.get("companies", native, list(body)).get("properties") or {}
    return connector, native, body, skipped, differing(body, held, _same), ref


def update_account_billing(
    ctx: StepContext, connection: str, account_id: str, fields: Mapping[str, Any]
) -> JSON:
    """Write billing facts onto the HubSpot company of ``account_id``.

    ``fields`` keys are those the connection's outbound mapping declares (shipped:
    ``mappings/outbound.yaml``, ``hubspot_outbound``): ``subscription_status`` (canonical),
    Money keys (``acv``, ``renewal_amount``, ``balance_due``, ``last_payment_amount``,
    ``last_refund_amount``; written
    in major units of the portal's currency), the rest as text. ``None`` clears a property.
    Keys other than the mapping's ``required_keys`` are skipped when the portal lacks their
    property. Only properties whose value differs are sent (``written``).
    https://developers.hubspot.com/docs/api/crm/companies (Update)"""
    connector, native, _, skipped, changed, ref = _compare(ctx, connection, account_id, fields)
    if changed:
        connector.client.update("companies", native, changed)
    return partial_write_result(
        connection, "account", account_id, native, changed, skipped, mapping_version=ref
    )


def probe_account_billing(
    ctx: StepContext, connection: str, account_id: str, fields: Mapping[str, Any]
) -> JSON | None:
    """After an uncertain write: does the company hold exactly these values now?"""
    _, native, body, skipped, changed, ref = _compare(ctx, connection, account_id, fields)
    if changed:
        return None
    return partial_write_result(
        connection, "account", account_id, native, body, skipped, mapping_version=ref
    )


def withdraw_account_billing(
    ctx: StepContext, result: JSON, connection: str, account_id: str, fields: Mapping[str, Any]
) -> None:
    """Compensation for :func:`update_account_billing` when the onboarding it belonged to was
    rolled back: the company shows the subscription as cancelled and no contract value."""
    update_account_billing(
        ctx, connection, account_id, {"subscription_status": "cancelled", "acv": None}
    )
