"""Running the HTTP listeners: the API (with the console) and, with ``server.hooks``, the
webhook intake on an address of its own; and the start-up check that keeps an API without
tokens off the network."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import uvicorn
from fastapi import FastAPI

from syncwright.config import Settings, is_loopback_host

__all__ = ["Listener", "exposure_problem", "listeners", "serve_listeners"]


@dataclass(frozen=True)
class Listener:
    app: FastAPI
    host: str
    port: int

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"


def exposure_problem(settings: Settings, host: str) -> str | None:
    """Why the API must not listen on ``host``, or None: a non-loopback address with no
    ``auth.tokens`` would give the network an API nobody can use, and metrics and docs that
    anyone can read."""
    if is_loopback_host(host) or settings.auth.tokens:
        return None
    return (
        f"refusing to serve the API on {host!r} (not a loopback address) without API tokens: "
        "add at least one under auth.tokens in syncwright.yaml (see docs/security.md), or "
        "bind 127.0.0.1; to expose only the webhook intake, set server.hooks"
    )


def listeners(app: FastAPI, settings: Settings, host: str, port: int) -> list[Listener]:
    """The API listener, then the webhook listener when ``server.hooks`` is set."""
    found = [Listener(app, host, port)]
    hooks_app = getattr(app.state, "hooks_app", None)
    hooks = settings.server.hooks
    if hooks is not None and isinstance(hooks_app, FastAPI):
        found.append(Listener(hooks_app, hooks.host, hooks.port))
    return found


async def _serve_all(servers: list[uvicorn.Server]) -> None:
    tasks = [asyncio.create_task(server.serve()) for server in servers]
    # Each server traps SIGINT/SIGTERM for itself (the last one installed wins); when any one
    # stops, stop them all, so the process never runs half its listeners.
    await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    for server in servers:
        server.should_exit = True
    await asyncio.gather(*tasks)


def serve_listeners(found: list[Listener], *, log_level: str = "warning") -> None:
    """Serve every listener in this process until interrupted. uvicorn's records go to the
    process's own logging handler (level, format, redaction from ``telemetry``)."""
    servers = [
        uvicorn.Server(
            uvicorn.Config(
                listener.app,
                host=listener.host,
                port=listener.port,
                log_config=None,
                log_level=log_level,
                access_log=False,
            )
        )
        for listener in found
    ]
    asyncio.run(_serve_all(servers))
