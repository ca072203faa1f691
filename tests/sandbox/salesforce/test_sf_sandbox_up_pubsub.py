"""``syncwright sandbox up`` serves the Salesforce emulator's Pub/Sub API beside its REST API
and points the connection's ``cdc`` stream at it (in-process, as the Freshdesk test does)."""

from __future__ import annotations

import json
from pathlib import Path

from syncwright.config import load_settings
from syncwright.runtime import Runtime
from syncwright.sandbox.up import start_sandbox


def _env(path: Path) -> dict[str, str]:
    pairs = (line.removeprefix("export ").split("=", 1) for line in path.read_text().splitlines())
    return {name: value.strip("'") for name, value in pairs}


def test_sandbox_up_points_cdc_at_the_pubsub_api(tmp_path: Path) -> None:
    config = tmp_path / "syncwright.yaml"
    config.write_text(
        f"database:\n  url: sqlite:///{tmp_path / 'sw.db'}\n"
        "connections:\n  crm:\n    vendor: salesforce\n"
        "    options: {default_currency: USD, default_subsidiary: US-1}\n"
    )
    sandbox = start_sandbox(config, tmp_path / "out" / "sandbox.yaml")
    try:
        settings = load_settings(sandbox.config_path, environ=_env(sandbox.env_path))
        endpoint = settings.connections["crm"].options["pubsub_endpoint"]
        assert endpoint.startswith("127.0.0.1:")
        runtime = Runtime(settings)
        try:
            connector = runtime.connection("crm")
            # An empty org: nothing yet, but the position of "now" is kept as the cursor.
            first = connector.poll("cdc", None)
            assert first.events == [] and first.cursor is not None
            connector.client.upsert("Account", "ERP_Id__c", "E-1", {"Name": "Acme"})
            batch = connector.poll("cdc", first.cursor)
            ((event,),) = [batch.events]
            assert json.loads(event.body)["payload"]["Name"] == "Acme"
        finally:
            runtime.close()
    finally:
        sandbox.stop()
