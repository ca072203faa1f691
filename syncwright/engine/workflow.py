"""Workflow and step machinery (Temporal / DBOS style).

A workflow body is deterministic: it only decides what to do next. Every side effect is a
named step with an explicit :class:`StepPolicy`; each *attempt* of a step is checkpointed, so
after a crash the body replays from its checkpoints and continues where it stopped.

Failures are handled by their type (``syncwright.errors``):

- ``TransientError``: durable sleep with backoff (Retry-After honoured), then the next attempt.
- ``UncertainOutcomeError``: the step's ``probe`` reads the target; if the write landed, its
  result is used, else the step is retried -- never blindly re-sent.
- ``BusinessRuleError`` (or retries exhausted): the workflow *parks*: an exception record with
  remediation is opened and the run waits durably for ``retry`` (re-run the failed step) or
  ``abort`` (run the declared compensations and stop). Nothing downstream has run yet, so
  nothing is left partial.
"""

from __future__ import annotations

import concurrent.futures
import contextvars
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal

from syncwright.engine import _dbos
from syncwright.engine.context import StepContext
from syncwright.engine.policy import RetryPolicy, StepPolicy, policy_for
from syncwright.errors import (
    BusinessRuleError,
    SyncwrightError,
    TransientError,
    UncertainOutcomeError,
    error_from_dict,
)

log = logging.getLogger("syncwright.engine")

StepFunction = Callable[..., Any]
ProbeFunction = Callable[..., Any]
# How long one durable wait for an operator lasts before the run checks in again.
PARK_WAIT_SECONDS = 3600.0


class WorkflowAborted(Exception):
    """Raised inside a run when it ends early: an operator aborted a parked step, or a step
    whose failure policy is ``compensate`` failed and the compensations ran."""


OnFailure = Literal["park", "compensate"]
BRANCH_WORKFLOW = "syncwright.branch"


@dataclass(frozen=True)
class Branch:
    """One independent action for :meth:`WorkflowRun.parallel`: ``action`` of ``connection``
    with JSON-serializable ``args``; it runs as a child workflow with its own retries."""

    step: str
    connection: str
    action: str
    args: tuple[Any, ...] = ()
    policy: StepPolicy | None = None


@dataclass(frozen=True)
class WorkflowDefinition:
    name: str
    body: Callable[[WorkflowRun, dict[str, Any]], dict[str, Any] | None]
    handles: tuple[str, ...]
    timeout_seconds: float | None


_REGISTRY: dict[str, WorkflowDefinition] = {}


def workflow(
    name: str, *, handles: tuple[str, ...] | list[str] = (), timeout_seconds: float | None = None
) -> Callable[
    [Callable[[WorkflowRun, dict[str, Any]], dict[str, Any] | None]],
    Callable[[WorkflowRun, dict[str, Any]], dict[str, Any] | None],
]:
    """Declare a workflow. ``handles`` lists the canonical event types that start it.

    ``timeout_seconds`` bounds one run (``None``: no limit, so a parked run can wait for a fix);
    ``workflows.<name>.timeout_seconds`` in the config replaces it."""

    def register(
        body: Callable[[WorkflowRun, dict[str, Any]], dict[str, Any] | None],
    ) -> Callable[[WorkflowRun, dict[str, Any]], dict[str, Any] | None]:
        _REGISTRY[name] = WorkflowDefinition(name, body, tuple(handles), timeout_seconds)
        return body

    return register


def registered_workflows() -> dict[str, WorkflowDefinition]:
    return dict(_REGISTRY)


