"""Stripe reads for lifecycle workflows (content enrichers), written as engine steps.

- :func:`read_subscription`: the canonical subscription as Stripe holds it now, for a workflow
  that acts on an invoice but needs the plan behind it (the support tier to restore after a
  recovered payment).
- :func:`read_receivables`: what the customer owes now: the amounts still due on its open
  invoices (https://docs.stripe.com/api/invoices/list, ``status=open``) and the most failed
  collection attempts any of them has had (``attempt_count`` of an invoice still open).
"""

from __future__ import annotations

from typing import Any

from syncwright.connectors._base.linked import linked_native_id
from syncwright.connectors._base.receivables import receivables
from syncwright.connectors.stripe.inbound import stripe_money, subscription_from_object
from syncwright.engine import StepContext

__all__ = ["read_receivables", "read_subscription"]


def _native(ctx: StepContext, entity_type: str, global_id: str, connection: str) -> str:
    return linked_native_id(
        ctx, entity_type, global_id, connection, vendor="stripe", label="Stripe"
    )


def read_subscription(ctx: StepContext, connection: str, subscription_id: str) -> dict[str, Any]:
    """The canonical subscription behind ``subscription_id``, read from Stripe.
    https://docs.stripe.com/api/subscriptions/retrieve
    """
    connector = ctx.services.connection(connection)
    native = _native(ctx, "subscription", subscription_id, connection)
    found = connector.client.get_subscription(native)
    subscription = subscription_from_object(
        found, ctx.services.xref, connection=connection, mapping=connector.mapping("inbound")
    )
    return subscription.model_dump(mode="json")


def read_receivables(ctx: StepContext, connection: str, account_id: str) -> dict[str, Any]:
    """``{"balance_due": Money | None, "open_invoices": n, "dunning_attempts": n}``.

    ``balance_due`` is ``None`` when nothing is due or the open invoices are in more than one
    currency (a CRM currency field holds one; adding them would invent an exchange rate).
    ``dunning_attempts`` is the highest ``attempt_count`` of an open invoice: an invoice whose
    collection succeeded is paid, so an open one that was attempted failed that many times.
    """
    connector = ctx.services.connection(connection)
    customer = _native(ctx, "account", account_id, connection)
    listed = connector.client.iterate("/v1/invoices", {"customer": customer, "status": "open"})
    where = f"open invoices of Stripe customer {customer}"
    return receivables(
        (
            (
                str(invoice["currency"]),
                int(invoice.get("amount_remaining") or 0),
                int(invoice.get("attempt_count") or 0),
            )
            for invoice in listed
        ),
        lambda minor, currency: stripe_money(minor, currency, where),
    )
