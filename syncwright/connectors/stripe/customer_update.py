"""``update_customer``: the facts another system owns (the ERP's legal name, tax registration,
credit status, payment terms and financial dimensions; the CRM's billing contact email),
written onto the Stripe customer of an account.

Stripe: "Update a customer" (https://docs.stripe.com/api/customers/update). The legal name goes
to ``name`` (what Stripe prints on invoices), the billing email to ``email`` (where Stripe
sends invoices); the other facts to ``metadata`` (``tax_id``, ``credit_status``,
``payment_terms``, ``department``, ``classification``, ``location``), since Stripe's own tax-id
objects need a Stripe tax-id type syncwright cannot infer from a bare number. Only the keys
given are sent; ``None`` clears a metadata key. The ``name`` written is remembered for echo
suppression: the customer's ``customer.updated`` event coming back is our own write, not a
change of the account's name.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from syncwright.connectors._base.linked import customer_to_update, refuse_unknown_keys
from syncwright.connectors._base.steps import call_timeout, connector_for, ledger_block
from syncwright.engine import StepContext

if TYPE_CHECKING:
    from syncwright.connectors.stripe.connector import StripeConnector

__all__ = [
    "CUSTOMER_UPDATE_KEYS",
    "customer_update_params",
    "probe_customer_update",
    "update_customer",
]

#: Keys ``update_customer`` takes -> where they go on the Stripe customer.
CUSTOMER_UPDATE_KEYS = {
    "legal_name": "name",
    "tax_id": "metadata[tax_id]",
    "credit_status": "metadata[credit_status]",
    "payment_terms": "metadata[payment_terms]",
    "department": "metadata[department]",
    "classification": "metadata[classification]",
    "location": "metadata[location]",
    # The account's billing contact (a CRM contact with the billing role, when the ownership
    # policy gives the CRM account.billing_email; workflows/contact_sync.py).
    "billing_email": "email",
}


def customer_update_params(fields: Mapping[str, Any]) -> dict[str, Any]:
    """The form parameters for ``fields`` (keys of :data:`CUSTOMER_UPDATE_KEYS`)."""
    refuse_unknown_keys("update_customer", fields, CUSTOMER_UPDATE_KEYS, vendor="stripe")
    params: dict[str, Any] = {}
    for key, value in fields.items():
        target = CUSTOMER_UPDATE_KEYS[key]
        if target in ("name", "email") and not value:
            continue  # Stripe keeps a name; an empty legal name leaves it as it is
        # Stripe clears a metadata key given an empty string.
        params[target] = "" if value is None else str(value)
    return params


def _linked(ctx: StepContext, connection: str, account_id: str) -> tuple[StripeConnector, str]:
    from syncwright.connectors.stripe.connector import StripeConnector  # imports us

    connector: StripeConnector = connector_for(ctx, connection, StripeConnector, label="Stripe")
    native_id = customer_to_update(ctx, connection, account_id, vendor="stripe", label="Stripe")
    return connector, native_id


def _result(
    connector: StripeConnector, account_id: str, native_id: str, params: dict[str, Any]
) -> dict[str, Any]:
    # The canonical account fields written, remembered for echo suppression.
    written = {
        field: params[target]
        for field, target in (("name", "name"), ("billing_email", "email"))
        if target in params
    } or None
    return {
        "native_id": native_id,
        "written": params,
        "ledger": ledger_block(
            connector.name,
            "account",
            account_id,
            native_id,
            params,
            mapping_version=connector.mapping("outbound").ref,
            fields=written,
        ),
    }


def update_customer(
    ctx: StepContext, connection: str, account_id: str, fields: Mapping[str, Any]
) -> dict[str, Any]:
    """Write ``fields`` onto the Stripe customer linked to ``account_id``."""
    connector, native_id = _linked(ctx, connection, account_id)
    params = customer_update_params(fields)
    if params:
        connector.client.update_customer(
            native_id,
            params,
            idempotency_key=ctx.idempotency_key,
            timeout=call_timeout(ctx, connector),
        )
    return _result(connector, account_id, native_id, params)


def probe_customer_update(
    ctx: StepContext, connection: str, account_id: str, fields: Mapping[str, Any]
) -> dict[str, Any] | None:
    """After an uncertain update: the result if the customer already shows every value."""
    connector, native_id = _linked(ctx, connection, account_id)
    params = customer_update_params(fields)
    customer = connector.client.get_customer(native_id, timeout=call_timeout(ctx, connector))
    metadata = customer.get("metadata") or {}
    for target, value in params.items():
        held = customer.get(target) if target in ("name", "email") else metadata.get(target[9:-1])
        if (held or "") != value:
            return None
    return _result(connector, account_id, native_id, params)
