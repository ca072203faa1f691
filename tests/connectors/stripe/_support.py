"""Helpers for the Stripe connector tests: a config on disk, polling into the inbox, and
normalizing what the inbox holds."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from syncwright.connectors._base import Connector, Delivery, PolledEvent
from syncwright.runtime import Runtime

API_KEY = "sk_test_syncwright_connector_4242"
CONNECTION = "stripe"

RuntimeFactory = Callable[..., Runtime]


def write_stripe_config(
    directory: Path,
    *,
    base_url: str,
    webhook_secrets: Sequence[str] = (),
    options: dict[str, Any] | None = None,
    api_key: str = API_KEY,
    limits: str = "",
) -> Path:
    """A syncwright.yaml with one Stripe connection; secrets live in files beside it."""
    secrets = directory / "secrets"
    secrets.mkdir(parents=True, exist_ok=True)
    (secrets / "stripe_api_key").write_text(api_key)
    refs = []
    for index, secret in enumerate(webhook_secrets):
        (secrets / f"whsec_{index}").write_text(secret)
        refs.append(f'"file:secrets/whsec_{index}"')
    opts = json.dumps(options or {"default_subsidiary": "US-1"})
    path = directory / "syncwright.yaml"
    path.write_text(
        f"""\
database:
  url: sqlite:///{directory / "syncwright.db"}
connections:
  {CONNECTION}:
    vendor: stripe
    base_url: {base_url}
    credentials:
      api_key: "file:secrets/stripe_api_key"
    webhook:
      secrets: [{", ".join(refs)}]
      tolerance_seconds: 300
    limits:
      timeout_seconds: 5
{limits}    options: {opts}
"""
    )
    return path


def poll_everything(
    connector: Connector, cursor: str | None = None
) -> tuple[list[PolledEvent], str | None]:
    """Poll ``events`` from ``cursor`` until Stripe has no more; every event and the last cursor."""
    found: list[PolledEvent] = []
    for _ in range(100):
        batch = connector.poll("events", cursor)
        found.extend(batch.events)
        if batch.cursor is not None:
            cursor = batch.cursor
        if not batch.has_more:
            return found, cursor
    raise AssertionError("polling did not finish")


def accept(runtime: Runtime, events: Sequence[PolledEvent], origin: str = "poll") -> int:
    """Land polled events in the real inbox (as the poller does); how many were new."""
    new = 0
    for event in events:
        result = runtime.inbox.accept(
            connection=CONNECTION,
            vendor_event_id=event.vendor_event_id,
            event_type=event.event_type,
            body=event.body,
            origin=origin,
        )
        new += 0 if result.duplicate else 1
    return new


def normalize_pending(runtime: Runtime) -> list[tuple[Delivery, list[Any]]]:
    """Normalize every pending inbox row in arrival order (as the dispatcher does)."""
    connector = runtime.connection(CONNECTION)
    out: list[tuple[Delivery, list[Any]]] = []
    for row in runtime.inbox.pending(10_000):
        delivery = Delivery(
            inbox_id=row.id,
            connection=row.connection,
            vendor_event_id=row.vendor_event_id,
            event_type=row.event_type,
            body=row.body,
            correlation_id=row.correlation_id,
            received_at=row.received_at,
        )
        out.append((delivery, connector.normalize(delivery)))
        runtime.inbox.mark_dispatched(row.id)
    return out


def delivery_of(body: dict[str, Any] | str, *, correlation_id: str = "corr-1") -> Delivery:
    """A Delivery for a hand-made Stripe event (fixtures), as if it came out of the inbox."""
    text = body if isinstance(body, str) else json.dumps(body)
    try:
        parsed = json.loads(text)
    except ValueError:
        parsed = None
    meta = parsed if isinstance(parsed, dict) else {}
    return Delivery(
        inbox_id=1,
        connection=CONNECTION,
        vendor_event_id=str(meta.get("id", "evt_x")),
        event_type=str(meta.get("type", "unknown")),
        body=text,
        correlation_id=correlation_id,
        received_at=datetime.now(UTC),
    )
