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
- ``assign``, ``tag``, ``comment``: ownership and notes, kept in the record's history.
- ``edit_payload``: replace a parked delivery's stored payload (the original stays in the
  history) and retry it.
- ``bulk``: retry or resolve every record a filter selects.

Every action names its ``actor`` (an API token's name, ``cli:<os user>``) and is recorded in
the record's history, in the ledger under the exception's correlation id, and in the audit
trail (``kind="operator"``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, Protocol

from syncwright.exceptions.queue import ExceptionFilter, ExceptionQueue, ExceptionRecord, tags_after
from syncwright.intake.inbox import Inbox
from syncwright.ledger import AuditEntry, AuditTrail, Ledger, LedgerEntry, request_digest

TIMED_OUT = "workflow.timed_out"


class ResumeSender(Protocol):
    def send_resume(self, workflow_id: str, action: str) -> None: ...

    def restart(self, workflow_id: str) -> None: ...


class UnknownException(LookupError):
    pass


class ExceptionAlreadyResolved(ValueError):
    pass


class NotEditable(ValueError):
    """Only a parked delivery has a stored payload to edit."""


@dataclass(frozen=True)
class BulkOutcome:
    id: str
    ok: bool
    status: str | None = None
    error: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "ok": self.ok, "status": self.status, "error": self.error}


class ExceptionService:
    def __init__(
        self,
        queue: ExceptionQueue,
        inbox: Inbox,
        resume: ResumeSender,
        *,
        ledger: Ledger,
        audit: AuditTrail | None = None,
    ) -> None:
        self._queue = queue
        self._inbox = inbox
        self._resume = resume
        self._ledger = ledger
        self._audit = audit

    def _get(self, record_id: str) -> ExceptionRecord:
        record = self._queue.get(record_id)
        if record is None:
            raise UnknownException(f"no exception with id {record_id!r}")
        return record

    def _open_record(self, record_id: str) -> ExceptionRecord:
        record = self._get(record_id)
        if record.status == "resolved":
            raise ExceptionAlreadyResolved(f"exception {record_id} is already resolved")
        return record

    def _audited(
        self, record: ExceptionRecord, action: str, actor: str, note: str = "", **detail: Any
    ) -> None:
        """An operator action, in the ledger (under the exception's correlation id) and in
        the audit trail."""
        message = f"{action} of exception {record.id} by {actor}" + (f": {note}" if note else "")
        self._ledger.append(
            LedgerEntry(
                correlation_id=record.correlation_id,
                step=f"exception.{action}",
                outcome="operator",
                workflow_id=record.workflow_id,
                workflow=record.workflow,
                connection=record.connection,
                message=message,
                actor=actor,
            )
        )
        if self._audit is None:
            return
        self._audit.append(
            AuditEntry(
                kind="operator",
                actor=actor,
                correlation_id=record.correlation_id,
                workflow_id=record.workflow_id,
                step=record.step,
                connection=record.connection or "syncwright",
                action=f"exceptions.{action}",
                native_id=record.id,
                payload_digest=request_digest(detail),
                detail=detail,
            )
        )

    def _reloaded(self, record_id: str) -> ExceptionRecord:
        updated = self._queue.get(record_id)
        assert updated is not None
        return updated

    def retry(self, record_id: str, *, actor: str) -> ExceptionRecord:
        record = self._open_record(record_id)
        # Recorded before acting, so it precedes in the ledger whatever the action sets off.
        self._audited(record, "retry", actor)
        self._queue.mark_retrying(record.id, actor=actor)
        self._send_back(record)
        return self._reloaded(record.id)

    def _send_back(self, record: ExceptionRecord) -> None:
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

    def resolve(self, record_id: str, note: str, *, actor: str) -> ExceptionRecord:
        record = self._open_record(record_id)
        resolution = note or f"resolved by {actor}"
        self._audited(record, "resolve", actor, note, resolution=resolution)
        if record.code == TIMED_OUT:
            pass  # a stopped run waits for nothing
        elif record.source == "workflow" and record.workflow_id:
            self._resume.send_resume(record.workflow_id, "abort")
        elif record.inbox_id is not None:
            self._inbox.resolve(record.inbox_id)
        self._queue.mark_resolved(record.id, resolution, actor=actor)
        return self._reloaded(record.id)

    def assign(self, record_id: str, assignee: str | None, *, actor: str) -> ExceptionRecord:
        """Give the record to ``assignee`` (None: unassign)."""
        record = self._get(record_id)
        self._queue.update(
            record.id,
            actor=actor,
            action="assign",
            detail={"assignee": assignee},
            assignee=assignee,
        )
        self._audited(record, "assign", actor, assignee=assignee)
        return self._reloaded(record.id)

    def tag(
        self,
        record_id: str,
        add: list[str] | tuple[str, ...] = (),
        remove: list[str] | tuple[str, ...] = (),
        *,
        actor: str,
    ) -> ExceptionRecord:
        record = self._get(record_id)
        tags = tags_after(record.tags, add, remove)
        detail = {"add": list(add), "remove": list(remove)}
        self._queue.update(record.id, actor=actor, action="tag", detail=detail, tags=tags)
        self._audited(record, "tag", actor, add=list(add), remove=list(remove))
        return self._reloaded(record.id)

    def comment(self, record_id: str, text: str, *, actor: str) -> ExceptionRecord:
        if not text.strip():
            raise ValueError("a comment needs some text")
        record = self._get(record_id)
        self._queue.update(record.id, actor=actor, action="comment", detail={"text": text})
        self._audited(record, "comment", actor, text, text=text)
        return self._reloaded(record.id)

    def edit_payload(self, record_id: str, body: str, *, actor: str) -> ExceptionRecord:
        """Replace a parked delivery's payload (the original kept in the history), then retry."""
        record = self._open_record(record_id)
        if record.inbox_id is None:
            raise NotEditable(
                f"exception {record_id} is a parked workflow step, not a delivery: fix the data "
                "at its source (or the mapping) and retry it"
            )
        previous = self._inbox.replace_body(record.inbox_id, body)
        detail = {
            "previous_body": previous,
            "previous_digest": request_digest(previous),
            "new_digest": request_digest(body),
        }
        self._queue.update(record.id, actor=actor, action="edit_payload", detail=detail)
        self._audited(
            record,
            "edit_payload",
            actor,
            previous_digest=detail["previous_digest"],
            new_digest=detail["new_digest"],
        )
        return self.retry(record.id, actor=actor)

    def bulk(
        self,
        action: Literal["retry", "resolve"],
        where: ExceptionFilter,
        *,
        actor: str,
        note: str = "",
    ) -> list[BulkOutcome]:
        """``retry`` or ``resolve`` every unresolved record ``where`` selects; one failure does
        not stop the rest (each outcome says what happened)."""
        outcomes: list[BulkOutcome] = []
        for record in self.matching(where):
            try:
                done = (
                    self.retry(record.id, actor=actor)
                    if action == "retry"
                    else self.resolve(record.id, note, actor=actor)
                )
            except (UnknownException, ExceptionAlreadyResolved) as exc:
                outcomes.append(BulkOutcome(record.id, False, error=str(exc)))
            else:
                outcomes.append(BulkOutcome(record.id, True, status=done.status))
        return outcomes

    def matching(self, where: ExceptionFilter) -> list[ExceptionRecord]:
        """The unresolved records a bulk action with ``where`` would touch."""
        return [r for r in self._queue.select(where) if r.status != "resolved"]
