"""A daemon thread and the event that stops it: the engine's background loops share this."""

from __future__ import annotations

import threading
from collections.abc import Callable


class DaemonLoop:
    """Runs ``target`` on a daemon thread; ``target`` waits on :attr:`stopped` between rounds."""

    def __init__(self, name: str, target: Callable[[], None]) -> None:
        self.stopped = threading.Event()
        self._thread = threading.Thread(target=target, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, join_seconds: float = 10.0) -> None:
        self.stopped.set()
        if self._thread.is_alive():
            self._thread.join(join_seconds)
