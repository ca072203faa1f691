"""``connections.<name>.limits`` reach every vendor client, and one limit per connection holds
even when steps on many threads build the client at the same moment."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from syncwright.config import ConnectionSettings, Secret
from syncwright.connectors._base import VendorHttpClient, connector_class

CREDENTIALS = {
    "stripe": {"api_key": "sk_test_limits"},
    "salesforce": {"client_id": "id", "client_secret": "secret"},
    "zendesk": {"email": "agent@example.com", "api_token": "token"},
    "example": {"token": "token"},
}


def _connection(vendor: str) -> Any:
    settings = ConnectionSettings.model_validate(
        {
            "vendor": vendor,
            "base_url": "http://127.0.0.1:9",
            "limits": {"requests_per_second": 7.0, "concurrency": 3, "timeout_seconds": 4.5},
        }
    )
    secrets = {k: Secret(v) for k, v in CREDENTIALS[vendor].items()}
    settings = settings.model_copy(update={"credentials": secrets})
    return connector_class(vendor)(f"{vendor}-limits", settings)


@pytest.mark.parametrize("vendor", sorted(CREDENTIALS))
def test_clients_built_at_once_share_the_configured_limits(vendor: str) -> None:
    connector = _connection(vendor)
    start = threading.Barrier(8)
    clients: list[VendorHttpClient] = []
    lock = threading.Lock()

    def build() -> None:
        start.wait()
        client = connector.client
        with lock:
            clients.append(client)

    threads = [threading.Thread(target=build) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    try:
        assert len(clients) == 8
        limiters = {id(c._limiter) for c in clients}
        rates = {id(c._rate) for c in clients}
        assert len(limiters) == 1 and len(rates) == 1, "each racing thread got its own limit"
        client = clients[0]
        assert client._limiter is not None and client._limiter.limit == 3
        assert client._rate is not None and client._rate.per_second == 7.0
        assert client.timeout == 4.5
    finally:
        connector.close()
