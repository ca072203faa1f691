"""Inbox -> normalize -> route -> workflows.

The dispatcher takes pending deliveries in arrival order, asks the owning connector for
canonical change events, passes each through the policy gate (ownership, echoes, staleness,
deltas: ``syncwright/policy``), and enqueues every workflow that handles each event in the entity's
queue partition. Workflow ids are derived from the inbox row, so dispatching the same row twice
(after a crash between enqueue and the status update) starts nothing new.

A delivery that cannot be normalized is a *poisoned message*: it is parked with an exception
record, never dropped, and ``syncwright exceptions retry`` sends it through again after a fix.
"""

from __future__ import annotations

import logging
import threading
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from syncwright.connectors import Connector, Delivery
from syncwright.engine import registered_workflows, workflow_id_for
from syncwright.errors import BusinessRuleError, SyncwrightError, TransientError
from syncwright.exceptions.classify import classify
from syncwright.intake.inbox import InboxRow
from syncwright.ledger import LedgerEntry
from syncwright.mapping import CompiledMapping, using_mapping
from syncwright.xref import MintRace
from syncwright.xref.store import Key

if TYPE_CHECKING:
    from syncwright.runtime import Runtime

log = logging.getLogger("syncwright.dispatch")
MAX_TRANSIENT_ATTEMPTS = 20
# Deliveries put into the inbox to run their workflows again (``syncwright replay``, a
# reconciliation heal): the policy gate never holds them back as unchanged, stale or echoes.
RERUN_ORIGINS = frozenset({"replay", "reconcile"})
#: A replayed delivery's header naming the mapping version to normalize it with.
REPLAY_MAPPING_HEADER = "x-syncwright-replay-mapping"


@dataclass(frozen=True)
class DispatchReport:
    dispatched: int
    workflows_started: int
    parked: int


def _event_json(event: Any) -> dict[str, Any]:
    if hasattr(event, "model_dump"):
        dumped: dict[str, Any] = event.model_dump(mode="json", by_alias=True)
        return dumped
    return dict(event)


def delivery_of(row: InboxRow) -> Delivery:
    """The inbox row as the connector's normalizer takes it."""
    return Delivery(
        inbox_id=row.id,
        connection=row.connection,
        vendor_event_id=row.vendor_event_id,
        event_type=row.event_type,
        body=row.body,
        correlation_id=row.correlation_id,
        received_at=row.received_at,
    )


def replay_mapping(runtime: Runtime, row: InboxRow) -> CompiledMapping | None:
    """The mapping version a replay asked this delivery to be normalized with
    (``REPLAY_MAPPING_HEADER``); None: the connection's own."""
    ref = row.headers.get(REPLAY_MAPPING_HEADER)
    if not ref:
        return None
    try:
        return runtime.mappings.version(ref)
    except LookupError as exc:
        raise BusinessRuleError(
            f"delivery {row.id} is a replay under mapping {ref}, which is not configured: {exc}",
            code="dispatch.replay_mapping_unknown",
            remediation=f"List {ref} under mappings: (replay_only: true keeps it out of live "
            "traffic) and retry this exception, or resolve it to discard the replay.",
        ) from exc


