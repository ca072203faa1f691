"""Fixtures for the Freshdesk connector tests: the Freshdesk emulator on a loopback port (one
per session, reset per test) and a real Runtime (SQLite, ``file:`` secrets) whose Freshdesk
connection talks to it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from syncwright.connectors.freshdesk.connector import FreshdeskConnector
from syncwright.engine import StepContext
from syncwright.runtime import Runtime
from syncwright.sandbox import ServerThread
from syncwright.sandbox.freshdesk import FreshdeskEmulator, create_app, emulator_of
from tests.connectors._fixtures import RuntimeFactory as RuntimeFactory
from tests.connectors._fixtures import extra_servers, runtimes
from tests.connectors._fixtures import step_context as shared_step_context

API_KEY = "fd-connector-test-key"
HOOK_SECRET = "freshdesk-webhook-shared-secret"
CONNECTION = "freshdesk"
TIERS = ("standard", "premium", "enterprise", "none")
SLA_TARGET = {
    "priority_4": {
        "respond_within": 900,
        "resolve_within": 3600,
        "business_hours": False,
        "escalation_enabled": True,
    }
}


@dataclass
class Freshdesk:
    url: str
    emulator: FreshdeskEmulator

    def api(self) -> httpx.Client:
        return httpx.Client(
            base_url=f"{self.url}/api/v2", auth=(API_KEY, "X"), timeout=10.0, trust_env=False
        )

    def admin(self) -> httpx.Client:
        return httpx.Client(base_url=f"{self.url}/_sandbox", timeout=10.0, trust_env=False)

    def seed(self, *, policies: tuple[str, ...] = ("Premium 4h", "Standard 8h")) -> None:
        """What an admin sets up first: the two company fields and the SLA policies (Freshdesk
        wants a condition on a new policy: an existing company)."""
        with self.admin() as admin:
            for body in (
                {"name": "syncwright_id", "label": "Syncwright ID"},
                {"name": "entitlement_tier", "label": "Tier", "choices": list(TIERS)},
            ):
                admin.post("/company_fields", json=body).raise_for_status()
        with self.api() as api:
            anchor = api.post("/companies", json={"name": "Anchor Co"}).json()["id"]
            for name in policies:
                created = api.post(
                    "/sla_policies",
                    json={
                        "name": name,
                        "applicable_to": {"company_ids": [anchor]},
                        "sla_target": SLA_TARGET,
                    },
                )
                assert created.status_code == 201, created.text

    def companies(self) -> list[dict[str, Any]]:
        with self.api() as api:
            found: list[dict[str, Any]] = api.get("/companies").json()
            return [c for c in found if c["name"] != "Anchor Co"]

    def policy_members(self) -> dict[str, list[int]]:
        with self.api() as api:
            return {
                p["name"]: p["applicable_to"].get("company_ids", [])
                for p in api.get("/sla_policies").json()
            }

    def faults(self, **plan: Any) -> None:
        with self.admin() as admin:
            admin.put("/faults", json=plan).raise_for_status()


def _start(**kwargs: Any) -> tuple[ServerThread, Freshdesk]:
    kwargs.setdefault("requests_per_minute", 100_000)
    kwargs.setdefault("webhook_retry_delays", (0.05,))
    app = create_app(api_key=API_KEY, **kwargs)
    server = ServerThread(app).start()
    return server, Freshdesk(server.url, emulator_of(app))


@pytest.fixture(scope="session")
def _freshdesk_server() -> Iterator[Freshdesk]:
    server, env = _start()
    try:
        yield env
    finally:
        server.stop()


@pytest.fixture
def freshdesk(_freshdesk_server: Freshdesk) -> Freshdesk:
    with _freshdesk_server.admin() as admin:
        admin.post("/reset").raise_for_status()
    return _freshdesk_server


@pytest.fixture
def extra_freshdesk() -> Iterator[Callable[..., Freshdesk]]:
    """Another emulator with its own settings (a tiny rate limit, ...)."""
    yield from extra_servers(_start)


def write_freshdesk_config(
    directory: Path,
    *,
    base_url: str,
    options: str = "",
    api_key: str = API_KEY,
    timeout_seconds: float = 5.0,
) -> Path:
    """A syncwright.yaml with one Freshdesk connection; the secrets live in files beside it."""
    secrets = directory / "secrets"
    secrets.mkdir(parents=True, exist_ok=True)
    (secrets / "freshdesk_api_key").write_text(api_key)
    (secrets / "freshdesk_webhook").write_text(HOOK_SECRET)
    path = directory / "syncwright.yaml"
    path.write_text(
        f"""\
database:
  url: sqlite:///{directory / "syncwright.db"}
connections:
  {CONNECTION}:
    vendor: freshdesk
    base_url: {base_url}
    credentials:
      api_key: "file:secrets/freshdesk_api_key"
    webhook:
      secrets: ["file:secrets/freshdesk_webhook"]
    limits:
      concurrency: 4
      requests_per_second: 50
      timeout_seconds: {timeout_seconds}
    options: {{{options}}}
"""
    )
    return path


@pytest.fixture
def make_runtime(tmp_path: Path, freshdesk: Freshdesk) -> Iterator[RuntimeFactory]:
    yield from runtimes(tmp_path, write_freshdesk_config, freshdesk.url)


@pytest.fixture
def runtime(make_runtime: RuntimeFactory) -> Runtime:
    return make_runtime()


@pytest.fixture
def connector(runtime: Runtime) -> FreshdeskConnector:
    found = runtime.connection(CONNECTION)
    assert isinstance(found, FreshdeskConnector)
    return found


def step_context(runtime: Runtime, step: str = "freshdesk.upsert_entitlement") -> StepContext:
    return shared_step_context(runtime, step, prefix="fd")


def account(gid: str, name: str | None = None) -> dict[str, Any]:
    return {"global_id": gid, "name": name or f"Customer {gid}", "billing_email": f"ap@{gid}.test"}


def entitlement(
    account_id: str,
    *,
    tier: str = "premium",
    sla: str | None = "Premium 4h",
    status: str = "active",
) -> dict[str, Any]:
    return {
        "global_id": f"ent_{account_id}",
        "account_id": account_id,
        "tier": tier,
        "sla_policy": {"name": sla} if sla else None,
        "status": status,
        "start_date": "2026-01-01",
    }
