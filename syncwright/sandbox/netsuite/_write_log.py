"""What the emulated account received: every record write it accepted, in order, as the test-facing
``GET /_sandbox/writes`` shows it (not a NetSuite endpoint).

Tests read it to prove what a client sent, e.g. that an unchanged re-sync PATCHes nothing or
only the fields that changed. Bounded: the oldest entries go first.
"""

from __future__ import annotations

import threading
from collections import deque
from typing import Any

__all__ = ["WriteLog"]

_KEEP = 2_000


class WriteLog:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: deque[dict[str, Any]] = deque(maxlen=_KEEP)

    def record(
        self, method: str, record_type: str, record_id: str | None, body: Any, **extra: Any
    ) -> None:
        entry = {"method": method, "record": record_type, "id": record_id, "body": body, **extra}
        with self._lock:
            self._entries.append(entry)

    def entries(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
