"""The command line as a user runs it: separate processes, --json output, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests._support import ERP_TOKEN, SHOP_SECRET, write_config


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "syncwright", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=cwd,
    )


def test_db_upgrade_is_repeatable(tmp_path: Path, sqlite_url: str) -> None:
    config = write_config(tmp_path, db_url=sqlite_url, erp_url="http://127.0.0.1:9")
    first = run("db", "upgrade", "--config", str(config), "--json")
    again = run("db", "upgrade", "--config", str(config), "--json")
    assert first.returncode == 0 and again.returncode == 0, first.stderr
    expected = {"ok": True, "revision": "0013_budgets"}
    assert json.loads(first.stdout) == json.loads(again.stdout) == expected


def test_trace_of_unknown_correlation_exits_1(tmp_path: Path, sqlite_url: str) -> None:
    config = write_config(tmp_path, db_url=sqlite_url, erp_url="http://127.0.0.1:9")
    done = run("trace", "cor_missing", "--config", str(config), "--json")
    assert done.returncode == 1
    assert "cor_missing" in json.loads(done.stdout)["error"]


def test_invalid_config_lists_every_problem_and_no_secret(tmp_path: Path) -> None:
    config = tmp_path / "syncwright.yaml"
    config.write_text(
        "database: {url: 'mysql://x'}\n"
        "connections:\n"
        "  shop: {vendor: nope, webhook: {secrets: ['" + SHOP_SECRET + "']}}\n"
    )
    done = run("exceptions", "list", "--config", str(config), "--json")
    assert done.returncode == 1
    problems = json.loads(done.stdout)["problems"]
    paths = sorted(p.split(":")[0] for p in problems)
    assert any(p.startswith("database.url") for p in paths)
    assert any(p.startswith("connections.shop.vendor") for p in paths)
    assert any(p.startswith("connections.shop.webhook.secrets") for p in paths)
    assert SHOP_SECRET not in done.stdout + done.stderr


def test_config_validate_masks_secrets(tmp_path: Path, sqlite_url: str) -> None:
    config = write_config(tmp_path, db_url=sqlite_url, erp_url="http://127.0.0.1:9")
    done = run("config", "validate", "--config", str(config), "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads(done.stdout)["ok"] is True
    assert SHOP_SECRET not in done.stdout and ERP_TOKEN not in done.stdout


def test_help_lists_the_public_commands() -> None:
    done = run("--help")
    assert done.returncode == 0
    for command in ("serve", "worker", "trace", "exceptions", "db", "config", "demo"):
        assert command in done.stdout
