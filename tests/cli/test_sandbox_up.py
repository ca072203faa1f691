"""``syncwright sandbox up`` as a user runs it: a separate process that starts the emulators a
config names, writes a config pointed at them that ``config validate`` accepts, serves until
interrupted, and never prints a credential; with ``serve`` beside it, a change made in the Stripe
or Zendesk emulator ends as an accepted, signature-verified delivery in syncwright's inbox
(``sandbox up`` registers a webhook endpoint in each, pointed at the config's intake, and writes
the secret each signs with to the env file)."""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from syncwright.config import load_settings
from syncwright.sandbox.up import EMULATED_VENDORS

CONFIG = """\
connections:
  shop:
    vendor: example
    credentials: {token: "${PROD_ERP_TOKEN}"}
  billing:
    vendor: stripe
    credentials: {api_key: "${STRIPE_API_KEY}"}
    options: {role: billing}
  erp:
    vendor: netsuite
    options: {role: erp, subsidiaries: {Parent Company: 1}}
  support:
    vendor: zendesk
"""


def _env_file(path: Path) -> dict[str, str]:
    env: dict[str, str] = {}
    for line in path.read_text().splitlines():
        name, _, value = line.removeprefix("export ").partition("=")
        env[name] = shlex.split(value)[0]
    return env


# What the processes here run with: no CA bundle override (the emulators are plain http).
CLEAN_ENV = {k: v for k, v in os.environ.items() if k != "REQUESTS_CA_BUNDLE"}


@contextmanager
def sandbox_up(config: Path, out: Path) -> Iterator[tuple[subprocess.Popen[str], dict[str, Any]]]:
    """``syncwright sandbox up`` as a process, once its emulators are up: (process, report)."""
    command = ["sandbox", "up", "--config", str(config), "--out", str(out), "--json"]
    process = subprocess.Popen(
        [sys.executable, "-m", "syncwright", *command],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=CLEAN_ENV,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()  # blocks until the emulators are up
        assert first, process.stderr.read() if process.stderr else "no output"
        yield process, json.loads(first)
    finally:
        _stop(process)


def _stop(process: subprocess.Popen[Any]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], dict[str, Any]]]:
    config = tmp_path / "syncwright.yaml"
    config.write_text(CONFIG)
    with sandbox_up(config, tmp_path / "out" / "sandbox.yaml") as started:
        yield started


def test_sandbox_up_serves_emulators_and_a_config_that_validates(
    sandbox: tuple[subprocess.Popen[str], dict[str, Any]], tmp_path: Path
) -> None:
    process, report = sandbox
    assert report["ok"] is True
    emulators = report["emulators"]
    assert isinstance(emulators, dict)
    assert {name: e["vendor"] for name, e in emulators.items()} == {
        "shop": "example",
        "billing": "stripe",
        "erp": "netsuite",
        "support": "zendesk",
    }
    out = Path(str(report["config"]))
    env_path = Path(str(report["env_file"]))
    assert out == tmp_path / "out" / "sandbox.yaml" and env_path == out.with_suffix(".env")
    assert env_path.stat().st_mode & 0o077 == 0  # credentials readable by the owner only
    env = _env_file(env_path)

    # The command a user runs next accepts the written config with the env file's values.
    validate = subprocess.run(
        [sys.executable, "-m", "syncwright", "config", "validate", "--config", str(out), "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **env},
        check=False,
    )
    assert validate.returncode == 0, validate.stdout + validate.stderr
    settings = load_settings(out, environ=env)
    shop = settings.connections["shop"]
    assert shop.base_url == emulators["shop"]["url"]
    assert settings.connections["erp"].options["account"] == "TSTDRV1"
    assert settings.connections["billing"].options["role"] == "billing"
    # Credentials are references in the file; the values live in the env file only.
    text = out.read_text()
    assert "${SANDBOX_SHOP_TOKEN}" in text and "${SANDBOX_BILLING_WEBHOOK_SECRET}" in text
    assert all(value not in text for value in env.values())

    # The emulators answer with the written credentials, and refuse others.
    token = shop.credentials["token"].reveal()
    with httpx.Client(base_url=str(shop.base_url), trust_env=False, timeout=30) as http:
        assert (
            http.get(
                "/api/customers/nobody", headers={"Authorization": f"Bearer {token}"}
            ).status_code
            == 404
        )
        assert (
            http.get("/api/customers/nobody", headers={"Authorization": "Bearer no"}).status_code
            == 401
        )
    billing = settings.connections["billing"]
    answer = httpx.get(
        f"{billing.base_url}/v1/customers",
        headers={"Authorization": f"Bearer {billing.credentials['api_key'].reveal()}"},
        trust_env=False,
        timeout=30,
    )
    assert answer.status_code == 200 and answer.json()["object"] == "list"

    # Ctrl-C stops it cleanly, and nothing it printed holds a credential.
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=60) == 0
    printed = (process.stdout.read() if process.stdout else "") + (
        process.stderr.read() if process.stderr else ""
    )
    assert all(value not in printed + json.dumps(report) for value in env.values())
    with pytest.raises(httpx.TransportError):
        httpx.get(str(shop.base_url), trust_env=False, timeout=5)


def test_sandbox_up_without_connections_says_what_to_add(tmp_path: Path) -> None:
    config = tmp_path / "syncwright.yaml"
    config.write_text("database: {url: 'sqlite:///x.db'}\n")
    done = subprocess.run(
        [sys.executable, "-m", "syncwright", "sandbox", "up", "--config", str(config), "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=tmp_path,
    )
    assert done.returncode == 1
    result = json.loads(done.stdout)
    assert "names no connections to emulate" in result["error"]
    assert ", ".join(EMULATED_VENDORS) in result["problems"][0]
