"""Injected faults: latency, 5xx, timeouts (nothing written) and lost responses (written)."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import httpx
import pytest

from syncwright.sandbox import FaultPlan
from syncwright.sandbox._server import free_port

RECORD = "/services/rest/record/v1"
NEW_CUSTOMER = {"companyName": "Faulty Co", "subsidiary": {"id": "1"}, "externalId": "FAULT-1"}


def test_5xx_before_applying(ns, http) -> None:
    ns.sandbox.configure_faults(FaultPlan(error_5xx_rate=1.0))
    before = len(ns.sandbox.state.ids("customer"))
    response = http.post(RECORD + "/customer", json=NEW_CUSTOMER)
    assert response.status_code == 500
    assert response.json()["o:errorDetails"][0]["o:errorCode"] == "UNEXPECTED_ERROR"
    assert len(ns.sandbox.state.ids("customer")) == before
    assert http.get(RECORD + "/customer/110").status_code == 200  # reads are not faulted
    assert ns.sandbox.faults.injected["error_5xx"] == 1


def test_timeout_stalls_before_applying(ns) -> None:
    ns.sandbox.configure_faults(FaultPlan(timeout_rate=1.0, stall_seconds=0.5))
    with ns.client(timeout=0.15) as client, pytest.raises(httpx.ReadTimeout):
        client.post(RECORD + "/customer", json=NEW_CUSTOMER)
    time.sleep(0.6)
    assert ns.sandbox.state.find_by_external_id("customer", "FAULT-1") is None


def test_lost_response_applies_the_write(ns, http) -> None:
    ns.sandbox.configure_faults(FaultPlan(lost_response_rate=1.0, stall_seconds=0.5))
    with ns.client(timeout=0.15) as client, pytest.raises(httpx.ReadTimeout):
        client.post(RECORD + "/customer", json=NEW_CUSTOMER)
    probe = http.get(RECORD + "/customer/eid:FAULT-1")
    assert probe.status_code == 200
    assert probe.json()["companyName"] == "Faulty Co"
    assert ns.sandbox.faults.injected["lost_response"] == 1


def test_latency_applies_to_every_request(ns, http) -> None:
    ns.sandbox.configure_faults(FaultPlan(latency_ms=150))
    started = time.monotonic()
    assert http.get(RECORD + "/customer/110").status_code == 200
    assert time.monotonic() - started >= 0.15


def test_admin_fault_api_and_reset(ns, http) -> None:
    admin = ns.url + "/_sandbox"
    response = httpx.post(admin + "/faults", json={"error_5xx_rate": 1.0, "only_methods": ["get"]})
    assert response.status_code == 200
    assert response.json()["plan"]["only_methods"] == ["GET"]
    assert httpx.get(admin + "/faults").json()["plan"]["error_5xx_rate"] == 1.0
    assert http.get(RECORD + "/customer/110").status_code == 500
    assert http.post(RECORD + "/customer", json=NEW_CUSTOMER).status_code == 204
    assert httpx.post(admin + "/faults", json={"warp_rate": 1}).status_code == 422

    stats = httpx.post(admin + "/reset").json()
    assert stats["faults_injected"] == {"error_5xx": 0, "timeout": 0, "lost_response": 0}
    assert stats["requests"] == 0
    assert stats["records"]["customer"] == 2  # back to the seed
    assert http.get(RECORD + "/customer/110").status_code == 200


def test_module_entry_point_serves_and_hides_secrets(ns) -> None:
    port = free_port()
    creds = ns.credentials
    env = {
        **os.environ,
        "NETSUITE_CONSUMER_KEY": creds.consumer_key,
        "NETSUITE_CONSUMER_SECRET": creds.consumer_secret,
        "NETSUITE_TOKEN_ID": creds.token_id,
        "NETSUITE_TOKEN_SECRET": creds.token_secret,
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "syncwright.sandbox.netsuite", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 15
        while True:
            try:
                if httpx.get(url + "/_sandbox/stats").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "emulator did not start"
            time.sleep(0.1)
        with httpx.Client(base_url=url, auth=ns.client().auth) as client:
            assert client.get(RECORD + "/customer/110").status_code == 200
    finally:
        proc.terminate()
        output, _ = proc.communicate(timeout=10)
    assert creds.consumer_key in output
    assert creds.consumer_secret not in output
    assert creds.token_secret not in output

    missing = subprocess.run(
        [sys.executable, "-m", "syncwright.sandbox.netsuite", "--port", str(port)],
        env={k: v for k, v in env.items() if not k.startswith("NETSUITE_")},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert missing.returncode == 2
    assert "NETSUITE_TOKEN_SECRET" in missing.stderr