class StepHooks:
    """What the engine reports to the outside world: ledger rows and parked exceptions.

    The runtime plugs in an implementation backed by our tables; tests can read those tables.
    """

    def attempt_finished(
        self,
        ctx: StepContext,
        outcome: str,
        error: SyncwrightError | None,
        duration_ms: float,
        result: Any = None,
    ) -> None:
        """Called once per attempt, inside the checkpointed step. A step's result may carry a
        ``ledger`` dict (connection, entity_type, global_id, native_ids, request_digest,
        mapping_version) describing what it touched."""

    def parked(
        self, ctx: StepContext, error: SyncwrightError, about: dict[str, Any] | None = None
    ) -> str:
        """Open (or re-open) an exception record for a parked step; return its id. ``about``
        names the error's own type before retries ran out (``cause``), the step's
        ``connection`` and the ``record`` (global id) it was writing."""
        return ""

    def unparked(self, ctx: StepContext, action: str) -> None:
        """A parked step was retried successfully or aborted."""

    def compensated(self, ctx: StepContext, outcome: str, error: SyncwrightError | None) -> None:
        """A compensation ran (or failed)."""

    def rolled_back(self, ctx: StepContext, error: SyncwrightError, undone: list[str]) -> None:
        """A step failed under the ``compensate`` policy and ``undone`` steps were compensated."""

    def workflow_started(self, run: WorkflowRun) -> None:
        """A run's body starts (or resumes after a restart) in this process."""

    def workflow_finished(self, run: WorkflowRun, status: str, received_at: str | None) -> None:
        """A run's body ended: ``completed``, ``aborted``, ``failed`` (it raised) or
        ``interrupted`` (this process is stopping; the run resumes from its checkpoints).
        ``received_at`` is when the delivery that caused it was received (ISO 8601), if known."""

    def timed_out(self, run: TimedOutRun) -> None:
        """A run was stopped by its time limit (reported once per time-out, by any executor)."""


@dataclass(frozen=True)
class TimedOutRun:
    """A run the engine stopped because it outlived its ``timeout_seconds``."""

    workflow_id: str
    workflow: str
    correlation_id: str
    entity_key: str
    timeout_seconds: float
    stopped_at_ms: int


@dataclass
class _Compensation:
    step: str
    func: StepFunction
    args: tuple[Any, ...]


