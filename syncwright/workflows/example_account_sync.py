"""Account changes from the example shop -> every connection with ``options.role: erp``."""

from __future__ import annotations

from typing import Any

from syncwright.connectors.example.outbound import probe_account, upsert_account
from syncwright.engine import RetryPolicy, StepPolicy, WorkflowRun, workflow

ERP_WRITE = StepPolicy(
    timeout_seconds=10.0,
    retry=RetryPolicy(max_attempts=6, base_delay_seconds=0.2, max_delay_seconds=5.0),
)


@workflow("example.account_sync", handles=("syncwright.account.upserted.v1",))
def account_sync(run: WorkflowRun, event: dict[str, Any]) -> dict[str, Any]:
    account = event["data"]["account"]
    written: dict[str, Any] = {}
    for target in run.services.connections_with_role("erp"):
        result = run.step(
            f"{target.name}.upsert_account",
            upsert_account,
            target.name,
            account,
            policy=ERP_WRITE,
            probe=probe_account,
        )
        written[target.name] = result["native_id"]
    return {"native_ids": written}
