"""Quote-to-cash onboarding: a deal closed-won in the CRM becomes a validated ERP customer and
sales order, a live billing subscription, CRM visibility and a support entitlement -- in the
right order, or a governed pause, never partial state.

1. Read the deal and its account fresh from the CRM (content enricher) and validate them
   against the ERP's master data (customer, credit, products, tax). A "no" parks the run here,
   before any write, with the ERP's reasons as remediation; a retry after the fix re-reads.
3. ERP customer and sales order. A rejection parks the run (the sales order is not written
   before the customer exists).
4. Billing customer and subscription. From here on, downstream systems hold our writes: a
   failure *rolls back* (the subscription is cancelled, the sales order voided) instead of
   parking half-done.
5. Once the subscription is active, in parallel: the CRM account gets the subscription status,
   ACV and ERP id; the support desk gets the entitlement tier and SLA.

Connections are found by role (``options.role``: ``erp``, ``billing``, ``support``; the ERP by
the account's ``routing.erp`` rule when there are rules); the CRM is the connection the deal came
from.
"""

from __future__ import annotations

from typing import Any

from syncwright.connectors import Connector
from syncwright.engine import Branch, RetryPolicy, StepContext, StepPolicy, WorkflowRun, workflow
from syncwright.errors import BusinessRuleError, ConfigError
from syncwright.workflows._route import Route, route_account
from syncwright.workflows.onboarding_plan import (
    annual_contract_value,
    plan_entitlement,
    plan_subscription,
)

WRITE = StepPolicy(
    timeout_seconds=30.0,
    retry=RetryPolicy(max_attempts=8, base_delay_seconds=0.5, max_delay_seconds=30.0),
)
READ = StepPolicy(
    timeout_seconds=15.0,
    retry=RetryPolicy(max_attempts=6, base_delay_seconds=0.5, max_delay_seconds=15.0),
)
# check_customer is for "is this an existing, active customer" questions; a deal may be a new one.
VALIDATION_CHECKS = ("check_credit", "check_products", "check_tax")


def _one(run: WorkflowRun, role: str) -> Connector:
    found: list[Connector] = run.services.connections_with_role(role)
    if not found:
        raise ConfigError(
            f"onboarding needs a connection with options.role: {role}",
            problems=[f"connections: no connection has options.role: {role}"],
        )
    return found[0]


def _erp_for(run: WorkflowRun, deal: dict[str, Any]) -> Route:
    """The ERP the deal's account is booked in: its ``routing.erp`` rule (parks when none
    matches, or when the rule's entity does not book the deal's currency), else the first ERP."""
    if not run.services.settings.routing.get("erp"):
        return Route(_one(run, "erp"))
    (route,) = route_account(
        run, "erp", "upsert_sales_order", deal["account_id"], currency=deal.get("currency")
    )
    return route


def _act(
    run: WorkflowRun, target: Connector, action: str, *args: Any, on_failure: str = "park"
) -> Any:
    step = target.action(action)
    return run.step(
        f"{target.name}.{action}",
        step.run,
        target.name,
        *args,
        policy=WRITE,
        probe=step.probe,
        compensation=step.compensate,
        on_failure="compensate" if on_failure == "compensate" else "park",
        connection=target.name,
    )


def read_and_validate(
    ctx: StepContext, crm: str, erp: str, deal_id: str, account_id: str
) -> dict[str, Any]:
    """Read the deal and its account fresh from the CRM, then ask every ERP check the connector
    offers; all reasons at once, so one fix round suffices. Reading inside this step is what
    lets ``exceptions retry`` see the corrected data after a fix in the CRM."""
    source = ctx.services.connection(crm)
    deal = source.action("read_deal").run(ctx, crm, deal_id)
    account = source.action("read_account").run(ctx, crm, account_id)
    connector = ctx.services.connection(erp)
    subject = {"account": account, "deal": deal}
    reasons: list[str] = []
    checked: list[str] = []
    for check in VALIDATION_CHECKS:
        if not connector.can(check):
            continue
        answer = connector.action(check).run(ctx, erp, subject)
        checked.append(check)
        if not answer["ok"]:
            reasons.extend(str(r) for r in answer.get("reasons", []))
    if reasons:
        raise BusinessRuleError(
            f"deal {deal.get('name')!r} fails {erp} validation: {'; '.join(reasons)}",
            code="onboarding.validation_failed",
            remediation="Fix what the ERP reports (in the ERP, or on the CRM account or "
            f"opportunity), then retry this exception: {'; '.join(reasons)}",
        )
    # The ledger names the deal, so `trace <opportunity id>` finds its run through the xref.
    ledger = {"entity_type": "deal", "global_id": deal_id}
    return {"deal": deal, "account": account, "checked": checked, "ledger": ledger}


@workflow("deal.onboard", handles=("syncwright.deal.closed_won.v1",))
def onboard(run: WorkflowRun, event: dict[str, Any]) -> dict[str, Any]:
    crm_name = str(event["source"]).split("/", 1)[-1]
    route = _erp_for(run, event["data"]["deal"])
    erp, billing = route.target, _one(run, "billing")
    support = run.services.connections_with_role("support")

    checked = run.step(
        "validate.master_data",
        read_and_validate,
        crm_name,
        erp.name,
        event["data"]["deal"]["global_id"],
        event["data"]["deal"]["account_id"],
        policy=READ,
    )
    deal, account = checked["deal"], checked["account"]

    customer = _act(run, erp, "upsert_account", route.account(account))
    subscription = run.step("plan.subscription", plan_subscription, account, deal)
    order = _act(run, erp, "upsert_sales_order", subscription)

    billing_customer = _act(run, billing, "create_customer", account, on_failure="compensate")
    created = _act(
        run,
        billing,
        "create_subscription",
        subscription,
        billing_customer,
        on_failure="compensate",
    )
    if created.get("status") != "active":
        # Activation comes later (e.g. after a retried payment): the activation workflow picks
        # it up from the billing system's own events.
        return {"status": "awaiting_activation", "sales_order": order["native_id"]}

    branches = [
        Branch(
            f"{crm_name}.update_account_billing",
            crm_name,
            "update_account_billing",
            (
                deal["account_id"],
                {
                    "subscription_status": "active",
                    "acv": annual_contract_value(subscription),
                    "erp_id": customer["native_id"],
                },
            ),
            WRITE,
        )
    ]
    for desk in support[:1]:
        entitlement = run.step(
            f"{desk.name}.plan_entitlement", plan_entitlement, desk.name, account, subscription
        )
        branches.append(
            Branch(
                f"{desk.name}.upsert_entitlement",
                desk.name,
                "upsert_entitlement",
                (entitlement, account),
                WRITE,
            )
        )
    run.parallel(branches, on_failure="compensate")
    return {
        "status": "onboarded",
        "erp_customer": customer["native_id"],
        "sales_order": order["native_id"],
        "subscription": created["native_id"],
    }
