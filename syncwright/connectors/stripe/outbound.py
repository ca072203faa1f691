"""Stripe actions used by workflows. Today: reads for enrichment (content enricher)."""

from __future__ import annotations

from typing import Any

from syncwright.connectors.stripe.inbound import account_from_customer
from syncwright.engine import StepContext
from syncwright.errors import BusinessRuleError


def read_account(ctx: StepContext, connection: str, account_id: str) -> dict[str, Any]:
    """The canonical account behind ``account_id``, read from Stripe's customer.

    Used when a subscription or invoice arrives for a customer whose own events were missed,
    so the ERP customer can still be created first.
    https://docs.stripe.com/api/customers/retrieve
    """
    connector = ctx.services.connection(connection)
    customer_id = ctx.services.xref.native_id_for("account", account_id, connection)
    if customer_id is None:
        raise BusinessRuleError(
            f"account {account_id} has no Stripe customer on connection {connection!r}",
            code="stripe.account_unlinked",
            remediation="The account was not created from this Stripe account; check the "
            "cross-reference (syncwright trace) and the event's source connection.",
        )
    customer = connector.client.get_customer(customer_id)
    account = account_from_customer(
        customer,
        ctx.services.xref,
        connection=connection,
        default_subsidiary=connector.settings.options.get("default_subsidiary"),
    )
    return account.model_dump(mode="json")
