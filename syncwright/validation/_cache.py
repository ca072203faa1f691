"""A small thread-safe TTL cache (``cachetools`` is not a dependency; this is all we need)."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

__all__ = ["TTLCache"]

V = TypeVar("V")


class TTLCache(Generic[V]):
    """``put(key, value, ttl)`` keeps ``value`` for ``ttl`` seconds; ``get`` answers it until
    then. At most ``maxsize`` entries: the least recently written goes first."""

    def __init__(self, maxsize: int = 10_000, *, clock: Callable[[], float] = time.monotonic):
        if maxsize < 1:
            raise ValueError("maxsize must be at least 1")
        self.maxsize = maxsize
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: OrderedDict[Hashable, tuple[float, V]] = OrderedDict()

    def get(self, key: Hashable) -> V | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            expires_at, value = entry
            if self._clock() >= expires_at:
                del self._entries[key]
                return None
            return value

    def put(self, key: Hashable, value: V, ttl: float) -> None:
        """Store ``value``; a ``ttl`` of 0 or less stores nothing (caching off)."""
        if ttl <= 0:
            return
        with self._lock:
            self._entries[key] = (self._clock() + ttl, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.maxsize:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        with self._lock:
            now = self._clock()
            for key in [k for k, (expires_at, _) in self._entries.items() if now >= expires_at]:
                del self._entries[key]
            return len(self._entries)
