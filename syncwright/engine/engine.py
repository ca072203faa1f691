"""Engine lifecycle: launch DBOS with our workflows, enqueue by entity key, talk to runs."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager, nullcontext
from datetime import datetime
from typing import Any

from syncwright.engine import _dbos
from syncwright.engine.context import current_run
from syncwright.engine.executors import ExecutorRegistry, Heartbeat
from syncwright.engine.ids import replay_correlation_id
from syncwright.engine.policy import RetryPolicy, StepPolicy
from syncwright.engine.timeouts import TimeoutWatch, WorkflowLimits
from syncwright.engine.workflow import (
    BRANCH_WORKFLOW,
    OnFailure,
    StepHooks,
    WorkflowAborted,
    WorkflowDefinition,
    WorkflowRun,
    registered_workflows,
)
from syncwright.store import Database


def open_runs(db: Database, *, workflow: str | None = None) -> list[tuple[str, str, str]]:
    """(workflow id, workflow name, status) of runs not yet finished, read from the database:
    ``ENQUEUED`` (waiting for a slot) or ``PENDING`` (running, backing off or parked)."""
    return _dbos.open_runs(db, workflow=workflow)


def open_run_counts(db: Database) -> dict[tuple[str, str], int]:
    """(workflow name, ``ENQUEUED`` | ``PENDING``) -> how many runs are not yet finished."""
    return _dbos.open_run_counts(db)


class Engine:
    """One per process. ``services`` is whatever the step functions need (connectors, stores)."""

    def __init__(
        self,
        db: Database,
        *,
        application_version: str,
        executor_id: str = "local",
        services: Any = None,
        hooks: StepHooks | None = None,
        worker_concurrency: int = 16,
        partition_concurrency: int = 1,
        polling_interval_seconds: float = 0.05,
        run_workflows: bool = True,
        heartbeat_seconds: float = 10.0,
        takeover_after_seconds: float = 60.0,
        connection_retry: Mapping[str, RetryPolicy] | None = None,
        workflow_limits: Mapping[str, WorkflowLimits] | None = None,
    ) -> None:
        """``connection_retry``: connection name -> the retry policy of every step acting on
        it (replacing the step's own). ``workflow_limits``: workflow name -> its concurrency
        and time limit."""
        self.db = db
        self.application_version = application_version
        self.executor_id = executor_id
        self.services = services
        self.hooks = hooks or StepHooks()
        self._worker_concurrency = worker_concurrency
        self._partition_concurrency = partition_concurrency
        self._polling = polling_interval_seconds
        self._run_workflows = run_workflows
        self._connection_retry = dict(connection_retry or {})
        self._limits = dict(workflow_limits or {})
        self._launched = False
        # Only an executor that runs workflows is alive in the takeover sense.
        self._heartbeat = (
            Heartbeat(
                ExecutorRegistry(db),
                executor_id,
                application_version,
                recover=_dbos.recover,
                interval_seconds=heartbeat_seconds,
                takeover_after_seconds=takeover_after_seconds,
            )
            if run_workflows
            else None
        )
        self._timeouts = (
            TimeoutWatch(self.hooks, interval_seconds=min(heartbeat_seconds, 5.0))
            if run_workflows
            else None
        )

    def launch(self) -> Engine:
        entries = {name: self._entry(d) for name, d in registered_workflows().items()}

        def branch(payload: dict[str, Any]) -> dict[str, Any]:
            return self._branch_entry(payload)

        entries[BRANCH_WORKFLOW] = branch
        _dbos.launch(
            self.db,
            application_version=self.application_version,
            executor_id=self.executor_id,
            workflows=entries,
            worker_concurrency=self._worker_concurrency,
            partition_concurrency=self._partition_concurrency,
            polling_interval_seconds=self._polling,
            listen_queues=self._run_workflows,
            workflow_queues={
                name: limits.queue_concurrency
                for name, limits in self._limits.items()
                if limits.queue_concurrency is not None
            },
            priority_classes=frozenset(
                limits.priority
                for limits in self._limits.values()
                if limits.queue_concurrency is None and limits.priority != "normal"
            ),
        )
        self._launched = True
        if self._heartbeat is not None:
            self._heartbeat.start()
        if self._timeouts is not None:
            self._timeouts.start()
        return self

    def shutdown(self) -> None:
        if self._timeouts is not None:
            self._timeouts.stop()
        if self._heartbeat is not None:
            self._heartbeat.stop()
        if self._launched:
            _dbos.shutdown()
            self._launched = False

    def enqueue(
        self,
        workflow: str,
        *,
        workflow_id: str,
        entity_key: str,
        correlation_id: str,
        event: dict[str, Any],
        received_at: datetime | None = None,
        mapping: str | None = None,
    ) -> str:
        """Start ``workflow`` for ``event`` in the entity's partition (in order per entity).

        Enqueueing the same ``workflow_id`` again returns the existing run: dispatch is idempotent.
        ``received_at`` (when the delivery arrived) lets the run report end-to-end latency.
        A workflow with its own ``queue_concurrency`` goes to its own queue (in order per entity
        among its own runs), one of priority ``high`` or ``low`` to its class's lane (likewise);
        its time limit is the configured one, else the declared one. ``mapping``
        (``name@version``, a replay under a chosen mapping version): every step of the run asks
        its connector for that version where vendor and direction match (outbound write-backs).
        """
        payload = {"correlation_id": correlation_id, "entity_key": entity_key, "event": event}
        if received_at is not None:
            payload["received_at"] = received_at.isoformat()
        if mapping is not None:
            payload["mapping"] = mapping
        limits = self._limits.get(workflow, WorkflowLimits())
        definition = registered_workflows().get(workflow)
        timeout = limits.timeout_seconds
        if timeout is None and definition is not None:
            timeout = definition.timeout_seconds
        if limits.queue_concurrency is not None:
            queue = _dbos.workflow_queue(workflow)
        elif limits.priority != "normal":
            queue = _dbos.priority_queue(limits.priority)
        else:
            queue = _dbos.ENTITY_QUEUE
        return _dbos.enqueue(
            workflow, workflow_id, entity_key, payload, queue=queue, timeout_seconds=timeout
        )

    def report_timeouts(self) -> int:
        """Report runs stopped by their time limit now (the watch also does so periodically)."""
        return len(self._timeouts.report()) if self._timeouts is not None else 0

    def status(self, workflow_id: str) -> str | None:
        return _dbos.status(workflow_id)

    def result(self, workflow_id: str) -> Any:
        return _dbos.result(workflow_id)

    def statuses(self) -> dict[str, str]:
        return _dbos.list_statuses()

    def unfinished(self) -> dict[str, tuple[str, str | None]]:
        """Workflow id -> (status, entity key) of runs still pending or queued."""
        return _dbos.unfinished()

    def send_resume(self, workflow_id: str, action: str) -> None:
        _dbos.send(workflow_id, {"action": action}, _dbos.RESUME_TOPIC)

    def restart(self, workflow_id: str) -> None:
        """Run a stopped (timed-out) run again from its last completed step."""
        _dbos.resume(workflow_id)

    def _branch_entry(self, payload: dict[str, Any]) -> dict[str, Any]:
        """A child workflow running one action of :meth:`WorkflowRun.parallel`."""
        run = WorkflowRun(
            workflow_id=_dbos.current_workflow_id(),
            workflow=str(payload["workflow"]),
            correlation_id=str(payload["correlation_id"]),
            entity_key=str(payload["entity_key"]),
            services=self.services,
            hooks=self.hooks,
            connection_retry=self._connection_retry,
            mapping=payload.get("mapping"),
        )
        retry = RetryPolicy(**payload["policy"]["retry"])
        policy = StepPolicy(timeout_seconds=payload["policy"]["timeout_seconds"], retry=retry)

        def body() -> dict[str, Any]:
            action = self.services.connection(payload["connection"]).action(payload["action"])
            on_failure: OnFailure = (
                "compensate" if payload["on_failure"] == "compensate" else "park"
            )
            marked = current_run.set((run.correlation_id, run.workflow_id))
            try:
                with self._mapping_scope(run.mapping):
                    value = run.step(
                        str(payload["step"]),
                        action.run,
                        payload["connection"],
                        *payload["args"],
                        policy=policy,
                        probe=action.probe,
                        on_failure=on_failure,
                        connection=str(payload["connection"]),
                    )
            except WorkflowAborted as exc:
                return {"status": "aborted", "reason": str(exc)}
            finally:
                current_run.reset(marked)
            return {"status": "completed", "value": value}

        return _dbos.run_body(body)

    def _entry(self, definition: WorkflowDefinition) -> Callable[[dict[str, Any]], dict[str, Any]]:
        def entry(payload: dict[str, Any]) -> dict[str, Any]:
            workflow_id = _dbos.current_workflow_id()
            forked = replay_correlation_id(workflow_id)
            # A fork replays an old delivery: when it ends says nothing about sync latency.
            received_at = None if forked else payload.get("received_at")
            run = WorkflowRun(
                workflow_id=workflow_id,
                workflow=definition.name,
                # A replay fork keeps its original's input but runs under its own correlation id.
                correlation_id=forked or str(payload["correlation_id"]),
                entity_key=str(payload["entity_key"]),
                services=self.services,
                hooks=self.hooks,
                connection_retry=self._connection_retry,
                mapping=payload.get("mapping"),
            )

            def body() -> dict[str, Any]:
                with self._mapping_scope(run.mapping):
                    return run_body()

            def run_body() -> dict[str, Any]:
                marked = current_run.set((run.correlation_id, run.workflow_id))
                self.hooks.workflow_started(run)
                # Unless the body returns or raises an Exception, this process is stopping and
                # the run resumes later from its checkpoints.
                status = "interrupted"
                try:
                    outcome = definition.body(run, payload["event"]) or {}
                    status = "completed"
                except WorkflowAborted as exc:
                    status = "aborted"
                    return {"status": "aborted", "reason": str(exc)}
                except Exception:
                    status = "failed"
                    raise
                finally:
                    self.hooks.workflow_finished(run, status, received_at)
                    current_run.reset(marked)
                return {"status": "completed", **outcome}

            return _dbos.run_body(body)

        entry.__name__ = entry.__qualname__ = f"workflow_{definition.name.replace('.', '_')}"
        return entry

    def _mapping_scope(self, ref: str | None) -> AbstractContextManager[None]:
        """While a replayed run's steps execute, connectors asking for the mapping of that
        version's vendor and direction get it (``syncwright.mapping.using_mapping``)."""
        if ref is None:
            return nullcontext()
        from syncwright.mapping import using_mapping  # the engine needs it only for replays

        return using_mapping(self.services.mappings.version(ref))


class EngineClient:
    """For processes that do not run workflows (CLI, API): resume parked runs, read status."""

    def __init__(self, db: Database) -> None:
        self._client = _dbos.Client(db)

    def send_resume(self, workflow_id: str, action: str) -> None:
        self._client.send(workflow_id, {"action": action}, _dbos.RESUME_TOPIC)

    def restart(self, workflow_id: str) -> None:
        """Run a stopped (timed-out) run again from its last completed step."""
        self._client.resume(workflow_id)

    def status(self, workflow_id: str) -> str | None:
        return self._client.status(workflow_id)

    def statuses(self) -> dict[str, str]:
        return self._client.list_statuses()

    def steps(self, workflow_id: str) -> list[tuple[int, str]]:
        """(step number, step name) of a run, in order."""
        return self._client.steps(workflow_id)

    def fork(self, workflow_id: str, from_step: int, new_workflow_id: str) -> str:
        """Run ``workflow_id`` again as ``new_workflow_id``: steps before ``from_step`` keep
        their recorded results, the rest run anew, in the original's queue and partition."""
        return self._client.fork(workflow_id, from_step, new_workflow_id)

    def inputs(self, workflow_id_prefix: str) -> dict[str, dict[str, Any]]:
        """Workflow id -> its payload (``correlation_id``, ``entity_key``, ``event``) for every
        run whose id starts with the prefix (e.g. all runs of one inbox row)."""
        return {
            k: v for k, v in self._client.inputs(workflow_id_prefix).items() if isinstance(v, dict)
        }

    def close(self) -> None:
        self._client.destroy()
