"""Account changes -> every connection with ``options.role: erp`` that can upsert accounts.

The workflow speaks canonical data and action names only; each target's connector supplies
the vendor calls (``Connector.actions``).
"""

from __future__ import annotations

from typing import Any

from syncwright.engine import RetryPolicy, StepPolicy, WorkflowRun, workflow

ERP_WRITE = StepPolicy(
    timeout_seconds=10.0,
    retry=RetryPolicy(max_attempts=6, base_delay_seconds=0.2, max_delay_seconds=5.0),
)


@workflow("account.sync_to_erp", handles=("syncwright.account.upserted.v1",))
def account_sync(run: WorkflowRun, event: dict[str, Any]) -> dict[str, Any]:
    account = event["data"]["account"]
    written: dict[str, Any] = {}
    for target in run.services.connections_with_role("erp"):
        if not target.can("upsert_account"):
            continue
        action = target.action("upsert_account")
        result = run.step(
            f"{target.name}.upsert_account",
            action.run,
            target.name,
            account,
            policy=ERP_WRITE,
            probe=action.probe,
            connection=target.name,
        )
        written[target.name] = result["native_id"]
    return {"native_ids": written}
