"""Support cases that need a commercial decision reach the CRM account (docs/lifecycle.md).

A case (``syncwright.case.upserted.v1``, from the support desk's ticket events) tagged with one
of ``lifecycle.escalation_tags`` (``credit_request``, ``refund_request`` by default) while it is
open becomes a task on the account in every CRM connection that knows the account
(``escalate_case``: a Salesforce Task, created once per case, so the account owner decides and
a later change of the ticket does not reopen or duplicate it).
"""

from __future__ import annotations

from typing import Any

from syncwright.engine import StepContext, WorkflowRun, workflow
from syncwright.workflows.billing_to_erp import _linked, _source, _write

CLOSED = frozenset({"solved", "closed"})


def case_reference(ctx: StepContext, source: str, case_id: str) -> str:
    """How a person finds the case: ``<connection> ticket <native id>``."""
    native = ctx.services.xref.native_id_for("case", case_id, source)
    return f"{source} ticket {native}" if native else f"support case {case_id}"


@workflow("case.escalate_to_crm", handles=("syncwright.case.upserted.v1",))
def escalate_to_crm(run: WorkflowRun, event: dict[str, Any]) -> dict[str, Any]:
    """An open case tagged for a commercial decision -> a task on the CRM account."""
    case = event["data"]["support_case"]
    tags = [t for t in run.services.settings.lifecycle.escalation_tags if t in case["tags"]]
    account_id = case.get("account_id")
    if not tags or not account_id or case["status"] in CLOSED:
        return {"skipped": "no open case with an escalation tag on a known account"}
    crms = [
        crm
        for crm in run.services.connections_with_role("crm")
        if crm.can("escalate_case")
        and run.step(f"{crm.name}.account_linked", _linked, "account", crm.name, account_id)
    ]
    if not crms:
        return {"skipped": "no CRM knows the account"}
    source = _source(event)
    reference = run.step("case.reference", case_reference, source, case["global_id"])
    # One task per case: the first matching tag (in the configured order) names the reason;
    # a tag added later does not open a second one.
    escalation = {
        "id": f"{case['global_id']}:escalation",
        "reason": tags[0],
        "subject": case["subject"],
        "reference": reference,
        "priority": case["priority"],
        "opened_at": case["opened_at"],
    }
    tasks = {
        crm.name: _write(run, crm, "escalate_case", account_id, escalation)["native_id"]
        for crm in crms
    }
    return {"tasks": tasks}
