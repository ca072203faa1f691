"""The example connector class: what it is, declared as class attributes.

Everything here comes from the public kit (``syncwright.connectors``); copy this folder to start
a connector for a new vendor, then follow README.md in it.
"""

from __future__ import annotations

import json
import threading
from typing import Any

from syncwright.connectors import (
    Action,
    Connector,
    Delivery,
    PollBatch,
    PolledEvent,
    Stream,
    WebhookVerifier,
)
from syncwright.connectors.example.client import DOCUMENTED_ERRORS, ExampleErpClient
from syncwright.connectors.example.inbound import normalize
from syncwright.connectors.example.options import ExampleOptions
from syncwright.connectors.example.outbound import delete_account, probe_account, upsert_account
from syncwright.connectors.example.signature import ExampleSignatureVerifier
from syncwright.errors import ConfigError

__all__ = ["ExampleConnector"]


class ExampleConnector(Connector):
    vendor = "example"
    event_id_field = "id"
    event_type_field = "type"
    takes_webhooks = True  # X-Example-Signature, see signature.py
    maps_inbound = True  # customer.updated -> syncwright.account.upserted.v1
    streams = (
        # The ERP's change events, oldest first; the cursor is the last event id read.
        Stream("events", "/api/events", primary_key="id", cursor_field="id"),
    )
    # Declared, but polled only when a connection asks (options.poll_streams): the shop pushes.
    poll_streams = ()
    actions = {
        "upsert_account": Action(upsert_account, probe=probe_account, compensate=delete_account),
    }
    options_model = ExampleOptions
    documented_errors = DOCUMENTED_ERRORS

    def __init__(self, name: str, settings: Any) -> None:
        super().__init__(name, settings)
        self.options: ExampleOptions = self.parse_options(name, settings.options)
        if self.options.poll_streams:
            # The instance shadows the class default: this connection polls what it chose.
            vars(self)["poll_streams"] = tuple(self.options.poll_streams)
        self._client: ExampleErpClient | None = None
        # Steps run on many threads: one client per connection, so its limits are shared.
        self._lock = threading.Lock()

    def webhook_verifier(self) -> WebhookVerifier | None:
        secrets = [s.reveal() for s in self.settings.webhook.secrets]
        if not secrets:
            return None
        return ExampleSignatureVerifier(secrets, self.settings.webhook.tolerance_seconds)

    @property
    def client(self) -> ExampleErpClient:
        with self._lock:
            if self._client is None:
                self._client = self._build_client()
            return self._client

    def _build_client(self) -> ExampleErpClient:
        token = self.settings.credentials.get("token")
        if token is None or not token.reveal().strip():
            raise ConfigError(
                f"connection {self.name!r} (example) has no credentials.token",
                code="example.no_token",
                problems=[
                    f"connections.{self.name}.credentials.token: set it to "
                    "${EXAMPLE_TOKEN} or file:/path/to/token"
                ],
            )
        limits = self.settings.limits
        limiter, rate = self.limiters()
        return ExampleErpClient(
            str(self.settings.base_url),
            token.reveal(),
            timeout=limits.timeout_seconds,
            limiter=limiter,
            rate=rate,
        )

    def normalize(self, delivery: Delivery) -> list[Any]:
        return normalize(delivery, self.services.xref)

    def poll(self, stream: str, cursor: str | None) -> PollBatch:
        """The ERP's change events after the event id ``cursor`` (all of them without one)."""
        self.stream(stream)  # a stream that is not declared is a ConfigError naming them
        events, more = self.client.list_events(
            cursor, limit=self.options.page_size, timeout=self.settings.limits.timeout_seconds
        )
        return PollBatch(
            events=[
                PolledEvent(str(e["id"]), str(e.get("type") or "unknown"), json.dumps(e))
                for e in events
            ],
            cursor=str(events[-1]["id"]) if events else None,
            has_more=more,
        )

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None
