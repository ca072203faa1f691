"""Engine hooks backed by our tables: each step attempt is ledgered (and the canonical fields
a successful write reports are remembered for echo suppression); the financial writes a step
declared (``connectors.audit_write``) go to the audit trail; parked steps open exception
records with remediation, and close them when a retry succeeds; a run stopped by its time limit
opens one too."""

from __future__ import annotations

from typing import Any

from syncwright.engine import StepContext, StepHooks, TimedOutRun
from syncwright.errors import BusinessRuleError, DependencyMissingError, SyncwrightError
from syncwright.exceptions import ExceptionQueue
from syncwright.exceptions.classify import classify
from syncwright.exceptions.service import TIMED_OUT
from syncwright.ledger import AuditEntry, AuditTrail, Ledger, LedgerEntry
from syncwright.policy import PolicyStore


class LedgerHooks(StepHooks):
    def __init__(
        self,
        ledger: Ledger,
        exceptions: ExceptionQueue,
        *,
        audit: AuditTrail | None = None,
        policy: PolicyStore | None = None,
    ) -> None:
        self._ledger = ledger
        self._exceptions = exceptions
        self._audit = audit
        self._policy = policy

    def record_writes(self, ctx: StepContext) -> None:
        """The audit trail's one way in for writes: what the step declared, once per run."""
        declared, ctx.audit_writes[:] = list(ctx.audit_writes), []
        if self._audit is None:
            return
        for write in declared:
            if self._audit.recorded(
                workflow_id=ctx.workflow_id,
                connection=write["connection"],
                action=write["action"],
                native_id=write["native_id"],
                amount_minor=write["amount_minor"],
                currency=write["currency"],
            ):
                continue
            self._audit.append(
                AuditEntry(
                    kind="write",
                    correlation_id=ctx.correlation_id,
                    workflow_id=ctx.workflow_id,
                    step=ctx.step,
                    **write,
                )
            )

    def attempt_finished(
        self,
        ctx: StepContext,
        outcome: str,
        error: SyncwrightError | None,
        duration_ms: float,
        result: Any = None,
    ) -> None:
        with self._ledger.transaction():
            self._attempt_finished(ctx, outcome, error, duration_ms, result)

    def _attempt_finished(
        self,
        ctx: StepContext,
        outcome: str,
        error: SyncwrightError | None,
        duration_ms: float,
        result: Any,
    ) -> None:
        self.record_writes(ctx)
        touched = result.get("ledger", {}) if isinstance(result, dict) else {}
        if outcome in ("ok", "probe") and touched.get("global_id") and touched.get("connection"):
            # A later attempt for the same record succeeded: other runs parked on it resolve.
            self._exceptions.supersede(
                connection=str(touched["connection"]),
                record=str(touched["global_id"]),
                step=ctx.step.removesuffix(".probe"),
                workflow_id=ctx.workflow_id,
            )
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

    def parked(
        self, ctx: StepContext, error: SyncwrightError, about: dict[str, Any] | None = None
    ) -> str:
        with self._ledger.transaction():
            return self._parked(ctx, error, about or {})

    def _parked(self, ctx: StepContext, error: SyncwrightError, about: dict[str, Any]) -> str:
        remediation = error.remediation if isinstance(error, BusinessRuleError) else ""
        waits_for = error.waits_for if isinstance(error, DependencyMissingError) else None
        record_id = self._exceptions.open(
            source="workflow",
            correlation_id=ctx.correlation_id,
            code=error.code,
            message=error.message,
            remediation=remediation,
            workflow_id=ctx.workflow_id,
            workflow=ctx.workflow,
            step=ctx.step,
            connection=about.get("connection"),
            record=about.get("record"),
            error_class=classify(error.code, about.get("cause") or error.kind),
            waiting_on=dict(waits_for) if waits_for else None,
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
            error_class=classify(error.code, error.kind),
        )
        self._exceptions.mark_resolved(
            record_id, f"rolled back automatically: {', '.join(undone) or 'nothing to undo'}"
        )

    def compensated(self, ctx: StepContext, outcome: str, error: SyncwrightError | None) -> None:
        self.attempt_finished(ctx, outcome, error, 0.0)  # records the writes it declared too

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
