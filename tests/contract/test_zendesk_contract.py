"""The Zendesk connector passes the connector contract. It writes entitlements and verifies
Zendesk's webhook signatures; it has no inbound mapping yet, so every delivery is ignored."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from syncwright.connectors._base import Connector, Delivery
from syncwright.connectors.zendesk.signature import sign_zendesk_payload
from tests.contract.conftest import delivery, runtime_from
from tests.contract.connector_contract import ConnectorContract

HOOK_SECRET = "zendesk-webhook-signing-secret-value"
TOKEN = "zendesk-api-token-contract-value"


class TestZendeskConnector(ConnectorContract):
    required_actions = frozenset({"upsert_entitlement"})

    @pytest.fixture
    def connector(self, tmp_path: Path) -> Iterator[Connector]:
        runtime = runtime_from(
            tmp_path,
            "  zendesk:\n    vendor: zendesk\n    base_url: http://127.0.0.1:9\n"
            "    credentials: {email: 'file:secrets/email', api_token: 'file:secrets/token'}\n"
            "    webhook: {secrets: ['file:secrets/hook']}\n",
            {"hook": HOOK_SECRET, "token": TOKEN, "email": "agent@example.com"},
        )
        yield runtime.connection("zendesk")
        runtime.close()

    @pytest.fixture
    def secrets(self) -> list[str]:
        return [HOOK_SECRET, TOKEN]

    @pytest.fixture
    def signed_webhook(self) -> tuple[bytes, dict[str, str]]:
        body = b'{"type": "zen:event-type:organization.created", "id": "01"}'
        stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")  # Zendesk sends ISO-8601
        return body, {
            "x-zendesk-webhook-signature": sign_zendesk_payload(body, HOOK_SECRET, stamp),
            "x-zendesk-webhook-signature-timestamp": stamp,
        }

    @pytest.fixture
    def ignored_delivery(self) -> Delivery:
        body = b'{"type": "zen:event-type:organization.created", "id": "01"}'
        return delivery("zendesk", "01", "zen:event-type:organization.created", body)
