"""Operator actions on exceptions, shared by the CLI and the HTTP API.

- ``retry``: a parked workflow re-runs its failed step (after the data was fixed); a parked
  delivery goes through normalize and routing again.
- ``retry`` of a run stopped by its time limit (code ``workflow.timed_out``): the run starts
  again from its last completed step, with a fresh time limit (a step it was parked on runs
  again).
- ``resolve``: close the record by hand. A parked workflow is told to *abort*: it runs the
  compensations declared for its completed steps and stops; a parked delivery is discarded
  (kept in the inbox as ``resolved``, never deleted). A timed-out run stays stopped (it cannot
  run compensations any more).
"""

from __future__ import annotations

from typing import Protocol

from syncwright.exceptions.queue import ExceptionQueue, ExceptionRecord
from syncwright.intake.inbox import Inbox

TIMED_OUT = "workflow.timed_out"


class ResumeSender(Protocol):
    def send_resume(self, workflow_id: str, action: str) -> None: ...

    def restart(self, workflow_id: str) -> None: ...


class UnknownException(LookupError):
    pass


class ExceptionAlreadyResolved(ValueError):
    pass


class ExceptionService:
    def __init__(self, queue: ExceptionQueue, inbox: Inbox, resume: ResumeSender) -> None:
        self._queue = queue
        self._inbox = inbox
        self._resume = resume

    def _open_record(self, record_id: str) -> ExceptionRecord:
        record = self._queue.get(record_id)
        if record is None:
            raise UnknownException(f"no exception with id {record_id!r}")
        if record.status == "resolved":
            raise ExceptionAlreadyResolved(f"exception {record_id} is already resolved")
        return record

    def retry(self, record_id: str) -> ExceptionRecord:
        record = self._open_record(record_id)
        self._queue.mark_retrying(record.id)
        if record.code == TIMED_OUT and record.workflow_id:
            # The run is stopped, not parked: nothing waits for a message; start it again. If it
            # was parked when stopped, it parks there again on restart: tell it to retry.
            self._resume.restart(record.workflow_id)
            if (record.details or {}).get("parked_steps"):
                self._resume.send_resume(record.workflow_id, "retry")
            self._queue.mark_resolved(record.id, "restarted from its last completed step")
        elif record.source == "workflow" and record.workflow_id:
            self._resume.send_resume(record.workflow_id, "retry")
        elif record.inbox_id is not None:
            # The inbox row goes back to pending; its record closes once it dispatches. If it is
            # poisoned again the dispatcher opens a fresh record.
            self._inbox.requeue(record.inbox_id)
            self._queue.mark_resolved(record.id, "re-dispatched")
        updated = self._queue.get(record.id)
        assert updated is not None
        return updated

    def resolve(self, record_id: str, note: str) -> ExceptionRecord:
        record = self._open_record(record_id)
        if record.code == TIMED_OUT:
            pass  # a stopped run waits for nothing
        elif record.source == "workflow" and record.workflow_id:
            self._resume.send_resume(record.workflow_id, "abort")
        elif record.inbox_id is not None:
            self._inbox.resolve(record.inbox_id)
        self._queue.mark_resolved(record.id, note or "resolved by operator")
        updated = self._queue.get(record.id)
        assert updated is not None
        return updated
