"""Actions on Salesforce, written as engine steps: ``(StepContext, connection, *args) -> JSON``.

- :func:`read_account`, :func:`read_deal`: content enrichers -- the canonical Account or Deal as
  Salesforce holds it now (for a workflow that needs a record whose own event it never saw).
- :func:`update_account_billing`: billing and ERP facts onto the CRM account (subscription
  status, ACV, ERP id, last invoice), so sales sees them. A PATCH of absolute values, and only
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

from pydantic import ValidationError

from syncwright.connectors import connector_for, ledger_block
from syncwright.connectors.salesforce.inbound import account_from_record, deal_from_records
from syncwright.engine import StepContext
from syncwright.errors import BusinessRuleError
from syncwright.model import Money

if TYPE_CHECKING:  # the connector imports this module to declare its actions
    from syncwright.connectors.salesforce.connector import SalesforceConnector

__all__ = [
    "BILLING_FIELDS",
    "OPTIONAL_BILLING_FIELDS",
    "SUBSCRIPTION_STATUS_VALUES",
    "probe_account_billing",
    "read_account",
    "read_deal",
    "update_account_billing",
]

JSON = dict[str, Any]
# The billing write's value conversion is still Python (below), not a mapping file yet.
MAPPING_VERSION = "salesforce/1"

# Keys of ``update_account_billing(fields=...)`` -> default Account field API names
# (``options.billing_fields`` renames them per org).
BILLING_FIELDS: Mapping[str, str] = {
    "subscription_status": "Subscription_Status__c",
    "acv": "ACV__c",
    "erp_id": "ERP_Id__c",
    "last_invoice_number": "Last_Invoice_Number__c",
    "last_invoice_status": "Last_Invoice_Status__c",
    # The facts the ERP owns, shown on the CRM account (workflows/erp_source.py).
    "legal_name": "Legal_Name__c",
    "tax_id": "Tax_Id__c",
    "credit_status": "Credit_Status__c",
    "payment_terms": "Payment_Terms__c",
}
# Written when the org has the field, skipped (and reported) when it does not.
OPTIONAL_BILLING_FIELDS = frozenset({"last_invoice_number", "last_invoice_status"})
# Canonical subscription status -> Subscription_Status__c picklist value
# (``options.subscription_status_values`` adds or overrides entries).
SUBSCRIPTION_STATUS_VALUES: Mapping[str, str] = {
    "trialing": "Trial",
    "active": "Active",
    "past_due": "Past Due",
    "cancelled": "Cancelled",
    "expired": "Cancelled",
}


# -- plumbing ---------------------------------------------------------------------------------


def _connector(ctx: StepContext, connection: str) -> SalesforceConnector:
    from syncwright.connectors.salesforce.connector import SalesforceConnector  # imports us

    return connector_for(ctx, connection, SalesforceConnector, label="Salesforce")


def _native_id(ctx: StepContext, entity_type: str, global_id: str, connection: str) -> str:
    native = ctx.services.xref.native_id_for(entity_type, global_id, connection)
    if native is None:
        raise BusinessRuleError(
            f"{entity_type} {global_id} has no Salesforce record on connection {connection!r}",
            code=f"salesforce.{entity_type}_unlinked",
            remediation=f"The {entity_type} is not linked to a Salesforce record on this "
            "connection (it did not come from this org, or was never matched). Link it in the "
            "cross-reference or check the event's source (syncwright trace), then retry.",
        )
    return str(native)


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


def _unknown_key(key: str, names: Mapping[str, str]) -> BusinessRuleError:
    return BusinessRuleError(
        f"update_account_billing got field {key!r}; it writes {', '.join(sorted(names))}",
        code="salesforce.billing_field_unknown",
        remediation="A workflow passed a field this action does not write; fix the workflow "
        "(or map the field in options.billing_fields), then retry this exception.",
    )


def _status_value(connector: SalesforceConnector, value: Any) -> str | None:
    if value is None:
        return None
    values = connector.subscription_status_values
    found = values.get(str(value))
    if found is None:
        raise BusinessRuleError(
            f"subscription status {value!r} has no Subscription_Status__c picklist value",
            code="salesforce.status_unmapped",
            remediation=f"Add options.subscription_status_values.{value}: <picklist value> to "
            "the Salesforce connection (and the value to the picklist), then retry this "
            "exception.",
        )
    return found


def _acv(
    connector: SalesforceConnector, native_id: str, value: Any, known: frozenset[str]
) -> float | None:
    if value is None:
        return None
    try:
        money = Money.model_validate(value)
    except ValidationError as exc:
        raise BusinessRuleError(
            f"acv must be a Money object (amount_minor, currency), got {value!r}",
            code="salesforce.billing_value_invalid",
            remediation="Fix the workflow that passes acv, then retry this exception.",
        ) from exc
    # A currency field holds amounts in the record's currency (multi-currency orgs) or the
    # org's corporate currency; writing another currency's figure would be silently wrong.
    expected = connector.inbound_options.default_currency
    if "CurrencyIsoCode" in known:
        record = connector.client.get("Account", native_id, ["CurrencyIsoCode"])
        expected = record.get("CurrencyIsoCode") or expected
    if expected and str(expected).upper() != money.currency:
        raise BusinessRuleError(
            f"ACV is in {money.currency} but Salesforce Account {native_id} holds amounts in "
            f"{expected}",
            code="salesforce.currency_mismatch",
            remediation="Convert the ACV in the workflow, or change the account's currency in "
            "Salesforce (or options.default_currency), then retry this exception.",
        )
    # JSON numbers: the float's repr is the exact decimal for any amount below 2**53 minor units.
    return float(money.to_decimal())


def _readable(value: Any) -> str | None:
    # Canonical statuses (``paid``, ``past_due``, ``hold``...) as a person reads them.
    return None if value is None else str(value).replace("_", " ").title()


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def billing_body(
    connector: SalesforceConnector, native_id: str, fields: Mapping[str, Any]
) -> tuple[dict[str, Any], list[str]]:
    """The Account PATCH body for ``fields`` and the optional keys skipped because the org
    lacks their field."""
    if not isinstance(fields, Mapping):
        raise BusinessRuleError(
            f"update_account_billing takes a dict of fields, got {type(fields).__name__}",
            code="salesforce.billing_value_invalid",
            remediation="Fix the workflow that calls update_account_billing, then retry.",
        )
    names = connector.billing_fields
    known = connector.client.field_names("Account")
    body: dict[str, Any] = {}
    skipped: list[str] = []
    for key, value in fields.items():
        sf_field = names.get(key)
        if sf_field is None:
            raise _unknown_key(key, names)
        if sf_field not in known:
            if key in OPTIONAL_BILLING_FIELDS:
                skipped.append(key)
                continue
            raise BusinessRuleError(
                f"Salesforce Account has no field {sf_field} (for {key})",
                code="salesforce.field_missing",
                remediation=f"Create the custom field {sf_field} on Account in Salesforce "
                "(Setup > Object Manager), give the integration user edit access, or name "
                f"another field in options.billing_fields.{key}; then retry this exception.",
            )
        if key == "subscription_status":
            body[sf_field] = _status_value(connector, value)
        elif key == "acv":
            body[sf_field] = _acv(connector, native_id, value, known)
        elif key in ("last_invoice_status", "credit_status"):
            body[sf_field] = _readable(value)  # hold -> Hold, past_due -> Past Due
        else:
            body[sf_field] = _text(value)
    return body, skipped


def _billing_result(
    connection: str, account_id: str, native: str, body: JSON, skipped: list[str]
) -> JSON:
    return {
        "native_id": native,
        "written": body,
        "skipped": skipped,
        "ledger": ledger_block(
            connection, "account", account_id, native, body, mapping_version=MAPPING_VERSION
        ),
    }


def update_account_billing(
    ctx: StepContext, connection: str, account_id: str, fields: Mapping[str, Any]
) -> JSON:
    """Write billing facts onto the Salesforce Account of ``account_id``.

    ``fields`` keys: ``subscription_status`` (a canonical subscription status), ``acv``
    (canonical Money; written in major units), ``erp_id``, ``last_invoice_number``,
    ``last_invoice_status`` (a canonical invoice status). ``None`` clears a field. The last two
    are skipped when the org has no such field. Only fields whose value differs from the
    Account's are sent (``written`` in the result); none differing, nothing is sent.
    https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/dome_update_fields.htm
    """
    connector = _connector(ctx, connection)
    native = _native_id(ctx, "account", account_id, connection)
    body, skipped = billing_body(connector, native, fields)
    changed = _changed(connector, native, body)
    if changed:
        # Only what differs: an unchanged field is not rewritten (no change event, no echo).
        connector.client.update("Account", native, changed)
    return _billing_result(connection, account_id, native, changed, skipped)


def _changed(connector: SalesforceConnector, native_id: str, body: JSON) -> JSON:
    """The part of ``body`` the Account does not hold yet.
    https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/dome_get_field_values.htm
    """
    if not body:
        return {}
    record = connector.client.get("Account", native_id, list(body))
    return {name: value for name, value in body.items() if not _same(value, record.get(name))}


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
    body, skipped = billing_body(connector, native, fields)
    if body:
        record = connector.client.get("Account", native, list(body))
        if not all(_same(value, record.get(name)) for name, value in body.items()):
            return None
    return _billing_result(connection, account_id, native, body, skipped)


def withdraw_account_billing(
    ctx: StepContext, result: JSON, connection: str, account_id: str, fields: Mapping[str, Any]
) -> None:
    """Compensation for :func:`update_account_billing` when the onboarding it belonged to was
    rolled back: the account shows the subscription as cancelled and no contract value."""
    update_account_billing(
        ctx, connection, account_id, {"subscription_status": "cancelled", "acv": None}
    )
