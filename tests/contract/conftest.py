"""Shared helpers for the connector contract tests: a real Runtime from a written config, step
contexts, deliveries, and the repo's copies of the vendors' own artifacts (``tests/vendor``)."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from syncwright.config import load_settings
from syncwright.connectors import Delivery
from syncwright.engine import StepContext
from syncwright.runtime import Runtime

VENDOR_DIR = Path(__file__).resolve().parents[1] / "vendor"
_SEQ = itertools.count(1)


def vendor_json(relative: str) -> Any:
    """A vendor artifact copied from ``../shared/vendor`` (a missing one fails the test)."""
    return json.loads((VENDOR_DIR / relative).read_text(encoding="utf-8"))


def runtime_from(tmp_path: Path, connections_yaml: str, secrets: dict[str, str]) -> Runtime:
    folder = tmp_path / "secrets"
    folder.mkdir(parents=True, exist_ok=True)
    for name, value in secrets.items():
        (folder / name).write_text(value)
    config = tmp_path / "syncwright.yaml"
    config.write_text(
        f"database:\n  url: sqlite:///{tmp_path / 'contract.db'}\nconnections:\n{connections_yaml}"
    )
    return Runtime(load_settings(config))


def step_context(runtime: Runtime, step: str, *, timeout_seconds: float = 10.0) -> StepContext:
    n = next(_SEQ)
    return StepContext(
        workflow_id=f"wf-contract-{n}",
        workflow="test.contract",
        step=step,
        attempt=1,
        correlation_id=f"cor-contract-{n}",
        entity_key=f"contract:{n}",
        timeout_seconds=timeout_seconds,
        services=runtime,
    )


def delivery(connection: str, event_id: str, event_type: str, body: bytes) -> Delivery:
    return Delivery(
        inbox_id=1,
        connection=connection,
        vendor_event_id=event_id,
        event_type=event_type,
        body=body.decode(),
        correlation_id="cor_contract",
        received_at=datetime.now(UTC),
    )
