"""The worker's watch over exceptions that can finish by themselves.

Every ``exceptions.dependency_check_seconds`` the worker looks at records that are due:

- ``waiting`` records (a step needed a record that was not there yet, e.g. the customer is not
  in the ERP): is the record there now? First the cross-reference (``entity_type``,
  ``global_id`` on the ``system`` connection), then the target itself, read by external id
  where the connector's client can (``client.get_by_external_id(record_type, global_id)``,
  NetSuite). A wait with a ``check`` (``accounting_period_open``: a posting dated in a closed
  accounting period) is judged by the connector's ``dependency_ready``. If the dependency is
  there, the exception is retried (actor ``worker:dependency``); if not, it is checked again
  one interval later.
- records resolved because a later attempt for the same record succeeded in another run: their
  own parked run is sent ``retry`` (writes are idempotent, so it finishes without duplicates).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from syncwright._time import utcnow
from syncwright.errors import SyncwrightError
from syncwright.exceptions.queue import ExceptionRecord
from syncwright.exceptions.service import ExceptionService, ResumeSender

if TYPE_CHECKING:
    from syncwright.runtime import Runtime

log = logging.getLogger("syncwright.exceptions")
WATCHER_ACTOR = "worker:dependency"


class DependencyWatcher:
    def __init__(self, runtime: Runtime, resume: ResumeSender) -> None:
        self._runtime = runtime
        self._resume = resume
        self._service = ExceptionService(
            runtime.exceptions, runtime.inbox, resume, ledger=runtime.ledger, audit=runtime.audit
        )
        self._interval = timedelta(seconds=runtime.settings.exceptions.dependency_check_seconds)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def check_due(self) -> int:
        """One pass over the records due now; returns how many were sent back."""
        sent = 0
        queue = self._runtime.exceptions
        for record in queue.due_checks(utcnow()):
            if record.status == "resolved":
                if record.workflow_id:
                    self._resume.send_resume(record.workflow_id, "retry")
                queue.update(
                    record.id, actor=WATCHER_ACTOR, action="release_run", next_check_at=None
                )
                sent += 1
            elif record.status == "waiting" and self._present(record):
                self._service.retry(record.id, actor=WATCHER_ACTOR)
                sent += 1
            elif record.status == "waiting":
                queue.recheck_later(record.id, utcnow() + self._interval)
            else:  # retried or reopened meanwhile: nothing to wait for
                queue.recheck_later(record.id, None)
        return sent

    def _present(self, record: ExceptionRecord) -> bool:
        wanted: Mapping[str, Any] = record.waiting_on or {}
        entity_type, global_id = wanted.get("entity_type"), wanted.get("global_id")
        system = wanted.get("system") or record.connection
        if wanted.get("check"):  # a condition only the connector can judge (a period open)
            return self._ready(record, str(system or ""), wanted)
        if not (entity_type and global_id and system):
            return False
        xref = self._runtime.xref
        if xref.native_id_for(str(entity_type), str(global_id), str(system)) is not None:
            return True
        connector = self._runtime.connectors.get(str(system))
        read = getattr(getattr(connector, "client", None), "get_by_external_id", None)
        record_type = wanted.get("record_type")
        if read is None or not record_type:
            return False
        try:
            return read(str(record_type), str(global_id)) is not None
        except SyncwrightError as exc:  # the target is unwell: look again next time
            log.info("dependency check for %s failed: %s", record.id, exc.code)
            return False

    def _ready(self, record: ExceptionRecord, system: str, wanted: Mapping[str, Any]) -> bool:
        ready = getattr(self._runtime.connectors.get(system), "dependency_ready", None)
        if ready is None:
            return False
        try:
            return bool(ready(wanted))
        except SyncwrightError as exc:  # the target is unwell: look again next time
            log.info("dependency check for %s failed: %s", record.id, exc.code)
            return False

    def start(self) -> None:
        def loop() -> None:
            while not self._stop.wait(self._interval.total_seconds()):
                try:
                    self.check_due()
                except Exception:  # keep watching; the records stay due
                    log.exception("dependency check pass failed")

        self._thread = threading.Thread(target=loop, name="dependency-watcher", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)
