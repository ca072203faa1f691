"""What the connector test folders share: runtimes built from a written syncwright.yaml,
extra emulators started on demand, and real step contexts for calling actions directly.

Each vendor's conftest keeps what is its own (its emulator, its config file, its records) and
builds its fixtures from these generators (``yield from runtimes(...)``)."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from syncwright.config import load_settings
from syncwright.engine import StepContext
from syncwright.runtime import Runtime
from syncwright.sandbox import ServerThread

Env = TypeVar("Env")
RuntimeFactory = Callable[..., Runtime]

_SEQ = itertools.count(1)


def runtimes(
    tmp_path: Path, write_config: Callable[..., Path], base_url: str
) -> Iterator[RuntimeFactory]:
    """``make(**kwargs)``: a real Runtime from ``write_config(directory, **kwargs)`` (the
    emulator's ``base_url`` unless given), each in its own directory; all closed afterwards."""
    made: list[Runtime] = []

    def make(**kwargs: Any) -> Runtime:
        directory = tmp_path / f"rt{len(made)}"
        directory.mkdir()
        kwargs.setdefault("base_url", base_url)
        runtime = Runtime(load_settings(write_config(directory, **kwargs)))
        made.append(runtime)
        return runtime

    yield make
    for runtime in made:
        runtime.close()


def extra_servers(start: Callable[..., tuple[ServerThread, Env]]) -> Iterator[Callable[..., Env]]:
    """``start(**settings)``: another emulator with its own settings (a tiny rate limit, ...),
    stopped afterwards."""
    servers: list[ServerThread] = []

    def started(**kwargs: Any) -> Env:
        server, env = start(**kwargs)
        servers.append(server)
        return env

    yield started
    for server in servers:
        server.stop()


def step_context(
    runtime: Runtime,
    step: str,
    *,
    prefix: str,
    workflow: str = "test.entitlement",
    workflow_id: str | None = None,
    timeout_seconds: float = 5.0,
) -> StepContext:
    """A real step context; contexts with the same ``workflow_id`` and ``step`` share an
    idempotency key, so passing one ``workflow_id`` twice replays a step."""
    n = next(_SEQ)
    return StepContext(
        workflow_id=workflow_id or f"wf-{prefix}-{n}",
        workflow=workflow,
        step=step,
        attempt=1,
        correlation_id=f"cor-{prefix}-{n}",
        entity_key=f"account:{n}",
        timeout_seconds=timeout_seconds,
        services=runtime,
    )