class Dispatcher:
    def __init__(self, runtime: Runtime, *, batch_size: int = 200) -> None:
        self._runtime = runtime
        self._batch_size = batch_size
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def routes(self, event_type: str) -> list[str]:
        """Names of enabled workflows that handle ``event_type``."""
        return [name for name in self._handlers(event_type) if self._enabled(name)]

    def _handlers(self, event_type: str) -> list[str]:
        return [
            name
            for name, definition in registered_workflows().items()
            if event_type in definition.handles
        ]

    def _enabled(self, name: str) -> bool:
        configured = self._runtime.settings.workflows.get(name)
        return configured is None or configured.enabled

    def dispatch_pending(self) -> DispatchReport:
        """One pass over up to ``batch_size`` pending rows, in arrival order.

        Rows whose workflows are enqueued are marked ``dispatched`` (or ``skipped``) together at
        the end of the pass, in one transaction. A crash before that leaves them pending, and
        the next pass repeats them: their workflow ids are derived from the row, so enqueueing
        again starts nothing new, and the policy gate recognises the repeat (``admission``)."""
        rows = self._runtime.inbox.pending(self._batch_size)
        started = parked = 0
        done: dict[int, str] = {}
        try:
            started, parked = self._pass(rows, done)
        finally:
            self._runtime.inbox.mark_many(done)
        return DispatchReport(len(rows) - parked, started, parked)

    def _pass(self, rows: list[InboxRow], done: dict[int, str]) -> tuple[int, int]:
        """Dispatch ``rows``; each row done goes into ``done`` (id -> status). Returns
        (workflows started, rows parked)."""
        started = parked = 0
        for row in rows:
            try:
                count, status = self._dispatch(row)
                started += count
                done[row.id] = status
            except TransientError as exc:
                # A connector's enrichment read failed for now (e.g. a CRM rate limit). Keep the
                # row pending and stop this pass: later rows may be the same entity's, and must
                # not overtake it. After MAX_TRANSIENT_ATTEMPTS it is parked like any poison.
                if self._runtime.inbox.note_attempt(row.id, str(exc)) < MAX_TRANSIENT_ATTEMPTS:
                    log.warning(
                        "inbox row %s: %s; will retry",
                        row.id,
                        exc.code,
                        extra={"correlation_id": row.correlation_id},
                    )
                    self._runtime.inbox.mark_many(done)  # what is done need not wait too
                    done.clear()
                    self._stop.wait(min(exc.retry_after or 1.0, 30.0))
                    break
                self._park(row, exc)
                parked += 1
            except (SyncwrightError, ValidationError, ValueError, KeyError, TypeError) as exc:
                self._park(row, exc)
                parked += 1
        return started, parked

    def _dispatch(self, row: InboxRow) -> tuple[int, str]:
        """Enqueue the workflows of one row's events; returns how many and the row's new
        status (``skipped``: every workflow it would start is disabled)."""
        runtime = self._runtime
        engine = runtime.engine
        if engine is None:
            raise RuntimeError("dispatcher needs a launched engine")
        connector = runtime.connectors.get(row.connection)
        if connector is None:
            raise BusinessRuleError(
                f"delivery {row.id} is for connection {row.connection!r}, which is not configured",
                code="dispatch.unknown_connection",
                remediation=f"Add connection {row.connection!r} back to syncwright.yaml "
                "(or resolve this exception to discard the delivery).",
            )
        delivery = delivery_of(row)
        replayed = replay_mapping(self._runtime, row)
        try:
            admitted = self._admit(row, connector, delivery, replayed, defer_ids=True)
        except MintRace:
            # Another process linked a record first that this delivery minted an id for:
            # normalize again, each new id resolved on its own against the database.
            admitted = self._admit(row, connector, delivery, replayed, defer_ids=False)
        started = skipped = 0
        for index, data in admitted:
            entity_key = str(data.get("entitykey") or data.get("subject") or row.id)
            correlation_id = str(data.get("correlationid") or row.correlation_id)
            for workflow in self._handlers(str(data["type"])):
                workflow_id = workflow_id_for(row.id, index, workflow)
                if not self._enabled(workflow):
                    self._record_skip(workflow, workflow_id, entity_key, correlation_id, data)
                    skipped += 1
                    continue
                engine.enqueue(
                    workflow,
                    workflow_id=workflow_id,
                    entity_key=entity_key,
                    correlation_id=correlation_id,
                    event=data,
                    received_at=row.received_at,
                    # An outbound version (a write-back's) applies in the run's steps.
                    mapping=None if replayed is None else replayed.ref,
                )
                started += 1
        return started, "skipped" if skipped and not started else "dispatched"

    def _admit(
        self,
        row: InboxRow,
        connector: Connector,
        delivery: Delivery,
        replayed: CompiledMapping | None,
        *,
        defer_ids: bool,
    ) -> list[tuple[int, dict[str, Any]]]:
        """Normalize the row and pass its events through the policy gate; returns (event
        index, event) of those admitted. The ids the row mints in the cross-reference and the
        gate's state and decisions commit in one transaction, before anything is enqueued;
        normalizing (which may call the vendor) holds no transaction open."""
        runtime = self._runtime
        minting: AbstractContextManager[dict[Key, str]] = (
            runtime.xref.deferred() if defer_ids else nullcontext({})
        )
        with minting as minted, using_mapping(replayed):
            events = list(connector.normalize(delivery))
        admitted: list[tuple[int, dict[str, Any]]] = []
        with runtime.db.begin() as conn:
            runtime.xref.write_minted(conn, minted)
            for index, event in enumerate(events):
                # Ownership, echo suppression, staleness and deltas (syncwright/policy): what
                # is held back starts no workflow, and is recorded there. A replay, or a record
                # reconciliation re-sends to heal drift, is asked for again on purpose.
                verdict = runtime.policy.admit(
                    row.connection,
                    _event_json(event),
                    inbox_id=row.id,
                    rerun=row.origin in RERUN_ORIGINS,
                )
                if verdict.event is not None:
                    admitted.append((index, verdict.event))
        return admitted

    def _record_skip(
        self,
        workflow: str,
        workflow_id: str,
        entity_key: str,
        correlation_id: str,
        event: dict[str, Any],
    ) -> None:
        """A disabled workflow's start, recorded where ``syncwright trace`` shows it."""
        self._runtime.ledger.append(
            LedgerEntry(
                correlation_id=correlation_id,
                workflow_id=workflow_id,
                workflow=workflow,
                entity_key=entity_key,
                step="dispatch",
                outcome="skipped",
                error_code="workflow.disabled",
                message=f"{event['type']} did not start {workflow}: it is disabled "
                f"(workflows.{workflow}.enabled: false)",
            )
        )

    def _park(self, row: InboxRow, exc: Exception) -> None:
        if isinstance(exc, BusinessRuleError):
            code, message, remediation = exc.code, exc.message, exc.remediation
        else:
            code = "dispatch.normalize_failed"
            message = f"{type(exc).__name__}: {exc}"
            remediation = (
                f"The {row.connection} payload of type {row.event_type!r} could not be mapped. "
                "Fix the mapping or the source record, then retry this exception."
            )
        log.warning(
            "parking inbox row %s: %s", row.id, code, extra={"correlation_id": row.correlation_id}
        )
        self._runtime.inbox.park(row.id, message)
        self._runtime.exceptions.open(
            source="inbox",
            correlation_id=row.correlation_id,
            code=code,
            message=message,
            remediation=remediation,
            inbox_id=row.id,
            connection=row.connection,
            details={"vendor_event_id": row.vendor_event_id, "event_type": row.event_type},
            error_class=classify(
                code, type(exc).__name__ if isinstance(exc, SyncwrightError) else None
            ),
            record=row.vendor_event_id,
        )

    # -- background loop (worker process) -------------------------------------------------
    def start(self, interval_seconds: float = 0.05) -> None:
        def loop() -> None:
            while not self._stop.is_set():
                try:
                    report = self.dispatch_pending()
                except Exception:  # keep the loop alive; the rows stay pending
                    log.exception("dispatch pass failed")
                    report = DispatchReport(0, 0, 0)
                if report.dispatched == 0 and report.parked == 0:
                    self._stop.wait(interval_seconds)

        self._thread = threading.Thread(target=loop, name="dispatcher", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)
