"""Engine hooks backed by our tables: each step attempt is ledgered; parked steps open
exception records with remediation, and close them when a retry succeeds; a run stopped by its
time limit opens one too."""

from __future__ import annotations

from typing import Any

from syncwright.engine import StepContext, StepHooks, TimedOutRun
from syncwright.errors import BusinessRuleError, SyncwrightError
from syncwright.exceptions import ExceptionQueue
from syncwright.exceptions.service import TIMED_OUT
from syncwright.ledger import Ledger, LedgerEntry


class LedgerHooks(StepHooks):
    def __init__(self, ledger: Ledger, exceptions: ExceptionQueue) -> None:
        self._ledger = ledger
        self._exceptions = exceptions

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

    def timed_out(self, run: TimedOutRun) -> None:
        """One exception per time-out: a second report of the same stop changes nothing."""
        step = "workflow.timeout"
        known = self._exceptions.latest_for_step(run.workflow_id, step)
        if known is not None and (known.details or {}).get("stopped_at_ms") == run.stopped_at_ms:
            return
        message = (
            f"run {run.workflow_id} of {run.workflow} was stopped after its time limit of "
            f"{run.timeout_seconds:g}s"
        )
        remediation = (
            f"Steps completed before the stop stay done; nothing was undone. See what held the "
            f"run up with `syncwright trace {run.correlation_id}` and fix it, then retry this "
            f"exception to run it again from its last completed step (with a fresh limit of "
            f"{run.timeout_seconds:g}s; a changed workflows.{run.workflow}.timeout_seconds "
            "applies to runs started after the change), or resolve it to leave it stopped."
        )
        # A step the run had parked on can no longer be retried by itself: this record takes
        # over (its retry restarts the run and re-runs that step).
        parked = [
            r for r in self._exceptions.unresolved_for_workflow(run.workflow_id) if r.step != step
        ]
        record_id = self._exceptions.open(
            source="workflow",
            correlation_id=run.correlation_id,
            code=TIMED_OUT,
            message=message,
            remediation=remediation,
            workflow_id=run.workflow_id,
            workflow=run.workflow,
            step=step,
            details={
                "timeout_seconds": run.timeout_seconds,
                "stopped_at_ms": run.stopped_at_ms,
                "parked_steps": [r.step for r in parked],
            },
        )
        for record in parked:
            self._exceptions.mark_resolved(
                record.id, f"superseded by {record_id}: the run was stopped by its time limit"
            )
        self._ledger.append(
            LedgerEntry(
                correlation_id=run.correlation_id,
                workflow_id=run.workflow_id,
                workflow=run.workflow,
                entity_key=run.entity_key or None,
                step=step,
                outcome="timed_out",
                error_code=TIMED_OUT,
                message=f"exception {record_id}: {message}",
            )
        )
