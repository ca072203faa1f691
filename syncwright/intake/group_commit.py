"""Group commit for the inbox: many concurrent webhook requests, one transaction.

Each request hands its delivery to one writer thread and awaits a future. The writer takes
whatever has queued up (up to ``max_batch``), writes it in a single transaction, and only then
resolves the futures -- so every 2xx still means "durably stored", but SQLite's single writer
and the per-transaction overhead are paid once per batch instead of once per request.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from dataclasses import dataclass
from typing import Any

from syncwright.intake.inbox import AcceptResult, Inbox

log = logging.getLogger("syncwright.intake")


@dataclass
class _Pending:
    delivery: dict[str, Any]
    future: asyncio.Future[AcceptResult]
    loop: asyncio.AbstractEventLoop


class GroupCommitWriter:
    def __init__(self, inbox: Inbox, *, max_batch: int = 256) -> None:
        self._inbox = inbox
        self._max_batch = max_batch
        self._queue: queue.SimpleQueue[_Pending | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="inbox-writer", daemon=True)
        self._started = False
        self._lock = threading.Lock()

    def _ensure_started(self) -> None:
        with self._lock:
            if not self._started:
                self._thread.start()
                self._started = True

    async def accept(self, **delivery: Any) -> AcceptResult:
        self._ensure_started()
        loop = asyncio.get_running_loop()
        future: asyncio.Future[AcceptResult] = loop.create_future()
        self._queue.put(_Pending(delivery, future, loop))
        return await future

    def close(self) -> None:
        if self._started:
            self._queue.put(None)
            self._thread.join(10)

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            while len(batch) < self._max_batch:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    self._queue.put(None)  # finish this batch, then stop
                    break
                batch.append(item)
            self._write(batch)

    def _write(self, batch: list[_Pending]) -> None:
        try:
            results = self._inbox.accept_many([p.delivery for p in batch])
        except Exception as exc:  # every waiter learns it was not stored: the vendor retries
            log.exception("inbox batch of %d failed", len(batch))
            for pending in batch:
                pending.loop.call_soon_threadsafe(_fail, pending.future, exc)
            return
        for pending, result in zip(batch, results, strict=True):
            pending.loop.call_soon_threadsafe(_resolve, pending.future, result)


def _resolve(future: asyncio.Future[AcceptResult], result: AcceptResult) -> None:
    if not future.done():
        future.set_result(result)


def _fail(future: asyncio.Future[AcceptResult], exc: Exception) -> None:
    if not future.done():
        future.set_exception(exc)
