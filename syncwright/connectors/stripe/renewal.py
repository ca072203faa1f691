"""A renewal won in the CRM -> the account's Stripe subscription renewed for the new term.

Stripe subscriptions renew by themselves each period; what a renewal deal changes is what the
next term bills and that the subscription goes on. So the account's live subscription gets the
deal's items and quantities with ``proration_behavior: none`` (nothing is re-billed for the
current period: the new quantities are billed from the next invoice, the new term's) and any
pending end is taken back (``cancel_at_period_end: false``). Stripe's subscription schedules
would also keep the current items on show until the term ends; the emulator has none, so this
connector does not use them. ``metadata.syncwright_renewal`` names the renewal's subscription
plan, so a re-delivered renewal finds its write done and changes nothing.

Docs: https://docs.stripe.com/api/subscriptions/update,
https://docs.stripe.com/billing/subscriptions/prorations#disable-prorations.
"""

from __future__ import annotations

from typing import Any

from syncwright.connectors import audit_write, call_timeout
from syncwright.connectors.stripe import outbound as ob
from syncwright.connectors.stripe.inbound import subscription_from_object
from syncwright.engine import StepContext
from syncwright.errors import BusinessRuleError
from syncwright.model import Subscription

__all__ = ["RENEWAL_KEY", "probe_renewal", "renew_subscription"]

JSON = dict[str, Any]
RENEWAL_KEY = "syncwright_renewal"
_LIVE = frozenset({"active", "past_due", "trialing"})


def _live_subscription(
    ctx: StepContext, connector: Any, account_id: str, renewal: str
) -> dict[str, Any]:
    customer = ob._customer_id(ctx, connector, None, account_id)
    page = connector.client.list_subscriptions(
        customer=customer, status="all", timeout=call_timeout(ctx, connector)
    )
    live = [s for s in page.get("data") or [] if s.get("status") in _LIVE]
    if len(live) != 1:
        found = "no live subscription" if not live else f"{len(live)} live subscriptions"
        raise BusinessRuleError(
            f"renewal {renewal} of account {account_id}: Stripe customer {customer} has {found}",
            code="stripe.renewal_subscription",
            remediation=(
                "A renewal extends the one subscription the customer has. With none, win the "
                "deal as new business (onboarding); with several, end the extra ones in Stripe. "
                "Then retry this exception, or resolve it to discard the renewal."
            ),
        )
    chosen: dict[str, Any] = live[0]
    return chosen


def _item_params(live: dict[str, Any], wanted: list[tuple[str, int]]) -> list[JSON]:
    """The subscription's items as the renewal wants them: same price -> new quantity, new
    price -> added, price no longer wanted -> deleted."""
    existing = {str(si["price"]["id"]): str(si["id"]) for si in live["items"]["data"]}
    items: list[JSON] = []
    for price, quantity in wanted:
        if price in existing:
            items.append({"id": existing[price], "quantity": quantity})
        else:
            items.append({"price": price, "quantity": quantity})
    kept = {price for price, _ in wanted}
    items += [{"id": si, "deleted": True} for price, si in existing.items() if price not in kept]
    return items


def _done(live: dict[str, Any], wanted: list[tuple[str, int]], renewal: str) -> bool:
    have = sorted((str(si["price"]["id"]), int(si["quantity"])) for si in live["items"]["data"])
    metadata = live.get("metadata") or {}
    return (
        metadata.get(RENEWAL_KEY) == renewal
        and have == sorted(wanted)
        and not live.get("cancel_at_period_end")
    )


def _result(ctx: StepContext, connector: Any, found: dict[str, Any], params: JSON) -> JSON:
    renewed = subscription_from_object(
        found, ctx.services.xref, connection=connector.name, mapping=connector.mapping("inbound")
    )
    return {
        "native_id": found["id"],
        "subscription": renewed.model_dump(mode="json"),
        "ledger": ob._ledger(connector, "subscription", renewed.global_id, found["id"], params),
    }


def _wanted(ctx: StepContext, connector: Any, plan: Subscription) -> list[tuple[str, int]]:
    return [(str(price["id"]), item.quantity) for item, price in ob._items(ctx, connector, plan)]


def renew_subscription(ctx: StepContext, connection: str, account_id: str, plan: JSON) -> JSON:
    """The account's one live subscription takes ``plan``'s items (a canonical Subscription:
    the renewal deal's) from the next period on and will renew; returns it as canonical."""
    connector = ob._connector(ctx, connection)
    parsed = ob._parse(Subscription, plan, "subscription")
    live = _live_subscription(ctx, connector, account_id, parsed.global_id)
    wanted = _wanted(ctx, connector, parsed)
    if _done(live, wanted, parsed.global_id):
        return _result(ctx, connector, live, {})
    params: JSON = {
        "items": _item_params(live, wanted),
        "proration_behavior": "none",
        "cancel_at_period_end": False,
        "metadata": {RENEWAL_KEY: parsed.global_id},
    }
    updated = connector.client.update_subscription(
        live["id"],
        params,
        idempotency_key=ob._idempotency_key(ctx, params),
        timeout=call_timeout(ctx, connector),
    )
    audit_write(ctx, connection, "stripe.subscription.renew", updated.get("id"), params)
    return _result(ctx, connector, updated, params)


def probe_renewal(ctx: StepContext, connection: str, account_id: str, plan: JSON) -> JSON | None:
    """After an uncertain write: is the live subscription renewed by this plan already?"""
    connector = ob._connector(ctx, connection)
    parsed = ob._parse(Subscription, plan, "subscription")
    live = _live_subscription(ctx, connector, account_id, parsed.global_id)
    if not _done(live, _wanted(ctx, connector, parsed), parsed.global_id):
        return None
    return _result(ctx, connector, live, {})
