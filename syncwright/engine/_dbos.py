"""The only module that touches DBOS Transact. Everything durable goes through these functions,
so another engine could replace DBOS by reimplementing this file."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import dbos._dbos as _dbos_module
import sqlalchemy as sa
from dbos import (
    DBOS,
    DBOSClient,
    DBOSConfig,
    DBOSPortableJSONSerializer,
    EnqueueOptions,
    SetEnqueueOptions,
    SetWorkflowID,
)
from dbos._dbos import _get_dbos_instance
from dbos._schemas import SCHEMA_PLACEHOLDER
from dbos._schemas.system_database import SystemSchema

from syncwright.store import Database

log = logging.getLogger("syncwright.engine")

ENTITY_QUEUE = "syncwright.entities"
# A workflow with its own concurrency limit runs on a queue of its own (DBOS limits queues).
WORKFLOW_QUEUE_PREFIX = "syncwright.workflow."
# Priority classes other than ``normal`` have a lane (queue) of their own: ``high`` as wide as
# the entity queue, ``low`` a quarter of it, so a low-priority flood neither holds back other
# runs nor takes all the workflow threads.
PRIORITY_QUEUE_PREFIX = "syncwright.priority."
PRIORITY_LANE_SHARE = {"high": 1.0, "low": 0.25}
RESUME_TOPIC = "syncwright.resume"
WAKE_TOPIC = "syncwright.wake"
APP_NAME = "syncwright"
# Sent to a waiting run on shutdown; a replayed one (after restart) is simply ignored.
_STOP_SIGNAL = {"syncwright": "engine-stopping"}

_STAMP_PRECISION_MS = 1000
_functions: dict[str, Callable[..., Any]] = {}  # registered workflow name -> DBOS function
_stopping = threading.Event()
_waiting: dict[str, set[str]] = {}  # workflow id -> topics it waits on in this process
_waiting_lock = threading.Lock()
_active = 0  # workflow bodies executing in this process
_active_changed = threading.Condition(_waiting_lock)


class EngineStopping(BaseException):
    """Unwinds a waiting run when this process stops.

    A BaseException on purpose: DBOS records an ``Exception`` as the workflow's failure, but
    lets this pass, so the run stays PENDING and is recovered when the executor restarts.
    """


class RunStopped(BaseException):
    """Unwinds a waiting run that DBOS cancelled (its deadline passed); like
    :class:`EngineStopping`, a BaseException, so DBOS leaves the run's status as it is."""


def _system_url(db: Database) -> str:
    return db.engine.url.render_as_string(hide_password=False)


def launch(
    db: Database,
    *,
    application_version: str,
    executor_id: str,
    workflows: dict[str, Callable[[dict[str, Any]], dict[str, Any]]],
    worker_concurrency: int,
    partition_concurrency: int,
    polling_interval_seconds: float,
    listen_queues: bool,
    workflow_queues: dict[str, int] | None = None,
    priority_classes: frozenset[str] = frozenset(),
) -> None:
    """``workflow_queues``: workflow name -> runs of it at once in this process, each on a
    queue of its own, partitioned by entity like the shared one. ``priority_classes``: the
    classes other than ``normal`` in use, each given its lane (``PRIORITY_LANE_SHARE``)."""
    config: DBOSConfig = {
        "name": APP_NAME,
        "system_database_url": _system_url(db),
        # Our engine carries WAL + busy_timeout on SQLite (DBOS sets neither itself).
        "system_database_engine": db.engine,
        "application_version": application_version,
        "executor_id": executor_id,
        # JSON, never pickle: durable state stays readable and safe to load.
        "serializer": DBOSPortableJSONSerializer(),
        "log_level": "WARNING",
        "notification_listener_polling_interval_sec": 0.05,
    }
    # One engine per process (DBOS is process-global). An engine its owner never shut down
    # would make this launch a no-op that silently keeps the old one's database and queues.
    if _dbos_module._dbos_global_instance is not None:
        log.warning("an engine was still launched in this process; destroying it first")
        DBOS.destroy(workflow_completion_timeout_sec=0, destroy_registry=True)
    _stopping.clear()
    DBOS(config=config)
    _functions.clear()
    for name, body in workflows.items():
        _functions[name] = DBOS.workflow(name=name)(body)
    if not listen_queues:
        DBOS.listen_queues([])
    DBOS.launch()
    DBOS.register_queue(
        ENTITY_QUEUE,
        worker_concurrency=worker_concurrency,
        partition_concurrency=partition_concurrency,
        polling_interval_sec=polling_interval_seconds,
        on_conflict="always_update",
    )
    for name, concurrency in (workflow_queues or {}).items():
        DBOS.register_queue(
            workflow_queue(name),
            worker_concurrency=concurrency,
            partition_concurrency=partition_concurrency,
            polling_interval_sec=polling_interval_seconds,
            on_conflict="always_update",
        )
    for priority in sorted(priority_classes):
        DBOS.register_queue(
            priority_queue(priority),
            worker_concurrency=max(1, int(worker_concurrency * PRIORITY_LANE_SHARE[priority])),
            partition_concurrency=partition_concurrency,
            polling_interval_sec=polling_interval_seconds,
            on_conflict="always_update",
        )
    logging.getLogger("dbos").setLevel(logging.WARNING)


