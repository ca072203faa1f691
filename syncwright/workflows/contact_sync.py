"""A contact created or changed in the CRM -> the support desks and the billing contact.

- Every ``role: support`` connection that can ``upsert_contact`` gets the person (a Zendesk end
  user, a Freshdesk contact) in the organization/company of the contact's account.
- A contact with the ``billing`` role, of an account, with an email, becomes the billing
  contact of the account's customer in every ``role: billing`` connection that can
  ``update_customer`` -- only where the ownership policy gives the contact's CRM the account's
  ``billing_email`` (``ownership.account.fields.billing_email``; by default billing owns it,
  and then nothing is written there and the result says so).

Re-deliveries and our own writes coming back are held back by the policy gate before a run
starts (``contact.upserted`` travels only with a change); each write is read-compare-write, so
a repeated run sends nothing.
"""

from __future__ import annotations

from typing import Any

from syncwright.engine import RetryPolicy, StepPolicy, WorkflowRun, workflow

WRITE = StepPolicy(
    timeout_seconds=10.0,
    retry=RetryPolicy(max_attempts=6, base_delay_seconds=0.2, max_delay_seconds=5.0),
)


def _source(event: dict[str, Any]) -> str:
    return str(event.get("source", "")).split("/", 1)[-1]


@workflow("contact.sync", handles=("syncwright.contact.upserted.v1",))
def contact_sync(run: WorkflowRun, event: dict[str, Any]) -> dict[str, Any]:
    contact = event["data"]["contact"]
    support: dict[str, Any] = {}
    for target in run.services.connections_with_role("support"):
        if not target.can("upsert_contact"):
            continue
        action = target.action("upsert_contact")
        result = run.step(
            f"{target.name}.upsert_contact",
            action.run,
            target.name,
            contact,
            policy=WRITE,
            probe=action.probe,
            connection=target.name,
        )
        support[target.name] = result["native_id"]
    billing: dict[str, Any] = {}
    account_id, email = contact.get("account_id"), contact.get("email")
    if "billing" in (contact.get("roles") or ()) and account_id and email:
        source = _source(event)
        owner = run.services.ownership.owner("account", "billing_email")
        if source not in owner.connections:
            return {"support": support, "billing": {}, "billing_email": f"owned by {owner.rule}"}
        for target in run.services.connections_with_role("billing"):
            if not target.can("update_customer"):
                continue
            action = target.action("update_customer")
            result = run.step(
                f"{target.name}.update_customer",
                action.run,
                target.name,
                account_id,
                {"billing_email": email},
                policy=WRITE,
                probe=action.probe,
                connection=target.name,
            )
            billing[target.name] = result["native_id"]
    return {"support": support, "billing": billing}
