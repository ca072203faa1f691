"""Account changes -> the connections with ``options.role: erp`` that can upsert accounts (those
``routing.erp`` chooses for the account, when it has rules), and
the ERP's id back onto the account in the CRM it came from (two-way).

The workflow speaks canonical data and action names only; each target's connector supplies
the vendor calls (``Connector.actions``). The write-back is a partial update that sends nothing
when the CRM already holds that id, so a repeated sync writes nothing into the CRM and no echo
comes back.
"""

from __future__ import annotations

from typing import Any

from syncwright.engine import RetryPolicy, StepPolicy, WorkflowRun, workflow
from syncwright.workflows._route import route_account

ERP_WRITE = StepPolicy(
    timeout_seconds=10.0,
    retry=RetryPolicy(max_attempts=6, base_delay_seconds=0.2, max_delay_seconds=5.0),
)


@workflow("account.sync_to_erp", handles=("syncwright.account.upserted.v1",))
def account_sync(run: WorkflowRun, event: dict[str, Any]) -> dict[str, Any]:
    account = event["data"]["account"]
    written: dict[str, Any] = {}
    source = str(event.get("source", "")).split("/", 1)[-1]
    for route in route_account(run, "erp", "upsert_account", account["global_id"], account=account):
        target = route.target
        if target.name == source:
            # An account read from this ERP (e.g. its customers polled) is its own record
            # there: writing it back would file it again under syncwright's key, a duplicate.
            continue
        action = target.action("upsert_account")
        result = run.step(
            f"{target.name}.upsert_account",
            action.run,
            target.name,
            route.account(account),
            policy=ERP_WRITE,
            probe=action.probe,
            connection=target.name,
        )
        written[target.name] = result["native_id"]
    crm = [c for c in run.services.connections_with_role("crm") if c.name == source]
    if written and crm and crm[0].can("update_account_billing"):
        # The ERP owns its own id; the CRM shows it (the first ERP's, when there are several).
        back = crm[0].action("update_account_billing")
        run.step(
            f"{source}.update_account_billing",
            back.run,
            source,
            account["global_id"],
            {"erp_id": next(iter(written.values()))},
            policy=ERP_WRITE,
            probe=back.probe,
        )
    return {"native_ids": written}
