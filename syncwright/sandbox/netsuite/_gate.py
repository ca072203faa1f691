"""What stands in front of every REST call: concurrency governance, TBA, injected faults.

A pure ASGI middleware, so a refused request never reaches a route and a "lost response" can
hold a fully computed answer back until the client has given up.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from syncwright.sandbox.netsuite._errors import (
    NetSuiteApiError,
    concurrency_exceeded,
    invalid_login,
    unexpected_error,
)

if TYPE_CHECKING:
    from syncwright.sandbox.netsuite._app import NetSuiteSandbox

API_PREFIX = "/services/rest/"


async def send_error(send: Send, error: NetSuiteApiError) -> None:
    await send_json(send, error.status, error.body())


async def send_json(
    send: Send, status: int, body: Any, headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    payload = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/vnd.oracle.resource+json; type=error"),
                (b"content-length", str(len(payload)).encode()),
                *(headers or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})


def request_uri(scope: Scope) -> str:
    """The URL exactly as the client sent it, which is what the client signed."""
    headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
    host = headers.get("host")
    if not host:
        server = scope.get("server") or ("127.0.0.1", 80)
        host = f"{server[0]}:{server[1]}"
    raw_path = scope.get("raw_path")
    path = raw_path.decode("latin-1") if raw_path else quote(scope["path"])
    query = scope.get("query_string", b"").decode("latin-1")
    return f"{scope.get('scheme', 'http')}://{host}{path}" + (f"?{query}" if query else "")


class Gate:
    def __init__(self, app: ASGIApp, sandbox: NetSuiteSandbox) -> None:
        self.app = app
        self.sandbox = sandbox

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(API_PREFIX):
            await self.app(scope, receive, send)
            return
        sandbox = self.sandbox
        sandbox.count_request(scope["method"], scope["path"])
        governor = sandbox.governor
        if not governor.try_acquire():
            await send_error(send, concurrency_exceeded(governor.limit))
            return
        try:
            await self._admitted(scope, receive, send)
        finally:
            governor.release()

    async def _admitted(self, scope: Scope, receive: Receive, send: Send) -> None:
        sandbox = self.sandbox
        method: str = scope["method"]
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        if not sandbox.verifier.verify(method, request_uri(scope), headers):
            await send_error(send, invalid_login())
            return
        faults = sandbox.faults
        kind = faults.draw(method)
        await faults.delay()
        if kind == "error_5xx":
            await send_error(send, unexpected_error())
            return
        if kind == "timeout":
            # Stall *before* applying: the client gives up, nothing was written.
            await faults.stall()
            await send_error(send, unexpected_error())
            return
        if kind == "lost_response":
            # Apply the write, then hold the answer back until the client has timed out.
            held: list[Message] = []

            async def hold(message: Message) -> None:
                held.append(message)

            await self.app(scope, receive, hold)
            await faults.stall()
            for message in held:
                await send(message)
            return
        await self.app(scope, receive, send)
