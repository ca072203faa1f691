"""Faults, the admin API under /_sandbox, and ``python -m syncwright.sandbox.zendesk``."""

from __future__ import annotations

import subprocess
import sys
import time
from typing import Any

import httpx
import pytest
from zenpy import Zenpy
from zenpy.lib.api_objects import Organization

from syncwright.sandbox._server import free_port


def test_injected_5xx_reaches_zenpy(zenpy: Zenpy, zendesk: Any) -> None:
    with zendesk.admin() as admin:
        admin.put("/_sandbox/faults", json={"error_5xx_rate": 1.0}).raise_for_status()
    with pytest.raises(Exception) as caught:  # zenpy: APIException (JSON body) or HTTPError
        zenpy.organizations.create(Organization(name="Acme"))
    assert caught.value.response.status_code == 503  # type: ignore[attr-defined]
    assert zendesk.state.organizations == {}  # failed before applying
    assert [o.name for o in zenpy.organizations()] == []  # reads are not faulted by default


def test_lost_response_applies_the_write(zendesk: Any) -> None:
    with zendesk.admin() as admin:
        admin.put(
            "/_sandbox/faults", json={"lost_response_rate": 1.0, "stall_seconds": 0.6}
        ).raise_for_status()
    with zendesk.client(timeout=0.2) as api, pytest.raises(httpx.ReadTimeout):
        api.post("/api/v2/organizations.json", json={"organization": {"name": "Acme"}})
    # The client never saw an answer, yet the organization exists: probe before retrying.
    with zendesk.client() as api:
        found = api.get("/api/v2/organizations/search.json", params={"name": "acme"}).json()
    assert [o["name"] for o in found["organizations"]] == ["Acme"]
    with zendesk.admin() as admin:
        assert admin.get("/_sandbox/stats").json()["faults_injected"]["lost_response"] == 1
        # The stalled answer is counted when the server finally sends it; wait for it here, or on
        # a loaded machine it lands in the next test's statistics.
        deadline = time.monotonic() + 30
        while admin.get("/_sandbox/stats").json()["by_status"].get("201") != 1:
            assert time.monotonic() < deadline, "the stalled 201 was never sent"
            time.sleep(0.05)


def test_stats_faults_and_reset(zendesk: Any) -> None:
    with zendesk.client() as api:
        api.get("/api/v2/users/me.json")
        api.get("/api/v2/organizations/1.json")
    with httpx.Client(base_url=zendesk.url, trust_env=False) as anonymous:
        assert anonymous.get("/api/v2/users/me.json").status_code == 401
    with zendesk.admin() as admin:
        stats = admin.get("/_sandbox/stats").json()
        assert stats["requests"] == 3 and stats["unauthenticated"] == 1
        assert stats["by_status"] == {"200": 1, "401": 1, "404": 1}
        assert stats["by_route"]["GET /api/v2/users/me"] == 1
        plan = admin.put("/_sandbox/faults", json={"latency_ms": 5, "only_methods": ["get"]})
        assert plan.json()["only_methods"] == ["GET"] and plan.json()["latency_ms"] == 5
        assert admin.put("/_sandbox/faults", json={"error_5xx_rate": 2}).status_code == 422
        admin.post("/_sandbox/reset").raise_for_status()
        assert admin.get("/_sandbox/faults").json()["latency_ms"] == 0
        assert admin.get("/_sandbox/stats").json()["requests"] == 0
        drained = admin.post("/_sandbox/webhooks/drain", params={"timeout": 1}).json()
        assert drained == {"drained": True, "pending": 0}
    with zendesk.client() as api:
        me = api.get("/api/v2/users/me.json").json()["user"]
    assert me["email"] == "agent@example.com"  # the account owner survives a reset


def test_json_suffix_is_optional(zendesk: Any) -> None:
    with zendesk.client() as api:
        created = api.post("/api/v2/organizations", json={"organization": {"name": "Acme"}})
        org_id = created.json()["organization"]["id"]
        assert (
            api.get(f"/api/v2/organizations/{org_id}").json()
            == api.get(f"/api/v2/organizations/{org_id}.json").json()
        )


def test_module_entry_point_serves(tmp_path: Any) -> None:
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "syncwright.sandbox.zendesk",
            "--port",
            str(port),
            "--api-token",
            "cli-token",
            "--log-level",
            "warning",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 15
        response = None
        while time.monotonic() < deadline:
            try:
                response = httpx.get(
                    f"http://127.0.0.1:{port}/api/v2/users/me.json",
                    auth=("agent@example.com/token", "cli-token"),
                    trust_env=False,
                )
                break
            except httpx.TransportError:
                time.sleep(0.1)
        assert response is not None and response.status_code == 200
        assert response.json()["user"]["role"] == "admin"
    finally:
        process.terminate()
        process.wait(10)
        if process.stdout is not None:
            process.stdout.close()
