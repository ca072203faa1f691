"""``update_customer``: the facts another system owns (the ERP's legal name, tax registration,
credit status, payment terms and financial dimensions), written onto the Chargebee customer of
an account.

Chargebee: "Update a customer" (https://apidocs.chargebee.com/docs/api/customers#update_a_customer).
The legal name goes to ``company`` (what Chargebee prints on invoices); the other facts to
``meta_data`` (``tax_id``, ``credit_status``, ``payment_terms``, ``department``,
``classification``, ``location``): Chargebee's ``vat_number`` is
validated as an EU/UK VAT number (``update_billing_info``), which a bare tax number from the
ERP need not be. Chargebee replaces ``meta_data`` as a whole, so the customer's current
``meta_data`` is read and the facts merged into it (``None`` removes a key; our
``syncwright_id`` stays). Only the keys given are written. The ``company`` written is
remembered for echo suppression: the ``customer_changed`` event coming back is our own write.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from syncwright.connectors import call_timeout, connector_for, ledger_block
from syncwright.connectors._base.linked import customer_to_update, refuse_unknown_keys
from syncwright.engine import StepContext

if TYPE_CHECKING:
    from syncwright.connectors.chargebee.connector import ChargebeeConnector

__all__ = [
    "CUSTOMER_UPDATE_KEYS",
    "customer_update_params",
    "probe_customer_update",
    "update_customer",
]

#: Keys ``update_customer`` takes -> where they go on the Chargebee customer.
CUSTOMER_UPDATE_KEYS = {
    "legal_name": "company",
    "tax_id": "meta_data.tax_id",
    "credit_status": "meta_data.credit_status",
    "payment_terms": "meta_data.payment_terms",
    "department": "meta_data.department",
    "classification": "meta_data.classification",
    "location": "meta_data.location",
}
_META = "meta_data."


def customer_update_params(
    fields: Mapping[str, Any], customer: Mapping[str, Any]
) -> dict[str, Any]:
    """The ``POST /customers/{id}`` parameters that give ``customer`` the values of ``fields``
    (keys of :data:`CUSTOMER_UPDATE_KEYS`); empty when it already shows them all."""
    refuse_unknown_keys("update_customer", fields, CUSTOMER_UPDATE_KEYS, vendor="chargebee")
    held = customer.get("meta_data")
    meta: dict[str, Any] = dict(held) if isinstance(held, Mapping) else {}
    params: dict[str, Any] = {}
    for key, value in fields.items():
        target = CUSTOMER_UPDATE_KEYS[key]
        if target.startswith(_META):
            name = target.removeprefix(_META)
            if value is None:
                meta.pop(name, None)
            else:
                meta[name] = str(value)
        elif value and customer.get(target) != str(value):
            # An empty legal name leaves the company as it is.
            params[target] = str(value)
    if meta != (held if isinstance(held, Mapping) else {}):
        params["meta_data"] = meta
    return params


def _linked(ctx: StepContext, connection: str, account_id: str) -> tuple[ChargebeeConnector, str]:
    from syncwright.connectors.chargebee.connector import ChargebeeConnector  # imports us

    connector: ChargebeeConnector = connector_for(
        ctx, connection, ChargebeeConnector, label="Chargebee"
    )
    native_id = customer_to_update(
        ctx, connection, account_id, vendor="chargebee", label="Chargebee"
    )
    return connector, native_id


def _result(
    connector: ChargebeeConnector,
    account_id: str,
    native_id: str,
    fields: Mapping[str, Any],
    params: Mapping[str, Any],
) -> dict[str, Any]:
    legal_name = fields.get("legal_name")
    return {
        "native_id": native_id,
        "written": dict(params),
        "ledger": ledger_block(
            connector.name,
            "account",
            account_id,
            native_id,
            {key: fields[key] for key in sorted(fields)},
            mapping_version=connector.mapping("outbound").ref,
            fields={"name": legal_name} if legal_name else None,
        ),
    }


def _customer(ctx: StepContext, connector: ChargebeeConnector, native_id: str) -> dict[str, Any]:
    answer = connector.client.retrieve("customer", native_id, timeout=call_timeout(ctx, connector))
    found = answer["customer"]
    return found if isinstance(found, dict) else {}


def update_customer(
    ctx: StepContext, connection: str, account_id: str, fields: Mapping[str, Any]
) -> dict[str, Any]:
    """Write ``fields`` onto the Chargebee customer linked to ``account_id`` (nothing is sent
    when the customer already shows them)."""
    connector, native_id = _linked(ctx, connection, account_id)
    params = customer_update_params(fields, _customer(ctx, connector, native_id))
    if params:
        connector.client.request(
            "POST",
            f"/customers/{native_id}",
            params,
            idempotency_key=ctx.idempotency_key,
            timeout=call_timeout(ctx, connector),
        )
    return _result(connector, account_id, native_id, fields, params)


def probe_customer_update(
    ctx: StepContext, connection: str, account_id: str, fields: Mapping[str, Any]
) -> dict[str, Any] | None:
    """After an uncertain update: the result if the customer already shows every value."""
    connector, native_id = _linked(ctx, connection, account_id)
    if customer_update_params(fields, _customer(ctx, connector, native_id)):
        return None
    return _result(connector, account_id, native_id, fields, {})
