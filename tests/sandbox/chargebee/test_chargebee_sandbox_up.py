"""``syncwright sandbox up`` starts the Chargebee emulator for a ``vendor: chargebee``
connection; the written config reaches it with the connector, and its webhook secret is the
basic-auth ``user:password`` of the webhook endpoint registered at the intake."""

from __future__ import annotations

import shlex
from pathlib import Path

import httpx

from syncwright.config import load_settings
from syncwright.runtime import Runtime
from syncwright.sandbox.up import start_sandbox


def test_sandbox_up_emulates_a_chargebee_connection(tmp_path: Path) -> None:
    config = tmp_path / "syncwright.yaml"
    config.write_text(
        f"database: {{url: 'sqlite:///{tmp_path / 'sw.db'}'}}\n"
        "connections:\n"
        "  billing:\n"
        "    vendor: chargebee\n"
        "    base_url: https://acme.chargebee.com\n"
        '    credentials: {api_key: "${CHARGEBEE_API_KEY}"}\n'
        "    options: {role: billing}\n"
    )
    sandbox = start_sandbox(config, tmp_path / "out" / "sandbox.yaml")
    try:
        [running] = sandbox.connections
        assert running.vendor == "chargebee" and running.url.startswith("http://127.0.0.1:")
        env = {}
        for line in sandbox.env_path.read_text().splitlines():
            name, _, value = line.removeprefix("export ").partition("=")
            env[name] = shlex.split(value)[0]
        user, sep, password = env["SANDBOX_BILLING_WEBHOOK_SECRET"].partition(":")
        assert sep and user and password
        runtime = Runtime(load_settings(sandbox.config_path, environ=env))
        try:
            connector = runtime.connection("billing")
            assert connector.poll("events", None).events == []  # authenticated, empty site
            assert connector.webhook_verifier() is not None
        finally:
            runtime.close()
        # Its webhooks go to the intake, with the secret as basic auth (Chargebee's own API).
        listed = httpx.get(
            f"{running.url}/api/v2/webhook_endpoints",
            auth=(env["SANDBOX_BILLING_API_KEY"], ""),
            trust_env=False,
        ).json()["list"]
        [endpoint] = [entry["webhook_endpoint"] for entry in listed]
        assert endpoint["url"].endswith("/hooks/billing")
        assert endpoint["basic_auth_username"] == user
        assert "basic_auth_password" not in endpoint
    finally:
        sandbox.stop()
