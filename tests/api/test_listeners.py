"""``syncwright serve`` as a process: it refuses an exposed API without tokens, serves the
webhook intake on a listener of its own (``server.hooks``) and honours ``trusted_hosts``; the
docs and metrics switches and their token requirements."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from syncwright.api import create_api
from syncwright.config import load_settings
from syncwright.connectors.example.signature import HEADER, sign
from syncwright.engine import EngineClient
from syncwright.runtime import Runtime
from syncwright.sandbox._server import free_port
from tests._support import (
    OPERATOR_TOKEN,
    SHOP_SECRET,
    VIEWER_TOKEN,
    Erp,
    bearer,
    customer_event,
    run_syncwright,
    wait_until,
    write_config,
)


def _serve(config: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "syncwright", "serve", "--config", str(config), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def test_serve_refuses_a_non_loopback_api_without_tokens(tmp_path: Path, sqlite_url: str) -> None:
    config = tmp_path / "syncwright.yaml"
    config.write_text(f"database:\n  url: {sqlite_url}\nserver:\n  host: 0.0.0.0\n")
    done = run_syncwright("serve", "--config", str(config))
    assert done.returncode == 2, done.stdout + done.stderr
    assert "refusing to serve the API on '0.0.0.0'" in done.stderr
    assert "auth.tokens" in done.stderr
    # --host wins over the config, and is checked the same way (JSON output too).
    config.write_text(f"database:\n  url: {sqlite_url}\n")
    done = run_syncwright("serve", "--config", str(config), "--host", "192.0.2.1", "--json")
    assert done.returncode == 2
    assert '"ok": false' in done.stdout and "192.0.2.1" in done.stdout


@pytest.fixture
def split(tmp_path: Path, sqlite_url: str, erp: Erp) -> Iterator[tuple[str, str]]:
    api_port, hooks_port = free_port(), free_port()
    extra = (
        f"server:\n  host: 127.0.0.1\n  port: {api_port}\n"
        f"  hooks: {{host: 127.0.0.1, port: {hooks_port}}}\n"
        "  trusted_hosts: [api.example.test, 127.0.0.1]\n"
    )
    config = write_config(tmp_path, db_url=sqlite_url, erp_url=erp.url, extra=extra)
    process = _serve(config)
    api, hooks = f"http://127.0.0.1:{api_port}", f"http://127.0.0.1:{hooks_port}"

    def up() -> bool:
        assert process.poll() is None, process.communicate()
        try:
            return all(
                httpx.get(f"{u}/healthz", timeout=2).status_code == 200 for u in (api, hooks)
            )
        except httpx.TransportError:
            return False

    try:
        wait_until(up, 120, what="both listeners")
        yield api, hooks
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            pytest.fail("serve did not stop on SIGTERM: one of its listeners kept running")


def test_split_listeners_and_trusted_hosts(split: tuple[str, str]) -> None:
    api, hooks = split
    body = customer_event("evt_split", "cust_split")
    signed = {HEADER: sign(body, SHOP_SECRET)}
    # The intake lives on the hooks listener only ...
    accepted = httpx.post(f"{hooks}/hooks/shop", content=body, headers=signed, timeout=30)
    assert accepted.status_code == 200 and accepted.json()["status"] == "accepted"
    assert httpx.post(f"{api}/hooks/shop", content=body, headers=signed).status_code == 404
    # ... which serves nothing else: no API, no metrics, no docs.
    for path in ("/api/v1/exceptions", "/metrics", "/docs", "/openapi.json", "/readyz"):
        assert httpx.get(f"{hooks}{path}", headers=bearer(OPERATOR_TOKEN)).status_code == 404
    # The API listener answers only the trusted Host names.
    listed = httpx.get(f"{api}/api/v1/exceptions", headers=bearer(VIEWER_TOKEN))
    assert listed.status_code == 200 and listed.json() == []
    trusted = {**bearer(VIEWER_TOKEN), "Host": "api.example.test"}
    assert httpx.get(f"{api}/api/v1/exceptions", headers=trusted).status_code == 200
    forged = httpx.get(f"{api}/healthz", headers={"Host": "evil.example.test"})
    assert forged.status_code == 400
    # trusted_hosts is the API listener's: the intake takes whatever Host a vendor sends.
    other = httpx.get(f"{hooks}/healthz", headers={"Host": "evil.example.test"})
    assert other.status_code == 200


def _client(tmp_path: Path, sqlite_url: str, extra: str) -> Iterator[TestClient]:
    config = write_config(tmp_path, db_url=sqlite_url, erp_url="http://127.0.0.1:9", extra=extra)
    runtime = Runtime(load_settings(config))
    engine = EngineClient(runtime.db)
    try:
        with TestClient(create_api(runtime, engine)) as client:
            yield client
    finally:
        engine.close()
        runtime.close()


@pytest.mark.parametrize(
    ("extra", "docs", "metrics"),
    [
        ("", "open", "open"),
        ("server:\n  docs_enabled: false\ntelemetry:\n  metrics_enabled: false\n", "off", "off"),
        (
            "server:\n  docs_token_required: true\ntelemetry:\n  metrics_token_required: true\n",
            "token",
            "token",
        ),
    ],
)
def test_docs_and_metrics_switches(
    tmp_path: Path, sqlite_url: str, extra: str, docs: str, metrics: str
) -> None:
    for client in _client(tmp_path, sqlite_url, extra):
        expected = {"open": 200, "off": 404, "token": 401}
        for path in ("/docs", "/redoc", "/openapi.json"):
            assert client.get(path).status_code == expected[docs], path
        assert client.get("/metrics").status_code == expected[metrics]
        if docs == "token":
            for path in ("/docs", "/redoc"):
                assert client.get(path, headers=bearer(VIEWER_TOKEN)).status_code == 200
            spec = client.get("/openapi.json", headers=bearer(VIEWER_TOKEN)).json()
            assert "/api/v1/exceptions" in spec["paths"]
            assert "bearer" in spec["components"]["securitySchemes"]
        if metrics == "token":
            scraped = client.get("/metrics", headers=bearer(VIEWER_TOKEN))
            assert scraped.status_code == 200 and "syncwright_" in scraped.text
        assert client.get("/healthz").status_code == 200
