"""Freshdesk as the support desk of the quote-to-cash world, in place of Zendesk.

:func:`use_freshdesk` starts the Freshdesk emulator, sets it up as an admin would (the two
company fields, one SLA policy per tier) and points the world's ``support`` role at it: the
onboarding workflow then writes entitlements to Freshdesk, unchanged, because it speaks only
the canonical ``upsert_entitlement`` action.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from typing import Any

import httpx

from syncwright.demo.quote_to_cash import TIERS, QuoteToCashWorld, plan_tiers
from syncwright.sandbox import ServerThread
from syncwright.sandbox.freshdesk import create_app

__all__ = ["FreshdeskDesk", "add_webhook_rule", "use_freshdesk"]

SLA_POLICIES = {"premium": "Premium 4h", "standard": "Standard 24h"}
# Freshdesk wants a condition on a new SLA policy: the helpdesk's own company.
ANCHOR_COMPANY = "Syncwright Sandbox Support"

CONNECTION = """\
  freshdesk:
    vendor: freshdesk
    base_url: {url}
    credentials:
      api_key: "file:secrets/fd_api_key"
    webhook:
      secrets: ["file:secrets/fd_webhook_secret"]
    limits: {{timeout_seconds: 10, requests_per_second: 100}}
    options:
      role: support
      default_tier: standard
      tiers: {tiers}
      sla_policies: {policies}
      poll_interval_seconds: 1
"""


@dataclass
class FreshdeskDesk:
    server: ServerThread
    api_key: str
    webhook_secret: str

    def api(self) -> httpx.Client:
        return httpx.Client(
            base_url=f"{self.server.url}/api/v2",
            auth=(self.api_key, "X"),
            timeout=30,
            trust_env=False,
        )

    def company_of(self, account_id: str) -> dict[str, Any] | None:
        """The company whose ``syncwright_id`` field holds ``account_id``."""
        with self.api() as api:
            found = api.get(
                "/search/companies", params={"query": f"\"syncwright_id:'{account_id}'\""}
            )
            found.raise_for_status()
            results: list[dict[str, Any]] = found.json()["results"]
        return results[0] if results else None

    def tier_of(self, account_id: str) -> str | None:
        """The entitlement tier on the account's company, as Freshdesk's API shows it."""
        company = self.company_of(account_id)
        tier = (company or {}).get("custom_fields", {}).get("entitlement_tier")
        return None if tier is None else str(tier)

    def sla_policy_of(self, company_id: int) -> list[str]:
        with self.api() as api:
            policies = api.get("/sla_policies").json()
        return [
            p["name"] for p in policies if company_id in p["applicable_to"].get("company_ids", [])
        ]


def add_webhook_rule(desk: FreshdeskDesk, intake_url: str) -> None:
    """The automation rule the connector's README recommends, delivering to ``intake_url``
    (``.../hooks/<connection>``) with the shared secret header."""
    rule = {
        "name": "Tickets to syncwright",
        "url": intake_url,
        "headers": {"X-Syncwright-Webhook-Secret": desk.webhook_secret},
        "content": '{"freshdesk_webhook": {"ticket_id": {{ticket.id}}}}',
    }
    with httpx.Client(base_url=f"{desk.server.url}/_sandbox", timeout=30, trust_env=False) as adm:
        adm.post("/automations", json=rule).raise_for_status()


def use_freshdesk(world: QuoteToCashWorld) -> FreshdeskDesk:
    """Replace the world's Zendesk connection by a Freshdesk one (before syncwright starts)."""
    api_key = "fd-" + secrets.token_hex(12)
    hook_secret = secrets.token_hex(16)
    server = ServerThread(create_app(api_key=api_key, webhook_retry_delays=(1.0,))).start()
    desk = FreshdeskDesk(server, api_key, hook_secret)
    for name, value in (("fd_api_key", api_key), ("fd_webhook_secret", hook_secret)):
        secret = world.billing.workdir / "secrets" / name
        secret.write_text(value)
        secret.chmod(0o600)
    with httpx.Client(base_url=f"{desk.server.url}/_sandbox", timeout=30, trust_env=False) as adm:
        adm.post("/company_fields", json={"name": "syncwright_id"}).raise_for_status()
        tier = {"name": "entitlement_tier", "label": "Tier", "choices": list(TIERS)}
        adm.post("/company_fields", json=tier).raise_for_status()
    with desk.api() as api:
        anchor = api.post("/companies", json={"name": ANCHOR_COMPANY}).json()["id"]
        for name in SLA_POLICIES.values():
            api.post(
                "/sla_policies",
                json={
                    "name": name,
                    "applicable_to": {"company_ids": [anchor]},
                    "sla_target": {"priority_4": {"respond_within": 3600, "resolve_within": 14400}},
                },
            ).raise_for_status()
    args = world.billing.settings_args
    head, found, _zendesk = args["extra_connections"].partition("  zendesk:\n")
    if not found:
        raise ValueError("the world has no zendesk connection to replace")
    tiers = plan_tiers(world)
    args["extra_connections"] = head + CONNECTION.format(
        url=desk.server.url, tiers=json.dumps(tiers), policies=json.dumps(SLA_POLICIES)
    )
    world.support_vendor = "freshdesk"
    world.tier_reader = desk.tier_of
    return desk
