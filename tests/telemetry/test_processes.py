"""``syncwright worker`` and ``syncwright serve`` as real processes: the worker serves its own
/metrics on ``telemetry.worker_metrics_port`` (its histograms live there), and both log in the
configured format and level."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from syncwright.sandbox import FaultPlan
from syncwright.sandbox._server import free_port
from tests._support import (
    Erp,
    accept_customer_events,
    start_worker,
    wait_every_run_succeeded,
    wait_until,
    write_config,
)


def _json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def _sample(text: str, name: str, **labels: str) -> float:
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and sample.labels == labels:
                return float(sample.value)
    return 0.0


def test_worker_serves_its_own_metrics_and_logs_json(
    tmp_path: Path, sqlite_url: str, erp: Erp
) -> None:
    port = free_port()
    telemetry = f"telemetry:\n  worker_metrics_port: {port}\n  log_format: json\n"
    config = write_config(tmp_path, db_url=sqlite_url, erp_url=erp.url, extra=telemetry)
    accept_customer_events(config, 3)
    erp.faults.configure(FaultPlan(error_5xx_rate=1.0))
    log = tmp_path / "worker.log"
    worker = start_worker(config, log)
    try:
        wait_until(lambda: erp.faults.injected["error_5xx"] >= 1, 60, "a refused write")
        erp.faults.configure(FaultPlan())
        wait_every_run_succeeded(config, 3)
        text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(30) == 0, log.read_text()
    finally:
        if worker.poll() is None:
            worker.kill()

    step = {"workflow": "account.sync_to_erp", "connection": "erp", "action": "upsert_account"}
    assert _sample(text, "syncwright_step_duration_seconds_count", **step, outcome="ok") == 3
    assert _sample(text, "syncwright_sync_latency_seconds_count", workflow="account.sync_to_erp")
    assert _sample(text, "syncwright_step_retries_total", **step) >= 1
    retries = [
        line
        for line in _json_lines(log.read_text())
        if line["logger"] == "syncwright.engine" and "retry in" in line["message"]
    ]
    assert retries and all(line["level"] == "info" for line in retries)
    assert all(line["correlation_id"].startswith("cor_") for line in retries)


def test_serve_logs_uvicorn_through_our_handler(tmp_path: Path, sqlite_url: str, erp: Erp) -> None:
    port = free_port()
    telemetry = "telemetry:\n  log_format: json\n  log_level: info\n"
    config = write_config(tmp_path, db_url=sqlite_url, erp_url=erp.url, extra=telemetry)
    log = tmp_path / "serve.log"
    server = subprocess.Popen(
        [sys.executable, "-m", "syncwright", "serve", "--config", str(config), "--port", str(port)],
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        wait_until(lambda: _listening(port), 60, "the server")
        server.send_signal(signal.SIGTERM)
        server.wait(30)
    finally:
        if server.poll() is None:
            server.kill()
    lines = _json_lines(log.read_text())
    assert any(
        line["logger"].startswith("uvicorn") and "Uvicorn running" in line["message"]
        for line in lines
    ), log.read_text()


def _listening(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200
    except httpx.TransportError:
        return False


def test_demo_logs_per_the_telemetry_section_of_its_config(tmp_path: Path) -> None:
    config = tmp_path / "telemetry.yaml"
    config.write_text("telemetry:\n  log_format: json\n  log_level: warning\n")
    demo = subprocess.run(
        [
            sys.executable,
            "-m",
            "syncwright",
            "demo",
            "--scenario",
            "example",
            "--workdir",
            str(tmp_path / "demo"),
            "--config",
            str(config),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        check=False,
    )
    assert demo.returncode == 0, demo.stderr
    lines = _json_lines(demo.stderr)
    # The demo sends one delivery with a bad signature on purpose; the intake warns about it.
    assert any("rejected webhook" in line["message"] for line in lines), demo.stderr
    assert all(line["level"] in ("warning", "error", "critical") for line in lines)
