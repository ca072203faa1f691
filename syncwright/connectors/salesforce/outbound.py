"""Actions on Salesforce, written as engine steps: ``(StepContext, connection, *args) -> JSON``.

- :func:`read_account`, :func:`read_deal`: content enrichers -- the canonical Account or Deal as
  Salesforce holds it now (for a workflow that needs a record whose own event it never saw).
- :func:`update_account_billing`: billing and ERP facts onto the CRM account (subscription
  status, ACV, ERP id, last invoice, renewal forecast, payment standing), so sales sees them;
  keys, fields and value conversions are the connection's outbound mapping
  (``mappings/outbound.yaml``). A PATCH of absolute values, and only
  of those that differ from what the Account holds (read first): sending the same values again
  writes nothing, so a retry is harmless and causes no change event;
  :func:`probe_account_billing` reads the fields back after an uncertain outcome. The write
  carries ``Sforce-Call-Options: client=<client name>``, so the change event it causes is
  recognised as ours and not synced back (see ``inbound.py``); and the fields it writes feed no
  canonical account field, so even without that header they start no sync.

Each step returns a ``ledger`` block (connection, entity type, global id, native ids, request
digest, mapping version).
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
from syncwright.connectors.salesforce.inbound import account_from_record, deal_from_records
from syncwright.engine import StepContext
from syncwright.errors import BusinessRuleError

if TYPE_CHECKING:  # the connector imports this module to declare its actions
    from syncwright.connectors.salesforce.connector import SalesforceConnector

__all__ = [
    "BILLING_ENTITY",
    "BillingFields",
    "billing_fields",
    "probe_account_billing",
    "read_account",
    "read_deal",
    "update_account_billing",
]

JSON = dict[str, Any]
# The mapping entity that turns update_account_billing's fields into an Account PATCH body.
BILLING_ENTITY = "account_billing"


# What the connection's outbound mapping declares for update_account_billing.
BillingFields = KeyedFields


# -- plumbing ---------------------------------------------------------------------------------


def _connector(ctx: StepContext, connection: str) -> SalesforceConnector:
    from syncwright.connectors.salesforce.connector import SalesforceConnector  # imports us

    return connector_for(ctx, connection, SalesforceConnector, label="Salesforce")


def _native_id(ctx: StepContext, entity_type: str, global_id: str, connection: str) -> str:
    return linked_native_id(
        ctx, entity_type, global_id, connection, vendor="salesforce", label="Salesforce"
    )


# -- reads (content enrichers) ----------------------------------------------------------------


def read_account(ctx: StepContext, connection: str, account_id: str) -> JSON:
    """The canonical account behind ``account_id``, read from its Salesforce Account.
    https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_sobject_retrieve.htm
    """
    connector = _connector(ctx, connection)
    native = _native_id(ctx, "account", account_id, connection)
    record = connector.reader.account(native)
    account = account_from_record(
        record,
        ctx.services.xref,
        connection=connection,
        options=connector.inbound_options,
        mapping=connector.mapping("inbound"),
    )
    return account.model_dump(mode="json")


def read_deal(ctx: StepContext, connection: str, deal_id: str) -> JSON:
    """The canonical deal behind ``deal_id``: its Opportunity and OpportunityLineItems."""
    connector = _connector(ctx, connection)
    native = _native_id(ctx, "deal", deal_id, connection)
    opportunity, lines = connector.reader.opportunity(native)
    deal = deal_from_records(
        opportunity,
        lines,
        ctx.services.xref,
        connection=connection,
        options=connector.inbound_options,
        mapping=connector.mapping("inbound"),
    )
    return deal.model_dump(mode="json")


# -- update_account_billing -------------------------------------------------------------------


def billing_fields(connector: SalesforceConnector) -> BillingFields:
    """The keys the connection's outbound mapping writes, their Account fields (renamed by
    ``options.billing_fields``) and which of them must exist."""
    return keyed_fields(
        connector.mapping("outbound"),
        BILLING_ENTITY,
        connection=connector.name,
        renamed=connector.billing_field_names,
        rename_option="billing_fields",
    )


def _unknown_key(key: str, names: Mapping[str, str]) -> BusinessRuleError:
    return BusinessRuleError(
        f"update_account_billing got field {key!r}; it writes {', '.join(sorted(names))}",
        code="salesforce.billing_field_unknown",
        remediation="A workflow passed a field this action does not write; fix the workflow "
        "(or add the key to the Salesforce outbound mapping), then retry this exception.",
    )


def _mapping_options(
    connector: SalesforceConnector, declared: BillingFields, native_id: str, currency: str | None
) -> dict[str, Any]:
    options = declared.mapping.options
    return {
        "account_id": native_id,
        "account_currency": currency,
        # The connection's picklist values add to (or override) the mapping's.
        "subscription_status_values": {
            **(options.get("subscription_status_values") or {}),
            **connector.subscription_status_values,
        },
        "standing_values": {
            **(options.get("standing_values") or {}),
            **connector.standing_values,
        },
    }


def billing_body(
    connector: SalesforceConnector, native_id: str, fields: Mapping[str, Any]
) -> tuple[dict[str, Any], list[str], str]:
    """The Account PATCH body for ``fields``, the optional keys skipped because the org lacks
    their field, and the ``name@version`` of the mapping that shaped it."""
    if not isinstance(fields, Mapping):
        raise BusinessRuleError(
            f"update_account_billing takes a dict of fields, got {type(fields).__name__}",
            code="salesforce.billing_value_invalid",
            remediation="Fix the workflow that calls update_account_billing, then retry.",
        )
    declared = billing_fields(connector)
    known = connector.client.field_names("Account")
    given: dict[str, str] = {}
    skipped: list[str] = []
    for key in fields:
        sf_field = declared.names.get(key)
        if sf_field is None:
            raise _unknown_key(key, declared.names)
        if sf_field in known:
            given[key] = sf_field
        elif key in declared.required:
            raise BusinessRuleError(
                f"Salesforce Account has no field {sf_field} (for {key})",
                code="salesforce.field_missing",
                remediation=f"Create the custom field {sf_field} on Account in Salesforce "
                "(Setup > Object Manager), give the integration user edit access, or name "
                f"another field in options.billing_fields.{key}; then retry this exception.",
            )
        else:
            skipped.append(key)
    if not given:
        return {}, skipped, declared.mapping.ref
    currency = connector.inbound_options.default_currency
    if "CurrencyIsoCode" in known:
        record = connector.client.get("Account", native_id, ["CurrencyIsoCode"])
        currency = record.get("CurrencyIsoCode") or currency
    mapped = declared.mapping.apply(
        BILLING_ENTITY,
        {key: fields[key] for key in given},
        options=_mapping_options(connector, declared, native_id, currency),
    )
    body = {sf_field: mapped.get(declared.targets[key]) for key, sf_field in given.items()}
    return body, skipped, declared.mapping.ref


def update_account_billing(
    ctx: StepContext, connection: str, account_id: str, fields: Mapping[str, Any]
) -> JSON:
    """Write billing facts onto the Salesforce Account of ``account_id``.

    ``fields`` keys are those the connection's outbound mapping declares (shipped:
    ``mappings/outbound.yaml``, ``salesforce_outbound``): ``subscription_status`` (a canonical
    subscription status), ``acv`` (canonical Money; written in major units), ``erp_id``,
    ``last_invoice_number``, ``last_invoice_status`` (a canonical invoice status), and the
    lifecycle keys ``product_summary``, ``renewal_date``, ``renewal_amount``, ``cancel_date``,
    ``standing`` (``current``/``past_due``/``suspended``), ``balance_due``,
    ``last_payment_date``, ``last_payment_amount``, ``last_refund_date``,
    ``last_refund_amount`` (dates as ISO text, amounts as Money).
    ``None`` clears a field. Keys other than the mapping's ``required_keys`` are skipped when
    the org has no such field. Only fields
    whose value differs from the Account's are sent (``written`` in the result); none
    differing, nothing is sent.
    https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/dome_update_fields.htm
    """
    connector = _connector(ctx, connection)
    native = _native_id(ctx, "account", account_id, connection)
    body, skipped, mapping_ref = billing_body(connector, native, fields)
    changed = _changed(connector, native, body)
    if changed:
        # Only what differs: an unchanged field is not rewritten (no change event, no echo).
        connector.client.update("Account", native, changed)
    return partial_write_result(
        connection, "account", account_id, native, changed, skipped, mapping_version=mapping_ref
    )


def _changed(connector: SalesforceConnector, native_id: str, body: JSON) -> JSON:
    """The part of ``body`` the Account does not hold yet.
    https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/dome_get_field_values.htm
    """
    if not body:
        return {}
    return differing(body, connector.client.get("Account", native_id, list(body)), _same)


def _same(written: Any, found: Any) -> bool:
    if isinstance(written, float) or isinstance(found, float | int):
        if written is None or found is None or isinstance(found, bool):
            return written is None and found is None
        try:
            return Decimal(str(written)) == Decimal(str(found))
        except InvalidOperation:
            return False
    return bool(written == found)


def probe_account_billing(
    ctx: StepContext, connection: str, account_id: str, fields: Mapping[str, Any]
) -> JSON | None:
    """After an uncertain write: does the Account hold exactly these values now?"""
    connector = _connector(ctx, connection)
    native = _native_id(ctx, "account", account_id, connection)
    body, skipped, mapping_ref = billing_body(connector, native, fields)
    if _changed(connector, native, body):
        return None
    return partial_write_result(
        connection, "account", account_id, native, body, skipped, mapping_version=mapping_ref
    )


def withdraw_account_billing(
    ctx: StepContext, result: JSON, connection: str, account_id: str, fields: Mapping[str, Any]
) -> None:
    """Compensation for :func:`update_account_billing` when the onboarding it belonged to was
    rolled back: the account shows the subscription as cancelled and no contract value."""
    update_account_billing(
        ctx, connection, account_id, {"subscription_status": "cancelled", "acv": None}
    )
