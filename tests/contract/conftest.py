"""Shared helpers for the connector contract tests: a real Runtime from a written config."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from syncwright.config import load_settings
from syncwright.connectors._base import Delivery
from syncwright.runtime import Runtime


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
