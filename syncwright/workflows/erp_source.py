"""The ERP as a source: the account facts the ERP owns (legal name, tax registration, credit
status/hold, payment terms, financial dimensions), changed in the ERP, shown on the CRM account
and on the billing customer.

Starts on ``account.erp_changed`` (NetSuite's ``customers`` poll); the policy gate has already
removed what the ERP does not own (``ownership:``) and our own writes coming back (echo), so
``changed_fields`` is what the ERP changed. Each CRM (``update_account_billing``) and billing
system (``update_customer``) that knows the account gets only those facts.
"""

from __future__ import annotations

from typing import Any

from syncwright.engine import RetryPolicy, StepContext, StepPolicy, WorkflowRun, workflow

WRITE = StepPolicy(
    timeout_seconds=15.0,
    retry=RetryPolicy(max_attempts=6, base_delay_seconds=0.5, max_delay_seconds=15.0),
)
#: Canonical account field -> the key the CRM and billing actions take for it.
ERP_FACTS = {
    "legal_name": "legal_name",
    "tax_ids": "tax_id",
    "credit_status": "credit_status",
    "payment_terms": "payment_terms",
}
#: The financial dimensions (``financial_dimensions``), each its own key of the actions.
DIMENSION_KEYS = ("department", "classification", "location")
# (role, action) of each kind of system the facts go to.
DESTINATIONS = (("crm", "update_account_billing"), ("billing", "update_customer"))


def _linked(ctx: StepContext, system: str, global_id: str) -> bool:
    return ctx.services.xref.native_id_for("account", global_id, system) is not None


def facts_of(account: dict[str, Any], changed: list[str]) -> dict[str, Any]:
    """The changed ERP facts of ``account``, keyed as the CRM and billing actions take them
    (the first tax registration's number stands for ``tax_ids``; ``financial_dimensions`` is
    ``department``, ``classification`` and ``location``, None clearing one)."""
    facts: dict[str, Any] = {}
    for name, key in ERP_FACTS.items():
        if name not in changed:
            continue
        value = account.get(name)
        if name == "tax_ids":
            value = value[0]["value"] if value else None
        facts[key] = value
    if "financial_dimensions" in changed:
        dimensions = account.get("financial_dimensions") or {}
        facts.update({key: dimensions.get(key) for key in DIMENSION_KEYS})
    return facts


@workflow("account.erp_to_crm_and_billing", handles=("syncwright.account.erp_changed.v1",))
def erp_to_crm_and_billing(run: WorkflowRun, event: dict[str, Any]) -> dict[str, Any]:
    account = event["data"]["account"]
    facts = facts_of(account, list(event["data"].get("changed_fields") or ()))
    if not facts:
        return {"skipped": "no ERP-owned fact changed"}
    written: dict[str, Any] = {}
    for role, action_name in DESTINATIONS:
        for target in run.services.connections_with_role(role):
            if not target.can(action_name) or not run.step(
                f"{target.name}.account_linked", _linked, target.name, account["global_id"]
            ):
                continue  # this system does not hold the customer
            action = target.action(action_name)
            result = run.step(
                f"{target.name}.{action_name}",
                action.run,
                target.name,
                account["global_id"],
                facts,
                policy=WRITE,
                probe=action.probe,
                connection=target.name,
            )
            written[target.name] = result["native_id"]
    return {"facts": sorted(facts), "written": written}