def run_body(body: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """Run a workflow body, counted so shutdown can let in-flight steps finish first."""
    global _active
    if _stopping.is_set():  # dequeued while stopping: leave it PENDING for the next start
        raise EngineStopping(current_workflow_id())
    with _active_changed:
        _active += 1
    try:
        return body()
    finally:
        with _active_changed:
            _active -= 1
            _active_changed.notify_all()


def shutdown(grace_seconds: float = 30.0) -> None:
    """Stop: no new runs start; runs waiting in this process (parked, backing off) are woken
    and unwind, still PENDING; runs inside a step get ``grace_seconds`` to finish it. What is
    still running after that is recovered from its last checkpoint on the next start."""
    _stopping.set()
    with _waiting_lock:
        waiting = {wid: set(topics) for wid, topics in _waiting.items()}
    for workflow_id, topics in waiting.items():
        for topic in topics:
            DBOS.send(workflow_id, _STOP_SIGNAL, topic=topic)
    with _active_changed:
        _active_changed.wait_for(lambda: _active == 0, timeout=grace_seconds)
    # Clearing the registry lets a later launch in this process register its workflows afresh.
    DBOS.destroy(workflow_completion_timeout_sec=0, destroy_registry=True)


def recover(executor_id: str) -> int:
    """Hand a dead executor's PENDING runs back to their queues (any live executor resumes
    them); returns how many. DBOS re-enqueues only rows still owned by ``executor_id``, so a
    second call for the same executor finds nothing."""
    return len(DBOS._recover_pending_workflows([executor_id]))


def workflow_queue(workflow: str) -> str:
    return WORKFLOW_QUEUE_PREFIX + workflow


def priority_queue(priority: str) -> str:
    return PRIORITY_QUEUE_PREFIX + priority


def enqueue(
    workflow: str,
    workflow_id: str,
    partition_key: str,
    payload: dict[str, Any],
    *,
    queue: str = ENTITY_QUEUE,
    timeout_seconds: float | None = None,
) -> str:
    """Enqueue a run; with ``timeout_seconds`` its deadline is set when it is dequeued, and
    DBOS cancels it once the deadline passes."""
    # launch() registers the queue and the workflows; asking DBOS for the queue here would
    # cost a database read per enqueue.
    if workflow not in _functions:
        raise RuntimeError(f"engine not launched, or no workflow {workflow!r} registered")
    options = EnqueueOptions(
        workflow_name=workflow,
        queue_name=queue,
        workflow_id=workflow_id,
        queue_partition_key=partition_key,
    )
    if timeout_seconds is not None:
        options["workflow_timeout"] = timeout_seconds
    with SetEnqueueOptions(queue_partition_key=partition_key), SetWorkflowID(workflow_id):
        handle: Any = DBOS.enqueue_workflow_with_options(options, payload)
    return str(handle.workflow_id)


def timed_out(completed_after_ms: int | None, limit: int = 500) -> list[dict[str, Any]]:
    """Runs DBOS cancelled because their deadline passed, stopped after ``completed_after_ms``:
    id, name, input, timeout and when they stopped. A run cancelled by hand has no deadline or
    one still ahead of its stop, so it is not listed."""
    after = None
    if completed_after_ms is not None:
        after = datetime.fromtimestamp(completed_after_ms / 1000, UTC).isoformat()
    found = DBOS.list_workflows(
        status="CANCELLED", completed_after=after, limit=limit, sort_desc=True, load_output=False
    )
    runs: list[dict[str, Any]] = []
    for w in found:
        deadline, stopped = w.workflow_deadline_epoch_ms, w.updated_at
        if deadline is None or stopped is None or not w.workflow_timeout_ms:
            continue
        # On SQLite DBOS stamps the stop in whole seconds: allow that much before the deadline.
        if stopped < deadline - _STAMP_PRECISION_MS:
            continue
        payload = _payload(w.input)
        runs.append(
            {
                "workflow_id": str(w.workflow_id),
                "workflow": str(w.name),
                "payload": payload if isinstance(payload, dict) else {},
                "timeout_seconds": w.workflow_timeout_ms / 1000,
                "stopped_at_ms": int(stopped),
            }
        )
    return runs


def start_child(workflow: str, payload: dict[str, Any]) -> Any:
    """Start a child workflow now (not queued: its parent holds the entity's queue slot).
    Inside a workflow the start is checkpointed, so a replay gets the same child back."""
    return DBOS.start_workflow(_functions[workflow], payload)


def child_result(handle: Any) -> Any:
    return handle.get_result()


def run_step(name: str, func: Callable[..., Any], *args: Any) -> Any:
    return DBOS.run_step({"name": name, "retries_allowed": False}, func, *args)


def _wait(topic: str, timeout_seconds: float) -> Any:
    """A durable wait for a message that this process's shutdown can interrupt."""
    workflow_id = current_workflow_id()
    with _waiting_lock:
        _waiting.setdefault(workflow_id, set()).add(topic)
    try:
        if _stopping.is_set():
            raise EngineStopping(workflow_id)
        message = DBOS.recv(topic, timeout_seconds=timeout_seconds)
        if message == _STOP_SIGNAL and _stopping.is_set():
            raise EngineStopping(workflow_id)
        if message == _STOP_SIGNAL and _cancelled(workflow_id):
            raise RunStopped(workflow_id)  # woken by wake(): its deadline passed
        return None if message == _STOP_SIGNAL else message
    finally:
        with _waiting_lock:
            topics = _waiting.get(workflow_id, set())
            topics.discard(topic)
            if not topics:
                _waiting.pop(workflow_id, None)


def wake(workflow_id: str) -> bool:
    """Wake a run of this process that waits (parked, backing off) although DBOS stopped it
    (its deadline passed): its next DBOS call then unwinds it. Returns whether one waited."""
    with _waiting_lock:
        topics = set(_waiting.get(workflow_id, ()))
    for topic in topics:
        DBOS.send(workflow_id, _STOP_SIGNAL, topic=topic)
    return bool(topics)


def _cancelled(workflow_id: str) -> bool:
    # Read from the system database directly: DBOS would checkpoint a status read made inside
    # a workflow as one of its operations.
    return bool(_get_dbos_instance()._sys_db.get_cancelled_workflow_ids([workflow_id]))


def sleep(seconds: float) -> None:
    """Durable backoff sleep (a message wait that nobody answers)."""
    _wait(WAKE_TOPIC, seconds)


def recv(topic: str, timeout_seconds: float) -> Any:
    return _wait(topic, timeout_seconds)


def current_workflow_id() -> str:
    workflow_id = DBOS.workflow_id
    if workflow_id is None:
        raise RuntimeError("not inside a workflow")
    return str(workflow_id)


def send(workflow_id: str, message: Any, topic: str) -> None:
    DBOS.send(workflow_id, message, topic=topic)


def resume(workflow_id: str) -> None:
    """Start a stopped (cancelled) run again from its last completed step."""
    DBOS.resume_workflow(workflow_id)


def status(workflow_id: str) -> str | None:
    found = DBOS.get_workflow_status(workflow_id)
    return None if found is None else str(found.status)


def result(workflow_id: str) -> Any:
    handle: Any = DBOS.retrieve_workflow(workflow_id)
    return handle.get_result()


def list_statuses(limit: int = 10_000) -> dict[str, str]:
    listed = DBOS.list_workflows(limit=limit, load_input=False, load_output=False)
    return {str(w.workflow_id): str(w.status) for w in listed}


def unfinished(limit: int = 100_000) -> dict[str, tuple[str, str | None]]:
    """Workflow id -> (status, entity key) for every run not yet finished."""
    # Inputs and outputs are not needed here; decoding them dominated frequent polling.
    found = DBOS.list_workflows(
        status=["PENDING", "ENQUEUED"], limit=limit, load_input=False, load_output=False
    )
    return {str(w.workflow_id): (str(w.status), w.queue_partition_key) for w in found}


_OPEN = ("ENQUEUED", "PENDING")


def _read_status(db: Database, query: sa.Select[Any]) -> list[Any]:
    """Rows of DBOS's status table, read straight from the database, so any process (API, CLI,
    worker) sees the same runs without a launched engine; before the first worker created that
    table, there are none."""
    schema = None if db.engine.dialect.name == "sqlite" else "dbos"
    try:
        with db.engine.connect() as conn:
            conn = conn.execution_options(schema_translate_map={SCHEMA_PLACEHOLDER: schema})
            return list(conn.execute(query))
    except sa.exc.DBAPIError as exc:
        if _missing_table(exc):
            return []
        raise


def open_runs(db: Database, *, workflow: str | None = None) -> list[tuple[str, str, str]]:
    """(workflow id, workflow name, status) of every run not yet finished: ``ENQUEUED`` waits
    for a queue slot, ``PENDING`` runs, backs off or waits parked for an operator."""
    table = SystemSchema.workflow_status
    query = sa.select(table.c.workflow_uuid, table.c.name, table.c.status).where(
        table.c.status.in_(_OPEN)
    )
    if workflow is not None:
        query = query.where(table.c.name == workflow)
    return [(str(r[0]), str(r[1]), str(r[2])) for r in _read_status(db, query)]


def open_run_counts(db: Database) -> dict[tuple[str, str], int]:
    """(workflow name, status) -> how many runs not yet finished, counted in the database."""
    table = SystemSchema.workflow_status
    query = (
        sa.select(table.c.name, table.c.status, sa.func.count())
        .where(table.c.status.in_(_OPEN))
        .group_by(table.c.name, table.c.status)
    )
    return {(str(r[0]), str(r[1])): int(r[2]) for r in _read_status(db, query)}


def _missing_table(exc: sa.exc.DBAPIError) -> bool:
    text = str(exc.orig).lower()
    return "no such table" in text or "does not exist" in text


class Client:
    """Talks to the workflows of running workers from another process (CLI, API)."""

    def __init__(self, db: Database) -> None:
        self._client = DBOSClient(
            system_database_url=_system_url(db),
            system_database_engine=db.engine,
            serializer=DBOSPortableJSONSerializer(),
        )

    def send(self, workflow_id: str, message: Any, topic: str) -> None:
        self._client.send(workflow_id, message, topic)

    def resume(self, workflow_id: str) -> None:
        """Start a stopped (cancelled) run again from its last completed step."""
        self._client.resume_workflow(workflow_id)

    def status(self, workflow_id: str) -> str | None:
        found = self._client.retrieve_workflow(workflow_id).get_status()
        return None if found is None else str(found.status)

    def result(self, workflow_id: str) -> Any:
        return self._client.retrieve_workflow(workflow_id).get_result()

    def list_statuses(self, limit: int = 10_000) -> dict[str, str]:
        return {str(w.workflow_id): str(w.status) for w in self._client.list_workflows(limit=limit)}

    def inputs(self, workflow_id_prefix: str) -> dict[str, Any]:
        """Workflow id -> the payload it was started with, for ids beginning with the prefix."""
        found = self._client.list_workflows(
            workflow_id_prefix=workflow_id_prefix, load_input=True, load_output=False
        )
        return {str(w.workflow_id): _payload(w.input) for w in found}

    def steps(self, workflow_id: str) -> list[tuple[int, str]]:
        found = self._client.list_workflow_steps(workflow_id, load_output=False)
        return [(int(s["function_id"]), str(s["function_name"])) for s in found]

    def fork(self, workflow_id: str, from_step: int, new_workflow_id: str) -> str:
        original = self._client.retrieve_workflow(workflow_id).get_status()
        with SetWorkflowID(new_workflow_id):
            handle = self._client.fork_workflow(
                workflow_id,
                from_step,
                queue_name=original.queue_name or ENTITY_QUEUE,
                queue_partition_key=original.queue_partition_key,
            )
        return str(handle.workflow_id)

    def destroy(self) -> None:
        self._client.destroy()


def _payload(recorded: Any) -> Any:
    """DBOS records a run's input as its call arguments; our workflows take one payload."""
    if isinstance(recorded, dict) and "args" in recorded:
        args = recorded.get("args") or []
        return args[0] if args else None
    return recorded
