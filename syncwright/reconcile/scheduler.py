"""The worker's reconciliation clock: each rule runs once per slot of its schedule, whichever
worker gets there first (the slot's run id is the lock, see ``runs.slot_run_id``)."""

from __future__ import annotations

import logging
import threading

from syncwright._time import utcnow
from syncwright.reconcile.runner import Reconciler
from syncwright.reconcile.runs import slot_run_id
from syncwright.reconcile.schedule import current_slot

log = logging.getLogger("syncwright.reconcile")

# How often the clock looks; a slot is picked up at most this late.
CHECK_EVERY_SECONDS = 1.0


class ReconcileScheduler:
    def __init__(self, reconciler: Reconciler, *, check_every: float = CHECK_EVERY_SECONDS) -> None:
        self._reconciler = reconciler
        self._check_every = check_every
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._done: dict[str, str] = {}  # rule -> last slot run id this process saw taken

    def run_due(self) -> list[str]:
        """Run every rule whose current slot has not run yet; returns the run ids started."""
        started: list[str] = []
        now = utcnow()
        for rule in self._reconciler.rules.values():
            run_id = slot_run_id(rule.name, current_slot(rule.schedule, now))
            if self._done.get(rule.name) == run_id:
                continue
            self._done[rule.name] = run_id
            result = self._reconciler.run(rule.name, run_id=run_id)
            if result is not None:
                started.append(result.run_id)
                log.info(
                    "reconciliation %s: %s, %d drift", rule.name, result.status, result.drift_count
                )
        return started

    def start(self) -> None:
        if not self._reconciler.rules:
            return

        def loop() -> None:
            while not self._stop.wait(self._check_every):
                try:
                    self.run_due()
                except Exception:  # the next tick tries again; a rule's failure is stored
                    log.exception("reconciliation schedule failed")

        self._thread = threading.Thread(target=loop, name="reconcile", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(30)
