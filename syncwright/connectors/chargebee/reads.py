"""Chargebee reads for lifecycle workflows (content enrichers), written as engine steps; the
same answers as Stripe's (``connectors/stripe/reads.py``), so the workflows need not know which
billing system they read.

- :func:`read_subscription`: the canonical subscription as Chargebee holds it now
  (https://apidocs.chargebee.com/docs/api/subscriptions#retrieve_a_subscription).
- :func:`read_receivables`: what the customer owes now: the ``amount_due`` of its invoices
  still to be collected (``status`` ``payment_due`` or ``not_paid``,
  https://apidocs.chargebee.com/docs/api/invoices#list_invoices) and the most collection
  attempts any of them has had (the invoice's ``dunning_attempts``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from syncwright.connectors import call_timeout, connector_for
from syncwright.connectors._base.linked import linked_native_id
from syncwright.connectors._base.receivables import receivables
from syncwright.connectors.chargebee.inbound import subscription_from_object
from syncwright.connectors.chargebee.records import dunning_attempts
from syncwright.engine import StepContext

if TYPE_CHECKING:
    from syncwright.connectors.chargebee.connector import ChargebeeConnector

__all__ = ["UNPAID_STATUSES", "read_receivables", "read_subscription"]

#: Invoice statuses with money still to collect (``pending`` is not yet closed, so not due).
UNPAID_STATUSES = ("payment_due", "not_paid")


def _connector(ctx: StepContext, connection: str) -> ChargebeeConnector:
    from syncwright.connectors.chargebee.connector import ChargebeeConnector  # imports us

    return connector_for(ctx, connection, ChargebeeConnector, label="Chargebee")


def _native(ctx: StepContext, entity_type: str, global_id: str, connection: str) -> str:
    return linked_native_id(
        ctx, entity_type, global_id, connection, vendor="chargebee", label="Chargebee"
    )


def read_subscription(ctx: StepContext, connection: str, subscription_id: str) -> dict[str, Any]:
    """The canonical subscription behind ``subscription_id``, read from Chargebee."""
    connector = _connector(ctx, connection)
    native = _native(ctx, "subscription", subscription_id, connection)
    found = connector.client.retrieve("subscription", native, timeout=call_timeout(ctx, connector))[
        "subscription"
    ]
    subscription = subscription_from_object(
        found, ctx.services.xref, connection=connection, mapping=connector.mapping("inbound")
    )
    return subscription.model_dump(mode="json")


def read_receivables(ctx: StepContext, connection: str, account_id: str) -> dict[str, Any]:
    """``{"balance_due": Money | None, "open_invoices": n, "dunning_attempts": n}``.

    ``balance_due`` is ``None`` when nothing is due or the unpaid invoices are in more than one
    currency (a CRM currency field holds one; adding them would invent an exchange rate).
    """
    connector = _connector(ctx, connection)
    customer = _native(ctx, "account", account_id, connection)
    query = {"customer_id": {"is": customer}, "status": {"in": list(UNPAID_STATUSES)}}
    return receivables(
        (
            str(invoice["currency_code"]),
            int(invoice.get("amount_due") or 0),
            dunning_attempts(invoice),
        )
        for invoice in connector.client.iterate("invoice", query)
    )