@dataclass
class WorkflowRun:
    """The handle a workflow body uses to run steps."""

    workflow_id: str
    workflow: str
    correlation_id: str
    entity_key: str
    services: Any
    hooks: StepHooks
    # Retry policies configured per connection (``connections.<name>.limits.retry``).
    connection_retry: Mapping[str, RetryPolicy] = field(default_factory=dict)
    # A replay under a chosen mapping version (``name@version``): its steps use that version.
    mapping: str | None = None
    _compensations: list[_Compensation] = field(default_factory=list)

    def step(
        self,
        name: str,
        func: StepFunction,
        *args: Any,
        policy: StepPolicy | None = None,
        probe: ProbeFunction | None = None,
        compensation: StepFunction | None = None,
        on_failure: OnFailure = "park",
        connection: str | None = None,
    ) -> Any:
        """Run ``func(StepContext, *args)`` durably; see the module doc for failure handling.

        ``connection`` names the connection the step acts on: a retry policy configured for it
        replaces ``policy.retry`` (:func:`~syncwright.engine.policy.policy_for`).

        ``on_failure="compensate"`` is for steps after downstream writes: instead of parking,
        a failure runs the compensations of the completed steps and ends the run.

        ``probe(StepContext, *args)`` returns the write's result if it already landed, else None.
        ``compensation(StepContext, result, *args)`` undoes the step if the workflow aborts later.
        """
        policy = policy_for(policy, connection, self.connection_retry)
        attempt = 0
        parked = False
        while True:
            attempt += 1
            ctx = self._context(name, attempt, policy)
            outcome = _dbos.run_step(f"{name}#{attempt}", _attempt, self.hooks, ctx, func, args)
            if outcome["ok"]:
                self._succeeded(ctx, func, args, outcome["value"], compensation, parked)
                return outcome["value"]
            error = error_from_dict(outcome["error"])
            if isinstance(error, UncertainOutcomeError) and probe is not None:
                probed = _dbos.run_step(
                    f"{name}#{attempt}.probe", _probe, self.hooks, ctx, probe, args
                )
                if probed["found"]:
                    self._succeeded(ctx, func, args, probed["value"], compensation, parked)
                    return probed["value"]
            retryable = isinstance(error, TransientError | UncertainOutcomeError)
            if retryable and attempt < policy.retry.max_attempts:
                retry_after = error.retry_after if isinstance(error, TransientError) else None
                delay = policy.retry.delay(attempt, retry_after)
                log.info("step %s attempt %d: %s; retry in %.1fs", name, attempt, error.code, delay)
                _dbos.sleep(delay)
                continue
            about = _about(error, args)
            if not isinstance(error, BusinessRuleError):
                error = BusinessRuleError(
                    f"step {name} failed after {attempt} attempts: {error.message}",
                    code=error.code,
                    remediation=(
                        "The target kept failing. Check the connection's health and credentials, "
                        "then retry this exception."
                    ),
                )
            if on_failure == "compensate":
                self._roll_back(ctx, error)
            action = self._park(ctx, error, about)
            parked = True
            if action == "abort":
                _dbos.run_step(f"{name}.unpark", self.hooks.unparked, ctx, "abort")
                self.compensate()
                raise WorkflowAborted(f"{name}: aborted by operator")
            attempt = 0  # "retry": the failed step runs again with a fresh retry budget

    def parallel(self, branches: list[Branch], *, on_failure: OnFailure = "park") -> list[Any]:
        """Run independent actions at the same time, each as a child workflow (its own retries,
        probes and parking); return their results in order. Completed branches register their
        action's compensation. Under ``compensate``, a failed branch rolls the run back."""
        handles = [
            _dbos.start_child(
                BRANCH_WORKFLOW,
                {
                    "step": branch.step,
                    "connection": branch.connection,
                    "action": branch.action,
                    "args": list(branch.args),
                    "policy": asdict(branch.policy or StepPolicy()),
                    "on_failure": on_failure,
                    "workflow": self.workflow,
                    "correlation_id": self.correlation_id,
                    "entity_key": self.entity_key,
                    "mapping": self.mapping,
                },
            )
            for branch in branches
        ]
        outcomes = [_dbos.child_result(handle) for handle in handles]
        results: list[Any] = []
        failure: dict[str, Any] | None = None
        for branch, outcome in zip(branches, outcomes, strict=True):
            if outcome.get("status") != "completed":
                failure = failure or {"step": branch.step, **outcome}
                continue
            action = self.services.connection(branch.connection).action(branch.action)
            if action.compensate is not None:
                self._compensations.append(
                    _Compensation(
                        branch.step,
                        action.compensate,
                        (outcome["value"], branch.connection, *branch.args),
                    )
                )
            results.append(outcome["value"])
        if failure is not None:
            # The branch already ledgered and reported its failure; undo what the run did.
            self.compensate()
            raise WorkflowAborted(f"branch {failure['step']} failed: {failure.get('reason')}")
        return results

    def _roll_back(self, ctx: StepContext, error: SyncwrightError) -> None:
        undone = [c.step for c in reversed(self._compensations)]
        self.compensate()
        _dbos.run_step(f"{ctx.step}.rolled_back", self.hooks.rolled_back, ctx, error, undone)
        raise WorkflowAborted(f"{ctx.step} failed ({error.code}); rolled back {undone}")

    def compensate(self) -> None:
        """Undo completed steps in reverse order (saga). Each compensation is itself a step."""
        while self._compensations:
            comp = self._compensations.pop()
            ctx = self._context(f"{comp.step}.compensate", 1, StepPolicy())
            done = _dbos.run_step(ctx.step, _compensate, self.hooks, ctx, comp.func, comp.args)
            if not done["ok"]:
                log.error("compensation %s failed: %s", ctx.step, done["error"])

    def _succeeded(
        self,
        ctx: StepContext,
        func: StepFunction,
        args: tuple[Any, ...],
        value: Any,
        compensation: StepFunction | None,
        parked: bool,
    ) -> None:
        if parked:
            _dbos.run_step(f"{ctx.step}.unpark", self.hooks.unparked, ctx, "retry")
        if compensation is not None:
            self._compensations.append(_Compensation(ctx.step, compensation, (value, *args)))

    def _park(self, ctx: StepContext, error: BusinessRuleError, about: dict[str, Any]) -> str:
        log.warning("step %s parked (%s): waiting for an operator", ctx.step, error.code)
        _dbos.run_step(f"{ctx.step}#{ctx.attempt}.park", self.hooks.parked, ctx, error, about)
        while True:
            message = _dbos.recv(_dbos.RESUME_TOPIC, PARK_WAIT_SECONDS)
            if isinstance(message, dict) and message.get("action") in ("retry", "abort"):
                return str(message["action"])

    def _context(self, name: str, attempt: int, policy: StepPolicy) -> StepContext:
        return StepContext(
            workflow_id=self.workflow_id,
            workflow=self.workflow,
            step=name,
            attempt=attempt,
            correlation_id=self.correlation_id,
            entity_key=self.entity_key,
            timeout_seconds=policy.timeout_seconds,
            services=self.services,
        )


