"""Pure transforms of the onboarding workflow: what a closed-won deal becomes.

They run as checkpointed steps (they read the clock and the connection options), so a replay
sees exactly what the first run decided.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from syncwright.engine import StepContext
from syncwright.errors import BusinessRuleError
from syncwright.model import Account, BillingFrequency, Deal, Entitlement, Money, Subscription

if TYPE_CHECKING:
    from syncwright.xref import CrossReference

TERM_MONTHS = 12
# Sales-led deals are invoiced with payment terms rather than charged to a card on file.
NET_DAYS = 30


def _suffix(global_id: str) -> str:
    return global_id.split("_", 1)[-1]


def plan_subscription(
    ctx: StepContext, account: dict[str, Any], deal: dict[str, Any]
) -> dict[str, Any]:
    """The subscription a closed-won deal commits the customer to: one item per recurring line,
    a twelve-month term from the close date, the deal's currency. Its global id derives from
    the deal's, so every system links back to the deal."""
    parsed = Deal.model_validate(deal)
    Account.model_validate(account)
    # CRMs without a billing frequency on products (Salesforce's standard objects) leave every
    # line "one_time"; then the deal's lines are the subscription, billed monthly.
    recurring = [line for line in parsed.lines if line.billing_frequency.value != "one_time"]
    if not recurring:
        recurring = [
            line.model_copy(update={"billing_frequency": BillingFrequency.MONTHLY})
            for line in parsed.lines
        ]
    if not recurring:
        raise BusinessRuleError(
            f"deal {parsed.name!r} has no recurring line to subscribe to",
            code="onboarding.no_recurring_line",
            remediation="Add the subscription product to the opportunity's products in the "
            "CRM (with a monthly or yearly billing frequency), then retry this exception.",
        )
    start = parsed.close_date or datetime.now(UTC).date()
    end = start.replace(year=start.year + 1)
    subscription_id = f"subs_{_suffix(parsed.global_id)}"
    subscription = Subscription.model_validate(
        {
            "global_id": subscription_id,
            "account_id": parsed.account_id,
            "plan_id": recurring[0].product_id,
            "status": "pending",
            "currency": parsed.currency,
            "term_start": start,
            "term_end": end,
            "term_length_months": TERM_MONTHS,
            "billing_frequency": recurring[0].billing_frequency,
            "invoice_schedule": {
                "frequency": recurring[0].billing_frequency,
                "anchor_date": start,
                "net_days": NET_DAYS,
            },
            "items": [
                {
                    "global_id": f"{subscription_id}-{n}",
                    "price_id": line.price_id or line.product_id,
                    "product_id": line.product_id,
                    "quantity": line.quantity,
                    "unit_amount": line.unit_amount,
                }
                for n, line in enumerate(recurring, start=1)
            ],
        }
    )
    return subscription.model_dump(mode="json")


def annual_contract_value(subscription: dict[str, Any]) -> dict[str, Any]:
    """ACV in minor units: the recurring amount scaled to twelve months."""
    parsed = Subscription.model_validate(subscription)
    months = parsed.billing_frequency.months or 1
    total = Money.zero(parsed.currency)
    for item in parsed.items:
        total = total + item.amount
    return (total * (12 // months if months <= 12 else 1)).model_dump(mode="json")


def tier_for(options: Mapping[str, Any], xref: CrossReference, lines: list[list[str]]) -> str:
    """The support tier a plan grants: each line's ids (product, price; global or native) and
    what the cross-reference links them to are looked up in ``options.tiers`` of the support
    connection; the best tier any line grants wins (``options.tier_order``, lowest first),
    ``options.default_tier`` ("standard") when none does. Reconciliation asks the same."""
    tiers: dict[str, str] = {str(k): str(v) for k, v in (options.get("tiers") or {}).items()}
    order = [str(t) for t in options.get("tier_order", ["standard", "premium", "enterprise"])]
    granted = [str(options.get("default_tier", "standard"))]
    for ids in lines:
        candidates = [i for i in ids if i]
        for system_id in list(candidates):
            for kind in ("product", "price"):
                candidates.extend(xref.links(kind, system_id).values())
        granted.extend(tiers[c] for c in candidates if c in tiers)
    return max(granted, key=lambda t: order.index(t) if t in order else -1)


def plan_entitlement(
    ctx: StepContext, support: str, account: dict[str, Any], subscription: dict[str, Any]
) -> dict[str, Any]:
    """Support tier and SLA from what the customer pays for: ``options.tiers`` of the support
    connection maps product global ids (or their native ids) to a tier, the best one granted
    wins (``options.tier_order``), ``options.sla_policies`` maps a tier to an SLA policy name;
    the default tier is ``options.default_tier`` ("standard")."""
    options = ctx.services.settings.connections[support].options
    parsed = Subscription.model_validate(subscription)
    lines = [[item.product_id or "", item.price_id] for item in parsed.items]
    tier = tier_for(options, ctx.services.xref, lines)
    policies = options.get("sla_policies") or {}
    entitlement = Entitlement.model_validate(
        {
            "global_id": f"entl_{_suffix(parsed.global_id)}",
            "account_id": parsed.account_id,
            "subscription_id": parsed.global_id,
            "product_id": parsed.plan_id,
            "tier": tier,
            "sla_policy": {"name": str(policies.get(tier, f"{tier} SLA"))},
            "status": "active",
            "start_date": parsed.term_start,
            "end_date": parsed.term_end,
        }
    )
    return entitlement.model_dump(mode="json")
