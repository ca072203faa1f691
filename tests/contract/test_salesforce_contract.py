"""The Salesforce connector passes the connector contract. Its intake is polling (CDC replay
or SOQL), so it takes no webhooks; normalization of a mapped change needs the org (a fresh
read) and is covered against the emulator in tests/connectors/salesforce."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from syncwright.connectors._base import Connector, Delivery
from tests.contract.conftest import delivery, runtime_from
from tests.contract.connector_contract import ConnectorContract

SECRET = "sf-client-secret-contract-value"


def _cdc(entity: str, origin: str, replay: int) -> bytes:
    header = {
        "entityName": entity,
        "recordIds": ["0015e00000AbCdEAAV"],
        "changeType": "UPDATE",
        "changeOrigin": origin,
        "transactionKey": "t1",
        "sequenceNumber": 1,
        "commitTimestamp": 1767225600000,
        "commitNumber": 1,
        "commitUser": "0055e000001AbCdAAK",
        "changedFields": ["ACV__c"],
        "nulledFields": [],
        "diffFields": [],
    }
    return json.dumps(
        {"schema": "s", "payload": {"ChangeEventHeader": header}, "event": {"replayId": replay}}
    ).encode()


class TestSalesforceConnector(ConnectorContract):
    takes_webhooks = False
    required_actions = frozenset({"read_account", "read_deal", "update_account_billing"})

    @pytest.fixture
    def connector(self, tmp_path: Path) -> Iterator[Connector]:
        runtime = runtime_from(
            tmp_path,
            "  salesforce:\n    vendor: salesforce\n    base_url: https://127.0.0.1:9\n"
            "    credentials: {client_id: 'file:secrets/ci', client_secret: 'file:secrets/cs'}\n"
            "    options: {default_currency: USD}\n",
            {"cs": SECRET, "ci": "sf-client"},
        )
        yield runtime.connection("salesforce")
        runtime.close()

    @pytest.fixture
    def secrets(self) -> list[str]:
        return [SECRET]

    @pytest.fixture
    def ignored_delivery(self) -> Delivery:
        # Our own write coming back (echo): acknowledged, never synced again.
        return delivery(
            "salesforce",
            "1",
            "Account.UPDATE",
            _cdc("Account", "com/salesforce/api/rest/59.0;client=syncwright", 1),
        )

    @pytest.fixture
    def malformed_delivery(self) -> Delivery:
        return delivery("salesforce", "2", "Account.UPDATE", b'{"payload": {}}')
