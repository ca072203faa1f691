"""A server stops cleanly while a client still holds a connection open (an SDK's keep-alive
session over TLS): no "timeout graceful shutdown exceeded" error, and the thread ends."""

from __future__ import annotations

import logging
import socket
import ssl
from pathlib import Path

from fastapi import FastAPI

from syncwright.sandbox import ServerThread
from syncwright.sandbox._tls import make_self_signed_cert


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(f"{record.levelname}: {record.getMessage()}")


def test_stop_with_an_idle_tls_keep_alive_connection_open(tmp_path: Path) -> None:
    app = FastAPI()

    @app.get("/ping")
    def ping() -> dict[str, str]:
        return {"ok": "yes"}

    cert, key = make_self_signed_cert(tmp_path)
    server = ServerThread(app, certfile=cert, keyfile=key).start()
    records = _Records()
    logging.getLogger("uvicorn.error").addHandler(records)
    context = ssl.create_default_context(cafile=cert)
    raw = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    client = context.wrap_socket(raw, server_hostname="127.0.0.1")
    try:
        client.sendall(b"GET /ping HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n")
        answer = b""
        while not answer.endswith(b'{"ok":"yes"}'):
            answer += client.recv(4096)
        # The client keeps its connection and never answers the server's close: like a pooled
        # session of an SDK that is still alive when the emulator stops.
        server.stop()
        assert not server._thread.is_alive()
    finally:
        logging.getLogger("uvicorn.error").removeHandler(records)
        raw.close()
    assert not [m for m in records.messages if m.startswith("ERROR")], records.messages
