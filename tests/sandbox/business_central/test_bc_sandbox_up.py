"""``syncwright sandbox up`` for a config naming a Business Central connection: the emulator
starts with TLS, and the written config's connector gets a token from it and reads the company."""

from __future__ import annotations

import shlex
from pathlib import Path

from syncwright.config import load_settings
from syncwright.connectors.business_central.connector import BusinessCentralConnector
from syncwright.sandbox.up import start_sandbox


def test_sandbox_up_points_a_business_central_connection_at_its_emulator(tmp_path: Path) -> None:
    config = tmp_path / "syncwright.yaml"
    config.write_text(
        "connections:\n  erp:\n    vendor: business_central\n"
        "    options: {role: erp, tenant: fabrikam.onmicrosoft.com, "
        "company_id: 00000000-0000-0000-0000-000000000000}\n"
    )
    sandbox = start_sandbox(config, tmp_path / "out" / "sandbox.yaml")
    try:
        [running] = sandbox.connections
        assert running.vendor == "business_central" and running.url.startswith("https://")
        env = {}
        for line in sandbox.env_path.read_text().splitlines():
            name, _, value = line.removeprefix("export ").partition("=")
            env[name] = shlex.split(value)[0]
        assert set(env) == {
            "SANDBOX_ERP_CLIENT_ID",
            "SANDBOX_ERP_CLIENT_SECRET",
            "SANDBOX_ERP_WEBHOOK_SECRET",
        }
        settings = load_settings(sandbox.config_path, environ=env)
        erp = settings.connections["erp"]
        assert erp.options["tenant"] == "fabrikam.onmicrosoft.com"
        assert erp.options["login_url"] == running.url
        connector = BusinessCentralConnector("erp", erp)
        try:
            assert [c["name"] for c in connector.client.companies()] == ["CRONUS UK Ltd."]
        finally:
            connector.close()
    finally:
        sandbox.stop()
