"""A rule the configured connections cannot run stops the worker before it does any work."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def test_worker_refuses_a_rule_its_connections_cannot_read(tmp_path: Path) -> None:
    config = tmp_path / "syncwright.yaml"
    config.write_text(
        f"""
database: {{url: "sqlite:///{tmp_path / "sw.db"}"}}
connections:
  shop: {{vendor: example, base_url: "http://127.0.0.1:9"}}
  erp: {{vendor: example, base_url: "http://127.0.0.1:9"}}
reconciliation:
  - {{name: shop_vs_erp, check: invoices, schedule: 1h, compare: [shop, erp]}}
"""
    )
    done = subprocess.run(
        [sys.executable, "-m", "syncwright", "worker", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1
    assert "cannot be reconciled" in done.stderr
    assert "reconciliation[shop_vs_erp].compare" in done.stderr


def test_worker_refuses_a_check_a_connection_cannot_read(tmp_path: Path) -> None:
    secret = tmp_path / "token"
    secret.write_text("not-used")
    config = tmp_path / "syncwright.yaml"
    config.write_text(
        f"""
database: {{url: "sqlite:///{tmp_path / "sw.db"}"}}
connections:
  desk:
    vendor: zendesk
    base_url: "http://127.0.0.1:9"
    credentials: {{email: "file:{secret}", api_token: "file:{secret}"}}
  crm:
    vendor: salesforce
    base_url: "http://127.0.0.1:9"
    credentials: {{client_id: "file:{secret}", client_secret: "file:{secret}"}}
reconciliation:
  - {{name: tiers, check: entitlements, schedule: 1h, compare: [crm, desk]}}
"""
    )
    done = subprocess.run(
        [sys.executable, "-m", "syncwright", "worker", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    assert "cannot be reconciled on 'entitlements'" in done.stderr
    assert "reconciliation[tiers].compare: crm reads crm_standing" in done.stderr
