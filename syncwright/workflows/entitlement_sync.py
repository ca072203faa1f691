"""Billing subscription -> support entitlement, for customers the support desk already knows.

Onboarding grants the first entitlement when a deal closes. This workflow keeps it in step with
the billing system afterwards: a subscription created there (an upgrade bought directly, or the
subscription reconciliation re-sends because the desk's tier drifted) sets the tier its plan
grants, by the same rule (``onboarding_plan.tier_for``). A customer the desk has no organization
for is left alone: who gets support is decided at onboarding, not by every billing account.
"""

from __future__ import annotations

from typing import Any

from syncwright.engine import RetryPolicy, StepPolicy, WorkflowRun, workflow
from syncwright.workflows.billing_to_erp import _linked, _source
from syncwright.workflows.onboarding_plan import plan_entitlement

WRITE = StepPolicy(
    timeout_seconds=30.0,
    retry=RetryPolicy(max_attempts=8, base_delay_seconds=0.5, max_delay_seconds=30.0),
)
READ = StepPolicy(
    timeout_seconds=15.0,
    retry=RetryPolicy(max_attempts=6, base_delay_seconds=0.5, max_delay_seconds=15.0),
)
# Subscriptions that entitle their customer to support (as reconciliation counts them).
IN_SERVICE = ("active", "past_due")


@workflow("entitlement.sync_from_billing", handles=("syncwright.subscription.created.v1",))
def sync_entitlement(run: WorkflowRun, event: dict[str, Any]) -> dict[str, Any]:
    subscription = event["data"]["subscription"]
    account_id = subscription["account_id"]
    if subscription["status"] not in IN_SERVICE:
        return {"skipped": f"subscription is {subscription['status']}"}
    desks = [
        desk
        for desk in run.services.connections_with_role("support")
        if desk.can("upsert_entitlement")
        and run.step(f"{desk.name}.account_linked", _linked, "account", desk.name, account_id)
    ]
    if not desks:
        return {"skipped": "no support desk knows the account"}
    source = _source(event)
    billing = run.services.connection(source)
    account = run.step(
        f"{source}.read_account",
        billing.action("read_account").run,
        source,
        account_id,
        policy=READ,
        connection=source,
    )
    granted: dict[str, Any] = {}
    for desk in desks:
        entitlement = run.step(
            f"{desk.name}.plan_entitlement", plan_entitlement, desk.name, account, subscription
        )
        step = desk.action("upsert_entitlement")
        result = run.step(
            f"{desk.name}.upsert_entitlement",
            step.run,
            desk.name,
            entitlement,
            account,
            policy=WRITE,
            probe=step.probe,
            compensation=step.compensate,
            connection=desk.name,
        )
        granted[desk.name] = result["tier"]
    return {"tiers": granted}
