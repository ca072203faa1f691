"""Helpers for the Salesforce connector tests: the HTTPS emulator, a config on disk, a real
Runtime wired to it, step contexts, CDC events as the connector receives them, and seeding
through simple-salesforce (the vendor's SDK, i.e. "someone else" writing to the org)."""

from __future__ import annotations

import datetime as dt
import itertools
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests
from simple_salesforce import Salesforce

from syncwright.connectors._base import Delivery
from syncwright.connectors.salesforce.client import SalesforceClient, SalesforceCredentials
from syncwright.connectors.salesforce.connector import SalesforceConnector
from syncwright.engine import StepContext
from syncwright.runtime import Runtime
from syncwright.sandbox import FaultInjector, ServerThread
from syncwright.sandbox.salesforce import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_PASSWORD,
    DEFAULT_USERNAME,
    SalesforceState,
)

CONNECTION = "salesforce"
API_VERSION = "59.0"
_SEQ = itertools.count(1)


class Clock:
    """Real UTC time unless a test pins it (Salesforce keeps date-times to the second)."""

    def __init__(self) -> None:
        self.pinned: dt.datetime | None = None

    def __call__(self) -> dt.datetime:
        return self.pinned or dt.datetime.now(dt.UTC)

    def set(self, moment: dt.datetime) -> None:
        self.pinned = moment

    def advance(self, seconds: float) -> None:
        self.pinned = self() + dt.timedelta(seconds=seconds)


def stop_server(server: ServerThread) -> None:
    """Stop with a short graceful window (an idle TLS keep-alive connection otherwise holds
    uvicorn until its SSL shutdown times out)."""
    server._server.config.timeout_graceful_shutdown = 0.3
    server.stop()


@dataclass
class Org:
    """One emulated Salesforce org behind HTTPS."""

    url: str
    certfile: str
    state: SalesforceState
    faults: FaultInjector
    clock: Clock

    def session(self) -> requests.Session:
        session = requests.Session()
        session.verify = self.certfile
        session.trust_env = False  # CI's REQUESTS_CA_BUNDLE would override verify
        return session

    def sdk(self) -> Salesforce:
        """simple-salesforce, logged in as the integration user, sending no call options: its
        writes look like a person's or another tool's, not syncwright's."""
        return Salesforce(
            username=DEFAULT_USERNAME,
            password=DEFAULT_PASSWORD,
            consumer_key=DEFAULT_CLIENT_ID,
            consumer_secret=DEFAULT_CLIENT_SECRET,
            instance_url=self.url,
            session_id=self.state.issue_token(),
            session=self.session(),
            version=API_VERSION,
        )

    def client(self, *, timeout: float = 5.0, **kwargs: Any) -> SalesforceClient:
        credentials = kwargs.pop(
            "credentials",
            SalesforceCredentials(
                DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_USERNAME, DEFAULT_PASSWORD
            ),
        )
        return SalesforceClient(
            self.url, credentials, timeout=timeout, ca_file=self.certfile, **kwargs
        )

    def mark(self) -> int:
        """The newest replay id now (events after it are "new")."""
        return self.state.events.latest_replay_id

    def cdc(self, after: int = 0, entity: str | None = None) -> list[dict[str, Any]]:
        """Change events after ``after`` as the replay endpoint serves them."""
        return [e.to_json() for e in self.state.events.since(after, entity=entity)]


def write_sf_config(
    directory: Path,
    *,
    url: str,
    certfile: str,
    options: dict[str, Any] | None = None,
    grant: str = "password",
    limits: str = "",
) -> Path:
    """A syncwright.yaml with one Salesforce connection; secrets live in files beside it."""
    secrets = directory / "secrets"
    secrets.mkdir(parents=True, exist_ok=True)
    values = {"client_id": DEFAULT_CLIENT_ID, "client_secret": DEFAULT_CLIENT_SECRET}
    if grant == "password":
        values |= {"username": DEFAULT_USERNAME, "password": DEFAULT_PASSWORD}
    refs = []
    for key, value in values.items():
        (secrets / f"sf_{key}").write_text(value)
        refs.append(f'      {key}: "file:secrets/sf_{key}"')
    opts = {
        "ca_file": certfile,
        "default_currency": "USD",
        "default_subsidiary": "US-1",
        **(options or {}),
    }
    path = directory / "syncwright.yaml"
    newline = "\n"
    path.write_text(
        f"""\
database:
  url: sqlite:///{directory / "syncwright.db"}
connections:
  {CONNECTION}:
    vendor: salesforce
    base_url: {url}
    credentials:
{newline.join(refs)}
    limits:
      timeout_seconds: 5
{limits}    options: {json.dumps(opts)}
"""
    )
    return path


RuntimeFactory = Callable[..., Runtime]


@dataclass
class World:
    """A Runtime wired to an emulated org."""

    runtime: Runtime
    org: Org

    @property
    def connector(self) -> SalesforceConnector:
        found = self.runtime.connection(CONNECTION)
        assert isinstance(found, SalesforceConnector)
        return found

    def ctx(self, step: str = "salesforce.step") -> StepContext:
        n = next(_SEQ)
        return StepContext(
            workflow_id=f"wf-sf-{n}",
            workflow="test.salesforce",
            step=step,
            attempt=1,
            correlation_id=f"cor-sf-{n}",
            entity_key=f"test:{n}",
            timeout_seconds=5,
            services=self.runtime,
        )

    def normalize(self, event: dict[str, Any], *, correlation_id: str = "cor-1") -> list[Any]:
        return self.connector.normalize(delivery_of(event, correlation_id=correlation_id))

    def normalize_all(self, events: Sequence[dict[str, Any]]) -> list[Any]:
        found: list[Any] = []
        for event in events:
            found.extend(self.normalize(event))
        return found

    def gid(self, entity_type: str, native_id: str) -> str | None:
        return self.runtime.xref.global_id_for(entity_type, CONNECTION, native_id)


def delivery_of(event: dict[str, Any] | str, *, correlation_id: str = "cor-1") -> Delivery:
    """A Delivery for a CDC event, as if it came out of the inbox."""
    text = event if isinstance(event, str) else json.dumps(event)
    replay = event.get("event", {}).get("replayId") if isinstance(event, dict) else None
    return Delivery(
        inbox_id=1,
        connection=CONNECTION,
        vendor_event_id=str(replay if replay is not None else "x"),
        event_type="cdc",
        body=text,
        correlation_id=correlation_id,
        received_at=datetime.now(UTC),
    )


def normalize_pending(runtime: Runtime) -> list[Any]:
    """Normalize every pending inbox row in arrival order (as the dispatcher does)."""
    connector = runtime.connection(CONNECTION)
    out: list[Any] = []
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
        out.extend(connector.normalize(delivery))
        runtime.inbox.mark_dispatched(row.id)
    return out


def header(event: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = event["payload"]["ChangeEventHeader"]
    return found


def seed_catalog(sf: Salesforce, org: Org, prices: dict[str, float]) -> dict[str, tuple[str, str]]:
    """Products with standard price book entries: name -> (Product2 id, PricebookEntry id)."""
    out: dict[str, tuple[str, str]] = {}
    for name, price in prices.items():
        product = sf.Product2.create({"Name": name, "IsActive": True})["id"]
        entry = sf.PricebookEntry.create(
            {
                "Pricebook2Id": org.state.standard_pricebook_id,
                "Product2Id": product,
                "UnitPrice": price,
                "IsActive": True,
            }
        )["id"]
        out[name] = (product, entry)
    return out
