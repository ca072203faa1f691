"""Per-workflow run limits, and the watch that reports runs stopped by their time limit.

DBOS enforces a run's deadline itself: once it passes, the run is cancelled (a step in progress
finishes; no later step starts). Cancelling is silent, so a watch thread lists runs cancelled
for their deadline and hands each to :meth:`StepHooks.timed_out`, which opens an exception.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from syncwright.engine import _dbos
from syncwright.engine._loop import DaemonLoop
from syncwright.engine.ids import replay_correlation_id
from syncwright.engine.workflow import StepHooks, TimedOutRun

log = logging.getLogger("syncwright.engine")


@dataclass(frozen=True)
class WorkflowLimits:
    """What ``workflows.<name>`` configures for one workflow's runs."""

    queue_concurrency: int | None = None
    """Runs of this workflow at once in this process; ``None`` shares the entity queue."""
    timeout_seconds: float | None = None
    """Wall-clock limit of one run; ``None`` keeps the workflow's declared limit (if any)."""
    priority: str = "normal"
    """Priority class (``high``, ``normal``, ``low``): which lane of the engine its runs take."""


class TimeoutWatch(DaemonLoop):
    """A daemon thread reporting timed-out runs through ``hooks.timed_out``.

    It looks back ``lookback_seconds`` at start (runs stopped while no process watched), then
    only at runs stopped since its previous look. Reporting is idempotent in the hooks, so two
    executors watching the same database open one exception per time-out.
    """

    def __init__(
        self, hooks: StepHooks, *, interval_seconds: float, lookback_seconds: float = 86_400.0
    ) -> None:
        self._hooks = hooks
        self._interval = interval_seconds
        self._since_ms = int((time.time() - lookback_seconds) * 1000)
        self._seen: set[tuple[str, int]] = set()  # reported by this process
        self._reporting = threading.Lock()  # the loop and Engine.report_timeouts() alike
        super().__init__("timeout-watch", self._run)

    def _run(self) -> None:
        while not self.stopped.wait(self._interval):
            try:
                self.report()
            except Exception:  # a database hiccup: the next round looks again
                log.exception("timed-out run check failed")

    def report(self) -> list[TimedOutRun]:
        """Report runs stopped since the last look; returns them."""
        with self._reporting:
            return self._report()

    def _report(self) -> list[TimedOutRun]:
        # DBOS stamps the stop in milliseconds; a small overlap never misses one at the edge.
        found = _dbos.timed_out(self._since_ms - 1000)
        runs: list[TimedOutRun] = []
        for item in found:
            key = (item["workflow_id"], item["stopped_at_ms"])
            if key in self._seen:
                continue
            payload = item["payload"]
            run = TimedOutRun(
                workflow_id=item["workflow_id"],
                workflow=item["workflow"],
                # A replay fork runs under its own correlation id, not its original's.
                correlation_id=replay_correlation_id(item["workflow_id"])
                or str(payload.get("correlation_id") or item["workflow_id"]),
                entity_key=str(payload.get("entity_key") or ""),
                timeout_seconds=float(item["timeout_seconds"]),
                stopped_at_ms=int(item["stopped_at_ms"]),
            )
            # A parked run of this process would otherwise wait out its park before it noticed.
            _dbos.wake(run.workflow_id)
            self._hooks.timed_out(run)
            self._seen.add(key)  # only once reported: a failed report is tried again
            runs.append(run)
            log.warning(
                "run %s of %s stopped after %gs (its time limit)",
                run.workflow_id,
                run.workflow,
                run.timeout_seconds,
            )
        if found:
            self._since_ms = max(item["stopped_at_ms"] for item in found)
        return runs
