"""Pure decisions of the lifecycle workflows: what the CRM shows about a subscription and an
account's payments, and which support entitlement an account in dunning keeps.

Every function here is deterministic on its arguments, so the workflows can call them directly
between steps (a replay decides the same); anything that reads the clock, the cross-reference
or a connection runs as a step instead (``onboarding_plan.plan_entitlement``).
"""

from __future__ import annotations

from typing import Any

from syncwright.config import DunningPolicy
from syncwright.model import Subscription
from syncwright.workflows.onboarding_plan import annual_contract_value

# Statuses a CRM subscription-status picklist holds (pending and paused subscriptions leave the
# CRM's status as it was: neither is a commercial state a sales rep acts on).
CRM_STATUSES = frozenset({"trialing", "active", "past_due", "cancelled", "expired"})
# Statuses in which the customer has service (and so a support entitlement).
SERVING_STATUSES = frozenset({"trialing", "active", "past_due"})


def product_summary(subscription: dict[str, Any]) -> str:
    """``"<product> x<quantity>"`` per line, in the subscription's order, at most 255
    characters (a Salesforce text field): what was bought, readable on the account."""
    parsed = Subscription.model_validate(subscription)
    parts = [f"{item.product_id or item.price_id} x{item.quantity}" for item in parsed.items]
    text = "; ".join(parts)
    return text if len(text) <= 255 else text[:252] + "..."


def contract_fields(subscription: dict[str, Any]) -> dict[str, Any]:
    """The CRM account's contract and renewal forecast for a live subscription: status, ACV,
    product summary, and either the renewal (date and amount) or, when it is set to end at the
    period's end, the date it ends (and no renewal)."""
    parsed = Subscription.model_validate(subscription)
    acv = annual_contract_value(subscription)
    ending = parsed.cancel_at_period_end or not parsed.auto_renew
    fields: dict[str, Any] = {
        "acv": acv,
        "product_summary": product_summary(subscription),
        "renewal_date": None if ending else _iso(parsed.term_end),
        "renewal_amount": None if ending else acv,
        "cancel_date": _iso(parsed.term_end) if ending else None,
    }
    if parsed.status.value in CRM_STATUSES:
        fields["subscription_status"] = parsed.status.value
    return fields


def cancelled_fields(subscription: dict[str, Any], effective_date: str) -> dict[str, Any]:
    """The CRM account once service has ended: cancelled, no contract value, no renewal."""
    zero = {"amount_minor": 0, "currency": subscription["currency"]}
    return {
        "subscription_status": "cancelled",
        "acv": zero,
        "renewal_date": None,
        "renewal_amount": None,
        "cancel_date": effective_date,
    }


def in_dunning(receivables: dict[str, Any], policy: DunningPolicy) -> bool:
    """Whether the account's failed collection attempts reach the policy's threshold."""
    attempts = int(receivables.get("dunning_attempts") or 0)
    return attempts >= policy.after_attempts


def standing(receivables: dict[str, Any], policy: DunningPolicy) -> str:
    """``current`` (no open invoice with a failed collection attempt), ``suspended`` (in dunning
    and the policy suspends support) or ``past_due``."""
    if not int(receivables.get("dunning_attempts") or 0):
        return "current"
    if policy.action == "suspend" and in_dunning(receivables, policy):
        return "suspended"
    return "past_due"


def standing_fields(receivables: dict[str, Any], policy: DunningPolicy) -> dict[str, Any]:
    return {
        "standing": standing(receivables, policy),
        "balance_due": receivables.get("balance_due"),
    }


def entitlement_in_standing(
    entitlement: dict[str, Any],
    receivables: dict[str, Any],
    policy: DunningPolicy,
    sla_policies: dict[str, str],
) -> dict[str, Any]:
    """The plan's entitlement as the dunning policy leaves it: suspended, downgraded to the
    policy's tier (with that tier's SLA policy), or unchanged."""
    if policy.action == "none" or not in_dunning(receivables, policy):
        return entitlement
    if policy.action == "suspend":
        return {**entitlement, "status": "suspended"}
    tier = str(policy.tier)
    sla = {"name": sla_policies.get(tier, f"{tier} SLA")}
    return {**entitlement, "tier": tier, "sla_policy": sla}


def _iso(value: Any) -> str | None:
    return None if value is None else str(value)
