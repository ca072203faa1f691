"""Polling lands in the same inbox as webhooks, so each heals the other's gaps.

Each poll writes every event it read to the inbox (deduplicated on the vendor event id, so an
event seen by webhook *and* poll is one row) and only then moves the cursor: a crash between
the two re-reads a few events, which the inbox absorbs.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from syncwright.errors import SyncwrightError
from syncwright.intake.cursors import CursorStore

if TYPE_CHECKING:
    from syncwright.runtime import Runtime

log = logging.getLogger("syncwright.poll")
DEFAULT_INTERVAL_SECONDS = 60.0


@dataclass(frozen=True)
class PollReport:
    read: int
    accepted: int


class Poller:
    def __init__(self, runtime: Runtime, *, max_pages: int = 50) -> None:
        self._runtime = runtime
        self._cursors = CursorStore(runtime.db)
        self._max_pages = max_pages
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def poll_once(self, connection: str, stream: str) -> PollReport:
        """Read ``stream`` until it has no more (or ``max_pages``), accepting into the inbox."""
        connector = self._runtime.connectors[connection]
        read = accepted = 0
        for _ in range(self._max_pages):
            cursor = self._cursors.get(connection, stream)
            batch = connector.poll(stream, cursor)
            for event in batch.events:
                result = self._runtime.inbox.accept(
                    connection=connection,
                    vendor_event_id=event.vendor_event_id,
                    event_type=event.event_type,
                    body=event.body,
                    origin="poll",
                )
                read += 1
                accepted += 0 if result.duplicate else 1
            if batch.cursor is not None and batch.cursor != cursor:
                self._cursors.set(connection, stream, batch.cursor)
            if not batch.has_more:
                break
        return PollReport(read, accepted)

    def poll_all(self) -> dict[str, PollReport]:
        reports: dict[str, PollReport] = {}
        for name, connector in self._runtime.connectors.items():
            for stream in connector.poll_streams:
                try:
                    reports[f"{name}.{stream}"] = self.poll_once(name, stream)
                except SyncwrightError as exc:  # the next round tries again
                    log.warning("poll of %s.%s failed: %s", name, stream, exc.code)
        return reports

    def streams(self) -> list[tuple[str, str, float]]:
        """(connection, stream, interval) for every pollable stream; the interval comes from
        ``connections.<name>.options.poll_interval_seconds`` (default 60)."""
        found: list[tuple[str, str, float]] = []
        for name, connector in self._runtime.connectors.items():
            options = self._runtime.settings.connections[name].options
            interval = float(options.get("poll_interval_seconds", DEFAULT_INTERVAL_SECONDS))
            found.extend((name, stream, interval) for stream in connector.poll_streams)
        return found

    def start(self) -> None:
        due: dict[tuple[str, str], float] = {}

        def loop() -> None:
            while not self._stop.wait(0.2):
                for name, stream, interval in self.streams():
                    now = time.monotonic()
                    if now < due.get((name, stream), 0.0):
                        continue
                    due[(name, stream)] = now + interval
                    try:
                        self.poll_once(name, stream)
                    except SyncwrightError as exc:
                        log.warning("poll of %s.%s failed: %s", name, stream, exc.code)
                    except Exception:
                        log.exception("poll of %s.%s failed", name, stream)

        self._thread = threading.Thread(target=loop, name="poller", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)
