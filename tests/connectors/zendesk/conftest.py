"""Fixtures for the Zendesk connector tests: the Zendesk emulator on a loopback port (one per
session, reset per test) and a real Runtime (SQLite, ``file:`` secrets) whose Zendesk connection
talks to it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from syncwright.connectors.zendesk.connector import ZendeskConnector
from syncwright.engine import StepContext
from syncwright.runtime import Runtime
from syncwright.sandbox import ServerThread
from syncwright.sandbox.zendesk import ZendeskEmulator, create_app, emulator_of
from tests.connectors._fixtures import RuntimeFactory as RuntimeFactory
from tests.connectors._fixtures import extra_servers, runtimes
from tests.connectors._fixtures import step_context as shared_step_context

EMAIL = "agent@example.com"
TOKEN = "zd-connector-test-token"
CONNECTION = "zendesk"
TIERS = ("standard", "premium", "enterprise", "none")


@dataclass
class Zendesk:
    url: str
    emulator: ZendeskEmulator

    def api(self) -> httpx.Client:
        return httpx.Client(
            base_url=f"{self.url}/api/v2",
            auth=(f"{EMAIL}/token", TOKEN),
            timeout=10.0,
            trust_env=False,
        )

    def admin(self) -> httpx.Client:
        return httpx.Client(base_url=f"{self.url}/_sandbox", timeout=10.0, trust_env=False)

    def seed_fields(self, *, tier_type: str = "dropdown") -> None:
        """The two organization fields an admin creates before entitlements are synced."""
        tier: dict[str, Any] = {"key": "entitlement_tier", "title": "Tier", "type": tier_type}
        if tier_type == "dropdown":
            tier["custom_field_options"] = [{"name": t.title(), "value": t} for t in TIERS]
        sla = {"key": "sla_policy", "title": "SLA policy", "type": "text"}
        with self.api() as api:
            for field in (tier, sla):
                created = api.post("/organization_fields.json", json={"organization_field": field})
                assert created.status_code == 201, created.text

    def organizations(self) -> list[dict[str, Any]]:
        with self.api() as api:
            response = api.get("/organizations.json")
            response.raise_for_status()
            orgs: list[dict[str, Any]] = response.json()["organizations"]
            return orgs

    def faults(self, **plan: Any) -> None:
        with self.admin() as admin:
            admin.put("/faults", json=plan).raise_for_status()


def _start(**kwargs: Any) -> tuple[ServerThread, Zendesk]:
    kwargs.setdefault("requests_per_minute", 100_000)
    app = create_app(email=EMAIL, api_token=TOKEN, **kwargs)
    server = ServerThread(app).start()
    return server, Zendesk(server.url, emulator_of(app))


@pytest.fixture(scope="session")
def _zendesk_server() -> Iterator[Zendesk]:
    server, env = _start()
    try:
        yield env
    finally:
        server.stop()


@pytest.fixture
def zendesk(_zendesk_server: Zendesk) -> Zendesk:
    with _zendesk_server.admin() as admin:
        admin.post("/reset").raise_for_status()
    return _zendesk_server


@pytest.fixture
def extra_zendesk() -> Iterator[Callable[..., Zendesk]]:
    """Another emulator with its own settings (a tiny rate limit, ...)."""
    yield from extra_servers(_start)


def write_zendesk_config(
    directory: Path,
    *,
    base_url: str,
    options: str = "",
    token: str = TOKEN,
    timeout_seconds: float = 5.0,
) -> Path:
    """A syncwright.yaml with one Zendesk connection; the credentials live in files beside it."""
    secrets = directory / "secrets"
    secrets.mkdir(parents=True, exist_ok=True)
    (secrets / "zendesk_email").write_text(EMAIL + "\n")
    (secrets / "zendesk_token").write_text(token)
    (secrets / "zendesk_webhook").write_text("zendesk-webhook-signing-secret")
    path = directory / "syncwright.yaml"
    path.write_text(
        f"""\
database:
  url: sqlite:///{directory / "syncwright.db"}
connections:
  {CONNECTION}:
    vendor: zendesk
    base_url: {base_url}
    credentials:
      email: "file:secrets/zendesk_email"
      api_token: "file:secrets/zendesk_token"
    webhook:
      secrets: ["file:secrets/zendesk_webhook"]
    limits:
      concurrency: 4
      requests_per_second: 50
      timeout_seconds: {timeout_seconds}
    options: {{{options}}}
"""
    )
    return path


@pytest.fixture
def make_runtime(tmp_path: Path, zendesk: Zendesk) -> Iterator[RuntimeFactory]:
    yield from runtimes(tmp_path, write_zendesk_config, zendesk.url)


@pytest.fixture
def runtime(make_runtime: RuntimeFactory) -> Runtime:
    return make_runtime()


@pytest.fixture
def connector(runtime: Runtime) -> ZendeskConnector:
    found = runtime.connection(CONNECTION)
    assert isinstance(found, ZendeskConnector)
    return found


def step_context(
    runtime: Runtime, step: str = "zendesk.upsert_entitlement", **kw: Any
) -> StepContext:
    return shared_step_context(runtime, step, prefix="zd", **kw)


def account(gid: str, name: str | None = None) -> dict[str, Any]:
    return {"global_id": gid, "name": name or f"Customer {gid}", "billing_email": f"ap@{gid}.test"}


def entitlement(
    account_id: str,
    *,
    tier: str = "premium",
    sla: str | None = "Premium 4h",
    status: str = "active",
    gid: str | None = None,
) -> dict[str, Any]:
    return {
        "global_id": gid or f"ent_{account_id}",
        "account_id": account_id,
        "tier": tier,
        "sla_policy": (
            {
                "name": sla,
                "targets": [{"priority": "urgent", "first_response_minutes": 60}],
            }
            if sla
            else None
        ),
        "status": status,
        "start_date": "2026-01-01",
    }
