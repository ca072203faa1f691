"""The example connector (the template) passes the connector contract."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from syncwright.connectors._base import Connector, Delivery
from syncwright.connectors.example.signature import HEADER, sign
from tests.contract.conftest import delivery, runtime_from
from tests.contract.connector_contract import ConnectorContract

SECRET = "whsec_contract_example_secret"
TOKEN = "erp-contract-token-secret"


class TestExampleConnector(ConnectorContract):
    required_actions = frozenset({"upsert_account"})

    @pytest.fixture
    def connector(self, tmp_path: Path) -> Iterator[Connector]:
        runtime = runtime_from(
            tmp_path,
            "  shop:\n    vendor: example\n    base_url: http://127.0.0.1:9\n"
            "    credentials: {token: 'file:secrets/token'}\n"
            "    webhook: {secrets: ['file:secrets/hook']}\n",
            {"hook": SECRET, "token": TOKEN},
        )
        yield runtime.connection("shop")
        runtime.close()

    @pytest.fixture
    def secrets(self) -> list[str]:
        return [SECRET, TOKEN]

    @pytest.fixture
    def signed_webhook(self) -> tuple[bytes, dict[str, str]]:
        body = b'{"id": "evt_1", "type": "customer.updated"}'
        return body, {HEADER: sign(body, SECRET)}

    @pytest.fixture
    def mapped_delivery(self) -> Delivery:
        body = {
            "id": "evt_c1",
            "type": "customer.updated",
            "data": {"customer": {"id": "c1", "name": "Ada Ltd", "currency": "USD"}},
        }
        return delivery("shop", "evt_c1", "customer.updated", json.dumps(body).encode())

    @pytest.fixture
    def ignored_delivery(self) -> Delivery:
        return delivery(
            "shop", "evt_o1", "order.created", b'{"id": "evt_o1", "type": "order.created"}'
        )

    @pytest.fixture
    def malformed_delivery(self) -> Delivery:
        body = b'{"id": "evt_m1", "type": "customer.updated", "data": {"customer": {}}}'
        return delivery("shop", "evt_m1", "customer.updated", body)
