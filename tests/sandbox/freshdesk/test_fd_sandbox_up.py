"""``syncwright sandbox up`` starts the Freshdesk emulator for a ``vendor: freshdesk``
connection and writes a config whose credentials it accepts (in-process: the command's own
process handling is covered by tests/cli/test_sandbox_up.py)."""

from __future__ import annotations

from pathlib import Path

import httpx

from syncwright.config import load_settings
from syncwright.sandbox.up import EMULATED_VENDORS, start_sandbox


def _env(path: Path) -> dict[str, str]:
    pairs = (line.removeprefix("export ").split("=", 1) for line in path.read_text().splitlines())
    return {name: value.strip("'") for name, value in pairs}


def test_sandbox_up_serves_freshdesk(tmp_path: Path) -> None:
    assert "freshdesk" in EMULATED_VENDORS
    config = tmp_path / "syncwright.yaml"
    config.write_text(
        "connections:\n  desk:\n    vendor: freshdesk\n    options: {role: support}\n"
    )
    sandbox = start_sandbox(config, tmp_path / "out" / "sandbox.yaml")
    try:
        ((name, vendor),) = [(c.connection, c.vendor) for c in sandbox.connections]
        assert (name, vendor) == ("desk", "freshdesk")
        env = _env(sandbox.env_path)
        assert set(env) == {"SANDBOX_DESK_API_KEY", "SANDBOX_DESK_WEBHOOK_SECRET"}
        desk = load_settings(sandbox.config_path, environ=env).connections["desk"]
        assert desk.options["role"] == "support"
        key = desk.credentials["api_key"].reveal()
        base = f"{desk.base_url}/api/v2/sla_policies"
        assert httpx.get(base, auth=(key, "X"), trust_env=False, timeout=10).status_code == 200
        assert httpx.get(base, auth=("no", "X"), trust_env=False, timeout=10).status_code == 401
    finally:
        sandbox.stop()
