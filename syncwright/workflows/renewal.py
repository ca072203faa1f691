"""A renewal won in the CRM -> billing, the ERP and the CRM (docs/lifecycle.md, "Renewal won
in the CRM").

``syncwright.deal.renewal_won.v1`` (a Salesforce Opportunity of a renewal ``Type`` closed won)
starts ``deal.renew``, one workflow, so every write carries the deal's correlation id:

1. the renewal deal read as a subscription plan (``plan_subscription``, as at onboarding);
2. billing: the account's live subscription takes the deal's items from the next period on and
   will renew (``renew_subscription``; Stripe: ``connectors/stripe/renewal.py``);
3. the ERP: the subscription's sales order carries the renewed lines (``upsert_sales_order``,
   same external id: the contract goes on; its dates move to the new term at the roll-over,
   ``subscription.renewed`` -> ``subscription.amend_in_erp``);
4. the CRM: the account's status, contract value, product summary, renewal date and forecast
   (``contract_fields``).

A re-delivered renewal finds each write done: billing's by the renewal marked on the
subscription, the ERP's by external id, the CRM's by comparing fields.
"""

from __future__ import annotations

from typing import Any

from syncwright.engine import WorkflowRun, workflow
from syncwright.errors import BusinessRuleError
from syncwright.workflows.billing_to_erp import _source, _targets, _write
from syncwright.workflows.lifecycle import _read, _to_crms
from syncwright.workflows.lifecycle_plan import contract_fields
from syncwright.workflows.onboarding_plan import plan_subscription


@workflow("deal.renew", handles=("syncwright.deal.renewal_won.v1",))
def renew(run: WorkflowRun, event: dict[str, Any]) -> dict[str, Any]:
    """Renewal won -> the subscription renewed in billing, its ERP order's lines, the CRM's
    contract and renewal forecast."""
    deal = event["data"]["deal"]
    account_id = deal["account_id"]
    billing = [
        c for c in run.services.connections_with_role("billing") if c.can("renew_subscription")
    ]
    if not billing:
        raise BusinessRuleError(
            f"renewal deal {deal['global_id']}: no billing connection can renew a subscription",
            code="renewal.no_billing",
            remediation="Add a billing connection whose connector renews subscriptions "
            "(Stripe), then retry this exception; or resolve it and renew in billing by hand.",
        )
    account = _read(run, _source(event), "read_account", account_id)
    plan = run.step("plan.subscription", plan_subscription, account, deal)
    renewed: dict[str, Any] = _write(run, billing[0], "renew_subscription", account_id, plan)[
        "subscription"
    ]
    orders: dict[str, Any] = {}
    for route in _targets(run, "upsert_sales_order", account_id, renewed["currency"]):
        target = route.target
        orders[target.name] = _write(run, target, "upsert_sales_order", renewed)["native_id"]
    crm = _to_crms(run, account_id, contract_fields(renewed))
    return {"subscription": renewed["global_id"], "sales_orders": orders, "crm_accounts": crm}
