"""Engine hooks backed by our tables: each step attempt is ledgered (and the canonical fields
a successful write reports are remembered for echo suppression); parked steps open exception
records with remediation, and close them when a retry succeeds."""

from __future__ import annotations

from typing import Any

from syncwright.engine import StepContext, StepHooks
from syncwright.errors import BusinessRuleError, SyncwrightError
from syncwright.exceptions import ExceptionQueue
from syncwright.ledger import Ledger, LedgerEntry
from syncwright.policy import PolicyStore


class LedgerHooks(StepHooks):
    def __init__(
        self, ledger: Ledger, exceptions: ExceptionQueue, policy: PolicyStore | None = None
    ) -> None:
        self._ledger = ledger
        self._exceptions = exceptions
        self._policy = policy

    def attempt_finished(
        self,
        ctx: StepContext,
        outcome: str,
        error: SyncwrightError | None,
        duration_ms: float,
        result: Any = None,
    ) -> None:
        touched = result.get("ledger", {}) if isinstance(result, dict) else {}
        self._ledger.append(
            LedgerEntry(
                correlation_id=ctx.correlation_id,
                workflow_id=ctx.workflow_id,
                workflow=ctx.workflow,
                entity_key=ctx.entity_key,
                step=ctx.step,
                attempt=ctx.attempt,
                outcome=outcome,
                error_code=error.code if error else None,
                message=error.message if error else None,
                duration_ms=duration_ms,
                connection=touched.get("connection"),
                entity_type=touched.get("entity_type"),
                global_id=touched.get("global_id"),
                native_ids=touched.get("native_ids") or {},
                request_digest=touched.get("request_digest"),
                mapping_version=touched.get("mapping_version"),
            )
        )
        fields = touched.get("fields")
        if outcome == "ok" and fields and self._policy is not None:
            # What this step wrote, remembered so that its echo from the system is recognised.
            self._policy.remember_writes(
                str(touched["connection"]),
                str(touched["entity_type"]),
                str(touched["global_id"]),
                fields,
                workflow_id=ctx.workflow_id,
            )

    def parked(self, ctx: StepContext, error: SyncwrightError) -> str:
        remediation = error.remediation if isinstance(error, BusinessRuleError) else ""
        record_id = self._exceptions.open(
            source="workflow",
            correlation_id=ctx.correlation_id,
            code=error.code,
            message=error.message,
            remediation=remediation,
            workflow_id=ctx.workflow_id,
            workflow=ctx.workflow,
            step=ctx.step,
        )
        self._ledger.append(
            LedgerEntry(
                correlation_id=ctx.correlation_id,
                workflow_id=ctx.workflow_id,
                workflow=ctx.workflow,
                entity_key=ctx.entity_key,
                step=ctx.step,
                attempt=ctx.attempt,
                outcome="parked",
                error_code=error.code,
                message=f"exception {record_id}: {remediation}",
            )
        )
        return record_id

    def unparked(self, ctx: StepContext, action: str) -> None:
        resolution = "retried successfully" if action == "retry" else "aborted by operator"
        self._exceptions.resolve_for_workflow_step(ctx.workflow_id, ctx.step, resolution)

    def rolled_back(self, ctx: StepContext, error: SyncwrightError, undone: list[str]) -> None:
        """Visible to operations, though nothing is left to do: the run undid its own work."""
        record_id = self._exceptions.open(
            source="workflow",
            correlation_id=ctx.correlation_id,
            code=error.code,
            message=error.message,
            remediation=error.remediation if isinstance(error, BusinessRuleError) else "",
            workflow_id=ctx.workflow_id,
            workflow=ctx.workflow,
            step=ctx.step,
            details={"rolled_back": undone},
        )
        self._exceptions.mark_resolved(
            record_id, f"rolled back automatically: {', '.join(undone) or 'nothing to undo'}"
        )

    def compensated(self, ctx: StepContext, outcome: str, error: SyncwrightError | None) -> None:
        self.attempt_finished(ctx, outcome, error, 0.0)
