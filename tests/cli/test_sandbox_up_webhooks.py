"""``syncwright sandbox up`` + ``syncwright serve`` + a change in an emulator ends as an
accepted, signature-verified delivery in syncwright's inbox -- all as separate processes, as a
user runs them. ``sandbox up`` registers a webhook endpoint in the Stripe and Zendesk emulators
pointed at the config's intake, and writes the secret each signs with to the env file."""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from syncwright.sandbox._server import free_port
from tests._support import wait_until


def _env_file(path: Path) -> dict[str, str]:
    env: dict[str, str] = {}
    for line in path.read_text().splitlines():
        name, _, value = line.removeprefix("export ").partition("=")
        env[name] = shlex.split(value)[0]
    return env


def _stop(process: subprocess.Popen[Any]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture
def world(tmp_path: Path) -> Iterator[dict[str, Any]]:
    port = free_port()
    database = tmp_path / "sw.db"
    config = tmp_path / "syncwright.yaml"
    config.write_text(
        f"""\
database: {{url: "sqlite:///{database}"}}
server: {{host: 127.0.0.1, port: {port}}}
connections:
  billing: {{vendor: stripe, options: {{role: billing}}}}
  support: {{vendor: zendesk}}
"""
    )
    clean = {k: v for k, v in os.environ.items() if k != "REQUESTS_CA_BUNDLE"}
    out = tmp_path / "out" / "sandbox.yaml"
    command = ["sandbox", "up", "--config", str(config), "--out", str(out), "--json"]
    sandbox = subprocess.Popen(
        [sys.executable, "-m", "syncwright", *command],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=clean,
    )
    serve: subprocess.Popen[bytes] | None = None
    try:
        assert sandbox.stdout is not None
        first = sandbox.stdout.readline()  # blocks until the emulators are up
        assert first, sandbox.stderr.read() if sandbox.stderr else "no output"
        report = json.loads(first)
        env = _env_file(Path(report["env_file"]))
        serve = subprocess.Popen(
            [sys.executable, "-m", "syncwright", "serve", "--config", str(out)],
            stdout=(tmp_path / "serve.log").open("ab"),
            stderr=subprocess.STDOUT,
            env={**clean, **env},
        )
        wait_until(lambda: _healthy(port), 90, "syncwright serve")
        yield {"report": report, "env": env, "database": database, "port": port}
    finally:
        if serve is not None:
            _stop(serve)
        _stop(sandbox)


def _healthy(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200
    except httpx.TransportError:
        return False


def _inbox(database: Path) -> list[tuple[str, str, str]]:
    engine = sa.create_engine(f"sqlite:///{database}")
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT connection, event_type, origin FROM sw_inbox"))
            return sorted((str(r[0]), str(r[1]), str(r[2])) for r in rows)
    finally:
        engine.dispose()


def test_emulator_events_arrive_signed_and_accepted(world: dict[str, Any]) -> None:
    emulators, env, port = world["report"]["emulators"], world["env"], world["port"]
    assert emulators["billing"]["webhook"] == f"http://127.0.0.1:{port}/hooks/billing"
    assert emulators["support"]["webhook"] == f"http://127.0.0.1:{port}/hooks/support"
    stripe_url, zendesk_url = emulators["billing"]["url"], emulators["support"]["url"]

    # A change in each system, made through its own API as a user's tools would.
    made = httpx.post(
        f"{stripe_url}/v1/customers",
        data={"name": "Acme"},
        auth=(env["SANDBOX_BILLING_API_KEY"], ""),
        trust_env=False,
        timeout=30,
    )
    assert made.status_code == 200, made.text
    org = httpx.post(
        f"{zendesk_url}/api/v2/organizations.json",
        json={"organization": {"name": "Acme"}},
        auth=(f"{env['SANDBOX_SUPPORT_EMAIL']}/token", env["SANDBOX_SUPPORT_API_TOKEN"]),
        trust_env=False,
        timeout=30,
    )
    assert org.status_code == 201, org.text

    # Both deliveries pass signature verification and land in the inbox, once each.
    expected = [
        ("billing", "customer.created", "webhook"),
        ("support", "zen:event-type:organization.created", "webhook"),
    ]
    wait_until(lambda: _inbox(world["database"]) == expected, 60, "both deliveries in the inbox")
    deliveries = httpx.get(
        f"{stripe_url}/_sandbox/webhooks/deliveries", trust_env=False, timeout=30
    ).json()["data"]
    assert [(d["event_type"], d["status_code"]) for d in deliveries] == [("customer.created", 200)]

    # A delivery signed with any other secret is refused: the match above is no accident.
    forged = httpx.post(
        f"http://127.0.0.1:{port}/hooks/billing",
        content=b'{"id": "evt_forged", "type": "customer.created"}',
        headers={"Stripe-Signature": "t=1,v1=" + "0" * 64, "Content-Type": "application/json"},
        timeout=30,
    )
    assert forged.status_code == 401
    assert _inbox(world["database"]) == expected
