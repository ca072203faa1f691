"""Operator actions on exceptions, shared by the CLI and the HTTP API.

- ``retry``: a parked workflow re-runs its failed step (after the data was fixed); a parked
  delivery goes through normalize and routing again.
- ``resolve``: close the record by hand. A parked workflow is told to *abort*: it runs the
  compensations declared for its completed steps and stops; a parked delivery is discarded
  (kept in the inbox as ``resolved``, never deleted).

Each action names its ``actor`` (an API token's name, ``cli:<os user>``), recorded in the
ledger (under the exception's correlation id) and in the audit trail.
"""

from __future__ import annotations

from typing import Protocol

from syncwright.exceptions.queue import ExceptionQueue, ExceptionRecord
from syncwright.intake.inbox import Inbox
from syncwright.ledger import AuditTrail, Ledger, LedgerEntry, request_digest


class ResumeSender(Protocol):
    def send_resume(self, workflow_id: str, action: str) -> None: ...


class UnknownException(LookupError):
    pass


class ExceptionAlreadyResolved(ValueError):
    pass


class ExceptionService:
    def __init__(
        self,
        queue: ExceptionQueue,
        inbox: Inbox,
        resume: ResumeSender,
        *,
        ledger: Ledger,
        audit: AuditTrail,
    ) -> None:
        self._queue = queue
        self._inbox = inbox
        self._resume = resume
        self._ledger = ledger
        self._audit = audit

    def _record_action(self, record: ExceptionRecord, action: str, actor: str, note: str) -> None:
        step = f"exception.{action}"
        message = f"{action} of exception {record.id} by {actor}" + (f": {note}" if note else "")
        self._ledger.append(
            LedgerEntry(
                correlation_id=record.correlation_id,
                step=step,
                outcome="operator",
                workflow_id=record.workflow_id,
                workflow=record.workflow,
                connection=record.connection,
                message=message,
                actor=actor,
            )
        )
        self._audit.append(
            correlation_id=record.correlation_id,
            connection=record.connection or "syncwright",
            action=step,
            workflow_id=record.workflow_id,
            native_id=record.id,
            payload_digest=request_digest({"exception": record.id, "action": action, "note": note}),
            actor=actor,
        )

    def _open_record(self, record_id: str) -> ExceptionRecord:
        record = self._queue.get(record_id)
        if record is None:
            raise UnknownException(f"no exception with id {record_id!r}")
        if record.status == "resolved":
            raise ExceptionAlreadyResolved(f"exception {record_id} is already resolved")
        return record

    def retry(self, record_id: str, *, actor: str) -> ExceptionRecord:
        record = self._open_record(record_id)
        # Recorded before acting, so it precedes in the ledger whatever the action sets off.
        self._record_action(record, "retry", actor, "")
        self._queue.mark_retrying(record.id)
        if record.source == "workflow" and record.workflow_id:
            self._resume.send_resume(record.workflow_id, "retry")
        elif record.inbox_id is not None:
            # The inbox row goes back to pending; its record closes once it dispatches. If it is
            # poisoned again the dispatcher opens a fresh record.
            self._inbox.requeue(record.inbox_id)
            self._queue.mark_resolved(record.id, "re-dispatched")
        updated = self._queue.get(record.id)
        assert updated is not None
        return updated

    def resolve(self, record_id: str, note: str, *, actor: str) -> ExceptionRecord:
        record = self._open_record(record_id)
        self._record_action(record, "resolve", actor, note)
        if record.source == "workflow" and record.workflow_id:
            self._resume.send_resume(record.workflow_id, "abort")
        elif record.inbox_id is not None:
            self._inbox.resolve(record.inbox_id)
        self._queue.mark_resolved(record.id, note or f"resolved by {actor}")
        updated = self._queue.get(record.id)
        assert updated is not None
        return updated
