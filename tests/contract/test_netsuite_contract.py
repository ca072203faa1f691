"""The NetSuite connector (outbound only) passes the connector contract."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from syncwright.connectors._base import Connector
from tests.contract.conftest import runtime_from
from tests.contract.connector_contract import ConnectorContract

SECRETS = {
    "ck": "consumer-key-contract-secret",
    "cs": "consumer-secret-contract-secret",
    "ti": "token-id-contract-secret",
    "ts": "token-secret-contract-secret",
}


class TestNetSuiteConnector(ConnectorContract):
    takes_webhooks = False
    required_actions = frozenset(
        {
            "upsert_account",
            "upsert_sales_order",
            "close_sales_order",
            "upsert_invoice",
            "apply_payment",
            "mark_dunning",
            "upsert_credit_memo",
        }
    )

    @pytest.fixture
    def connector(self, tmp_path: Path) -> Iterator[Connector]:
        runtime = runtime_from(
            tmp_path,
            "  netsuite:\n    vendor: netsuite\n    base_url: http://127.0.0.1:9\n"
            "    credentials: {consumer_key: 'file:secrets/ck', consumer_secret: "
            "'file:secrets/cs', token_id: 'file:secrets/ti', token_secret: 'file:secrets/ts'}\n"
            "    options: {account: TSTDRV1, role: erp, subsidiaries: {Parent Company: 1}, "
            "currencies: {USD: 1}, default_item: 100}\n",
            SECRETS,
        )
        yield runtime.connection("netsuite")
        runtime.close()

    @pytest.fixture
    def secrets(self) -> list[str]:
        return list(SECRETS.values())
