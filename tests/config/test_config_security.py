"""Config checks that keep a deployment from being open by accident: plain-http vendor URLs,
listener addresses, trusted host names."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from syncwright.config import ConnectionSettings, ServerSettings, is_loopback_host


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.8.9.10", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("LOCALHOST", True),
        ("emulator.localhost", True),
        ("0.0.0.0", False),
        ("::", False),
        ("10.0.0.1", False),
        ("api.stripe.com", False),
        ("localhost.evil.com", False),
    ],
)
def test_loopback_hosts(host: str, loopback: bool) -> None:
    assert is_loopback_host(host) is loopback


def test_plain_http_base_url_only_for_loopback() -> None:
    for url in ("http://127.0.0.1:8080", "http://localhost:9/api", "https://api.stripe.com"):
        assert ConnectionSettings(vendor="stripe", base_url=url).base_url is not None
    for url in ("http://api.stripe.com", "http://10.0.0.5:8080", "http://0.0.0.0:1"):
        with pytest.raises(ValidationError, match="must use https://"):
            ConnectionSettings(vendor="stripe", base_url=url)


@pytest.mark.parametrize(
    ("server", "message"),
    [
        ({"port": 8787, "hooks": {"host": "0.0.0.0", "port": 8787}}, "must differ from port"),
        ({"hooks": {"host": "0.0.0.0"}}, "port"),
        ({"trusted_hosts": ["https://api.example.com"]}, "trusted_hosts"),
        ({"trusted_hosts": ["api.example.com:443"]}, "trusted_hosts"),
        ({"docs_token_required": "yes"}, "docs_token_required"),
    ],
)
def test_bad_server_settings(server: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        ServerSettings.model_validate(server)


def test_good_server_settings() -> None:
    server = ServerSettings.model_validate(
        {
            "hooks": {"host": "0.0.0.0", "port": 8788},
            "trusted_hosts": ["API.example.com", "*.example.com", "127.0.0.1", "[::1]"],
            "docs_enabled": False,
        }
    )
    assert server.hooks is not None and server.hooks.port == 8788
    assert server.trusted_hosts == ["api.example.com", "*.example.com", "127.0.0.1", "[::1]"]
