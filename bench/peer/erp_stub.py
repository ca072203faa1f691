#!/usr/bin/env python3
"""The "ERP" both sides of the peer benchmarks write to; it keeps every write so a bench can
check each record before it prints a figure.

Copied from ../shared/bench-peer/erp_stub.py (the n8n peer harness, see README.md here) and
extended: besides n8n's ``POST /customers`` it speaks the example ERP's customer write, which
syncwright's built-in ``example`` connector sends, and it records each write.

    POST /customers                 -> 201 {"id": "erp_<n>", "external_ref": ...}   (n8n)
    PUT  /api/customers/{external}  -> 201 {"id": external, "version": 1, ...}      (syncwright)
    GET  /health                    -> 200 {"ok": true}
    GET  /stats                     -> 200 {"created", "bad", "in_flight", "max_in_flight"}
    GET  /records?since=N           -> 200 {"records": [[unix_time, api, name], ...], "next": M}

A write's ``name`` identifies the event it came from (every bench event names a customer of
its own), so a name written twice is a duplicate and a name never written is a loss.
``--latency-ms`` holds each write that long (a slower ERP; the scale bench uses it so that a
concurrency budget is what bounds the rate); ``max_in_flight`` is the most writes it ever held
at once. stdlib only (ThreadingHTTPServer, HTTP/1.1 keep-alive), binds 127.0.0.1 only.

Usage: python3 erp_stub.py [PORT] [--latency-ms MS]   (default port 18081)
"""

from __future__ import annotations

import argparse
import itertools
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

_counter = itertools.count(1)
_lock = threading.Lock()
_stats = {"created": 0, "bad": 0, "in_flight": 0, "max_in_flight": 0}
_records: list[tuple[float, str, str]] = []  # (receipt unix time, api, name)
_latency_seconds = 0.0


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "erp-stub/2"

    def log_message(self, format: str, *args: Any) -> None:  # silence per-request logging
        pass

    def _send(self, code: int, obj: Any) -> None:
        body = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        if url.path == "/health":
            self._send(200, {"ok": True})
        elif url.path == "/stats":
            with _lock:
                self._send(200, dict(_stats))
        elif url.path == "/records":
            since = int(parse_qs(url.query).get("since", ["0"])[0])
            with _lock:
                page = _records[since:]
            self._send(200, {"records": page, "next": since + len(page)})
        else:
            self._send(404, {"error": "not found"})

    def _body(self) -> dict[str, Any] | None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            doc = json.loads(raw or b"null")
        except ValueError:
            return None
        return doc if isinstance(doc, dict) and doc.get("name") else None

    def _write(self, api: str, doc: dict[str, Any] | None) -> bool:
        """Record one write, held ``--latency-ms`` while counted in flight; False when bad."""
        received = time.time()
        if doc is None:
            with _lock:
                _stats["bad"] += 1
            self._send(400, {"error": "expected a JSON object with a name"})
            return False
        with _lock:
            _stats["in_flight"] += 1
            _stats["max_in_flight"] = max(_stats["max_in_flight"], _stats["in_flight"])
        try:
            if _latency_seconds:
                time.sleep(_latency_seconds)
        finally:
            with _lock:
                _stats["in_flight"] -= 1
                _stats["created"] += 1
                _records.append((received, api, str(doc["name"])))
        return True

    def do_POST(self) -> None:  # n8n's HTTP Request node
        doc = self._body()
        if self.path != "/customers":
            self._send(404, {"error": "not found"})
        elif self._write("post", doc if doc and "external_ref" in doc else None):
            assert doc is not None
            n = next(_counter)
            self._send(201, {"id": f"erp_{n:07d}", "external_ref": doc["external_ref"]})

    def do_PUT(self) -> None:  # syncwright's example connector: upsert by external id
        doc = self._body()
        prefix = "/api/customers/"
        if not self.path.startswith(prefix) or len(self.path) == len(prefix):
            self._send(404, {"error": {"code": "NOT_FOUND", "message": self.path}})
        elif self._write("put", doc):
            assert doc is not None
            self._send(201, {**doc, "id": self.path[len(prefix) :], "version": 1})


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024  # listen backlog: bursts of connections are queued, not refused


def main() -> None:
    global _latency_seconds
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("port", nargs="?", type=int, default=18081)
    parser.add_argument("--latency-ms", type=float, default=0.0)
    args = parser.parse_args()
    _latency_seconds = args.latency_ms / 1000
    srv = _Server(("127.0.0.1", args.port), Handler)
    print(f"erp stub listening on 127.0.0.1:{args.port}", flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        srv.server_close()


if __name__ == "__main__":
    main()