_timeout_pool = concurrent.futures.ThreadPoolExecutor(max_workers=64, thread_name_prefix="step")


def _call_with_timeout(ctx: StepContext, func: StepFunction, args: tuple[Any, ...]) -> Any:
    # The step's thread sees the run's context variables (the correlation id of its log lines).
    future = _timeout_pool.submit(contextvars.copy_context().run, func, ctx, *args)
    try:
        return future.result(timeout=ctx.timeout_seconds)
    except concurrent.futures.TimeoutError as exc:
        # The call may still land after we stop waiting: its outcome is unknown, not failed.
        raise UncertainOutcomeError(
            f"step {ctx.step} did not finish within {ctx.timeout_seconds}s",
            code="step.timeout",
        ) from exc


def _attempt(
    hooks: StepHooks, ctx: StepContext, func: StepFunction, args: tuple[Any, ...]
) -> dict[str, Any]:
    """One checkpointed attempt. Errors become data so durable state stays JSON."""
    started = time.perf_counter()
    try:
        value = _call_with_timeout(ctx, func, args)
    except SyncwrightError as exc:
        hooks.attempt_finished(ctx, _outcome_name(exc), exc, _ms(started))
        return {"ok": False, "error": exc.to_dict()}
    except Exception as exc:  # a bug or an unclassified failure: park it, don't retry blindly
        log.exception("step %s raised an unclassified error", ctx.step)
        error = BusinessRuleError(
            f"step {ctx.step} raised {type(exc).__name__}: {exc}",
            code="internal.unclassified",
            remediation="An unexpected error; report it with this exception id, then retry.",
        )
        hooks.attempt_finished(ctx, "failed", error, _ms(started))
        return {"ok": False, "error": error.to_dict()}
    hooks.attempt_finished(ctx, "ok", None, _ms(started), value)
    return {"ok": True, "value": value}


def _probe(
    hooks: StepHooks, ctx: StepContext, probe: ProbeFunction, args: tuple[Any, ...]
) -> dict[str, Any]:
    """Read the target after an uncertain write. Ledgered as ``probe`` (found: the write had
    landed, its result is used) or ``probe_miss`` (not found: the step is tried again)."""
    started = time.perf_counter()
    probe_ctx = replace(ctx, step=f"{ctx.step}.probe")
    try:
        value = probe(ctx, *args)
    except SyncwrightError as exc:
        hooks.attempt_finished(probe_ctx, "probe_miss", exc, _ms(started))
        return {"found": False, "value": None}
    found = value is not None
    hooks.attempt_finished(probe_ctx, "probe" if found else "probe_miss", None, _ms(started), value)
    return {"found": found, "value": value}


def _compensate(
    hooks: StepHooks, ctx: StepContext, func: StepFunction, args: tuple[Any, ...]
) -> dict[str, Any]:
    try:
        func(ctx, *args)
    except SyncwrightError as exc:
        hooks.compensated(ctx, "failed", exc)
        return {"ok": False, "error": exc.to_dict()}
    hooks.compensated(ctx, "compensated", None)
    return {"ok": True}


def _about(error: SyncwrightError, args: tuple[Any, ...]) -> dict[str, Any]:
    """What a parked step was doing, from the step convention ``(ctx, connection, *args)``:
    the connection, and the global id of the first canonical entity among its arguments."""
    connection = args[0] if args and isinstance(args[0], str) else None
    record = next(
        (str(a["global_id"]) for a in args if isinstance(a, dict) and a.get("global_id")), None
    )
    return {"cause": error.kind, "connection": connection, "record": record}


def _outcome_name(error: SyncwrightError) -> str:
    if isinstance(error, TransientError):
        return "transient"
    if isinstance(error, UncertainOutcomeError):
        return "uncertain"
    if isinstance(error, BusinessRuleError):
        return "business"
    return "failed"


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 3)
