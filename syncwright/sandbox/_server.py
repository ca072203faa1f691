"""Run an ASGI app under uvicorn on a loopback port, in a background thread."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from types import TracebackType
from typing import Any

import uvicorn

LOOPBACK = "127.0.0.1"


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        port: int = sock.getsockname()[1]
        return port


class _Server(uvicorn.Server):
    """Stops without waiting on connections that carry no request.

    uvicorn waits for every connection to close before it stops, and logs an error when
    ``timeout_graceful_shutdown`` runs out. A client's idle keep-alive pool, or a TLS peer that
    never answers the close (an SDK's session left open), holds nothing worth waiting for: once
    the requests in flight are answered, the remaining connections are closed at once.
    """

    async def _wait_tasks_to_complete(self) -> None:
        while self.server_state.tasks:
            await asyncio.sleep(0.05)
        for connection in list(self.server_state.connections):
            transport = getattr(connection, "transport", None)
            if transport is not None:
                transport.abort()
        for server in self.servers:
            await server.wait_closed()


class ServerThread:
    """Serve ``app`` on ``127.0.0.1:port`` until :meth:`stop` (or the ``with`` block ends).

    ``certfile``/``keyfile`` turn on TLS, for SDKs that only speak HTTPS (simple-salesforce).
    """

    def __init__(
        self,
        app: Any,
        *,
        port: int = 0,
        certfile: str | None = None,
        keyfile: str | None = None,
        log_level: str = "warning",
    ) -> None:
        self.port = port or free_port()
        self._tls = certfile is not None
        config = uvicorn.Config(
            app,
            host=LOOPBACK,
            port=self.port,
            log_level=log_level,
            access_log=False,
            ssl_certfile=certfile,
            ssl_keyfile=keyfile,
            lifespan="on",
            # Idle keep-alive (and TLS) connections must not hold a test's teardown for long.
            timeout_graceful_shutdown=1,
        )
        self._server = _Server(config)
        self._thread = threading.Thread(target=self._server.run, name=f"uvicorn:{self.port}")
        self._thread.daemon = True

    @property
    def url(self) -> str:
        scheme = "https" if self._tls else "http"
        return f"{scheme}://{LOOPBACK}:{self.port}"

    def start(self, timeout: float = 10.0) -> ServerThread:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive():
                raise RuntimeError(f"server on port {self.port} failed to start")
            if time.monotonic() > deadline:
                raise TimeoutError(f"server on port {self.port} did not start in {timeout}s")
            time.sleep(0.01)
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self._server.should_exit = True
        self._thread.join(timeout)

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
