"""The Stripe connector passes the connector contract."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from syncwright.connectors._base import Connector, Delivery
from syncwright.connectors.stripe.signature import sign_stripe_payload
from tests.contract.conftest import delivery, runtime_from
from tests.contract.connector_contract import ConnectorContract

SECRET = "whsec_contract_stripe_secret"
API_KEY = "sk_test_contract_api_key_secret"


def _event(event_id: str, event_type: str, obj: dict[str, object]) -> bytes:
    return json.dumps(
        {
            "id": event_id,
            "object": "event",
            "type": event_type,
            "created": 1767225600,
            "api_version": "2026-10-28.endive",
            "livemode": False,
            "pending_webhooks": 1,
            "data": {"object": obj},
        }
    ).encode()


CUSTOMER = {
    "id": "cus_contract1",
    "object": "customer",
    "created": 1767225600,
    "name": "Contract Customer Ltd",
    "email": "billing@contract.example",
    "currency": "usd",
    "livemode": False,
    "metadata": {"subsidiary": "Parent Company"},
}


class TestStripeConnector(ConnectorContract):
    required_actions = frozenset({"read_account"})

    @pytest.fixture
    def connector(self, tmp_path: Path) -> Iterator[Connector]:
        runtime = runtime_from(
            tmp_path,
            "  stripe:\n    vendor: stripe\n    base_url: http://127.0.0.1:9\n"
            "    credentials: {api_key: 'file:secrets/key'}\n"
            "    webhook: {secrets: ['file:secrets/hook']}\n",
            {"hook": SECRET, "key": API_KEY},
        )
        yield runtime.connection("stripe")
        runtime.close()

    @pytest.fixture
    def secrets(self) -> list[str]:
        return [SECRET, API_KEY]

    @pytest.fixture
    def signed_webhook(self) -> tuple[bytes, dict[str, str]]:
        body = _event("evt_sig", "customer.created", CUSTOMER)
        return body, {"stripe-signature": sign_stripe_payload(body, SECRET, int(time.time()))}

    @pytest.fixture
    def mapped_delivery(self) -> Delivery:
        return delivery(
            "stripe", "evt_c", "customer.created", _event("evt_c", "customer.created", CUSTOMER)
        )

    @pytest.fixture
    def ignored_delivery(self) -> Delivery:
        body = _event("evt_i", "charge.succeeded", {"id": "ch_1", "object": "charge"})
        return delivery("stripe", "evt_i", "charge.succeeded", body)

    @pytest.fixture
    def malformed_delivery(self) -> Delivery:
        body = _event("evt_m", "customer.created", {"object": "customer"})
        return delivery("stripe", "evt_m", "customer.created", body)
