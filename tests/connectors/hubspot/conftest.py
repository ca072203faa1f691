"""Fixtures for the HubSpot connector tests: one HubSpot emulator per module (reset before each
test), a real Runtime (SQLite in tmp) whose ``hubspot`` connection talks to it, and the
official SDK as "someone else" writing to the portal."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from hubspot import HubSpot

from syncwright.config import load_settings
from syncwright.connectors import Delivery
from syncwright.connectors.hubspot.connector import HubSpotConnector
from syncwright.engine import StepContext
from syncwright.runtime import Runtime
from syncwright.sandbox import FaultPlan, ServerThread
from syncwright.sandbox.hubspot import (
    DEFAULT_ACCESS_TOKEN,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_OAUTH_CLIENT_ID,
    DEFAULT_REFRESH_TOKEN,
    HubSpotEmulator,
    create_app,
    emulator_of,
)

CONNECTION = "hubspot"
_SEQ = itertools.count(1)


@dataclass
class Portal:
    url: str
    emulator: HubSpotEmulator

    def sdk(self) -> HubSpot:
        return HubSpot(access_token=DEFAULT_ACCESS_TOKEN, host=self.url)

    def admin(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=10.0, trust_env=False)


@dataclass
class World:
    runtime: Runtime
    portal: Portal

    @property
    def connector(self) -> HubSpotConnector:
        found = self.runtime.connection(CONNECTION)
        assert isinstance(found, HubSpotConnector)
        return found

    def ctx(self, step: str = "test") -> StepContext:
        n = next(_SEQ)
        return StepContext(
            workflow_id=f"wf-hs-{n}",
            workflow="test.hubspot",
            step=step,
            attempt=1,
            correlation_id=f"cor-hs-{n}",
            entity_key=f"test:{n}",
            timeout_seconds=10.0,
            services=self.runtime,
        )


def delivery_of(events: list[dict[str, Any]], *, event_id: str = "batch:1") -> Delivery:
    return Delivery(
        inbox_id=next(_SEQ),
        connection=CONNECTION,
        vendor_event_id=event_id,
        event_type=str(events[0].get("subscriptionType")) if events else "unknown",
        body=json.dumps(events),
        correlation_id="cor_hs",
        received_at=datetime.now(UTC),
    )


def event(
    subscription_type: str, object_id: str | int, prop: str | None = None, value: str = ""
) -> dict[str, Any]:
    found: dict[str, Any] = {
        "eventId": next(_SEQ),
        "subscriptionId": 1,
        "portalId": 62515,
        "appId": 54321,
        "occurredAt": int(datetime.now(UTC).timestamp() * 1000),
        "subscriptionType": subscription_type,
        "attemptNumber": 0,
        "objectId": int(object_id),
        "changeSource": "CRM_UI",
    }
    if prop is not None:
        found |= {"propertyName": prop, "propertyValue": value}
    return found


def write_config(
    directory: Path, url: str, options: dict[str, Any] | None = None, *, oauth: bool = False
) -> Path:
    """One ``hubspot`` connection: a private app's token, or (``oauth``) a public app's."""
    secrets = directory / "secrets"
    secrets.mkdir(parents=True, exist_ok=True)
    values = (
        {
            "client_id": DEFAULT_OAUTH_CLIENT_ID,
            "client_secret": DEFAULT_CLIENT_SECRET,
            "refresh_token": DEFAULT_REFRESH_TOKEN,
        }
        if oauth
        else {"access_token": DEFAULT_ACCESS_TOKEN}
    )
    for key, value in values.items():
        (secrets / f"hs_{key}").write_text(value)
    credentials = "\n".join(f'      {key}: "file:secrets/hs_{key}"' for key in values)
    (secrets / "hs_secret").write_text(DEFAULT_CLIENT_SECRET)
    opts = {
        "role": "crm",
        "default_currency": "USD",
        "default_subsidiary": "US-1",
        **(options or {}),
    }
    path = directory / "syncwright.yaml"
    path.write_text(
        f"""\
database:
  url: sqlite:///{directory / "syncwright.db"}
connections:
  {CONNECTION}:
    vendor: hubspot
    base_url: {url}
    credentials:
{credentials}
    webhook:
      secrets: ["file:secrets/hs_secret"]
    limits:
      timeout_seconds: 5
    options: {json.dumps(opts)}
"""
    )
    return path


@pytest.fixture(scope="module")
def _hubspot_portal() -> Iterator[Portal]:
    app = create_app(per_interval=100_000, webhook_retry_delays=(0.05,))
    with ServerThread(app) as server:
        yield Portal(server.url, emulator_of(app))


@pytest.fixture
def portal(_hubspot_portal: Portal) -> Iterator[Portal]:
    with _hubspot_portal.admin() as admin:
        admin.post("/_sandbox/reset").raise_for_status()
    yield _hubspot_portal
    _hubspot_portal.emulator.faults.configure(FaultPlan())


@pytest.fixture
def hs(portal: Portal) -> HubSpot:
    return portal.sdk()


@pytest.fixture
def hs_world(portal: Portal, tmp_path: Path) -> Iterator[World]:
    runtime = Runtime(load_settings(write_config(tmp_path, portal.url)))
    try:
        yield World(runtime, portal)
    finally:
        runtime.close()
