"""The example connector class: what it is, declared as class attributes."""

from __future__ import annotations

from typing import Any

from syncwright.connectors import (
    Action,
    Connector,
    Delivery,
    WebhookVerifier,
    register_connector,
)
from syncwright.connectors.example.client import ExampleErpClient
from syncwright.connectors.example.inbound import normalize
from syncwright.connectors.example.outbound import delete_account, probe_account, upsert_account
from syncwright.connectors.example.signature import ExampleSignatureVerifier


@register_connector
class ExampleConnector(Connector):
    vendor = "example"
    event_id_field = "id"
    event_type_field = "type"
    actions = {
        "upsert_account": Action(upsert_account, probe=probe_account, compensate=delete_account),
    }

    def __init__(self, name: str, settings: Any) -> None:
        super().__init__(name, settings)
        self._client: ExampleErpClient | None = None

    def webhook_verifier(self) -> WebhookVerifier | None:
        secrets = [s.reveal() for s in self.settings.webhook.secrets]
        if not secrets:
            return None
        return ExampleSignatureVerifier(secrets, self.settings.webhook.tolerance_seconds)

    @property
    def client(self) -> ExampleErpClient:
        if self._client is None:
            token = self.settings.credentials.get("token")
            self._client = ExampleErpClient(
                str(self.settings.base_url),
                token.reveal() if token is not None else "",
                timeout=self.settings.limits.timeout_seconds,
            )
        return self._client

    def normalize(self, delivery: Delivery) -> list[Any]:
        return normalize(delivery, self.services.xref)

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
