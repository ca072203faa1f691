"""The billing system of a demo world, one small adapter per vendor.

A demo world (``billing_world.py``) always starts the Stripe and NetSuite emulators, which other
stories read; a stack (``stack.py``) picks which billing system syncwright's config names. Each
adapter here starts its emulator when it needs one, writes its connection into the world's
config, creates the sellable prices as the vendor's own admin would, and reads subscriptions
back through the vendor's own API -- never through syncwright's tables or connector.

- :class:`StripeBilling`: Stripe's SDK against the Stripe emulator the world already runs.
- :class:`ChargebeeBilling`: Chargebee's REST API (form-encoded, API key as basic auth) against
  the Chargebee emulator; its webhooks reach syncwright's intake with HTTP basic auth.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from typing import Any, Protocol

import httpx

from syncwright.demo.billing_world import BillingWorld
from syncwright.sandbox import FaultInjector, FaultPlan, ServerThread
from syncwright.sandbox.chargebee import ChargebeeState, WebhookEndpoint, create_app

__all__ = ["BillingSide", "ChargebeeBilling", "StripeBilling", "start_billing_side"]

#: Metadata key under which syncwright stamps its global id on what it creates (both vendors).
SYNCWRIGHT_ID = "syncwright_id"

CHARGEBEE_CONNECTION = """\
  chargebee:
    vendor: chargebee
    base_url: {url}
    credentials:
      api_key: "file:secrets/cb_api_key"
    webhook:
      secrets: ["file:secrets/cb_webhook_auth"]
    limits: {{timeout_seconds: 10, concurrency: 10, requests_per_second: 200}}
    options:
      role: billing
      poll_interval_seconds: {poll_interval}
      default_subsidiary: Parent Company
      item_prices: {prices}
"""


class BillingSide(Protocol):
    vendor: str
    url: str

    def add_price(self, name: str, cents: int) -> str:
        """A monthly USD price of ``cents`` for product ``name``; returns the price's id."""
        ...

    def configure(self, prices: dict[str, str]) -> None:
        """Write this connection into the world's config; ``prices`` maps CRM product ids to
        this system's price ids (what ``create_subscription`` subscribes to)."""
        ...

    def subscriptions(self) -> dict[str, list[str]]:
        """Syncwright's global subscription id -> the statuses of the subscriptions carrying
        it, as the billing system lists them."""
        ...

    def pause_faults(self) -> FaultPlan:
        """Switch injected faults off (for reading back); returns the plan to restore."""
        ...

    def restore_faults(self, plan: FaultPlan) -> None: ...

    def faults_injected(self) -> dict[str, int]:
        """Faults the billing emulator injected so far (API errors, duplicate webhooks)."""
        ...


class StripeBilling:
    vendor = "stripe"

    def __init__(self, world: BillingWorld) -> None:
        self._world = world
        self.url = world.stripe_server.url

    def add_price(self, name: str, cents: int) -> str:
        stripe = self._world.stripe.v1
        product = stripe.products.create({"name": name})
        price = stripe.prices.create(
            {
                "product": product.id,
                "unit_amount": cents,
                "currency": "usd",
                "recurring": {"interval": "month"},
            }
        )
        return str(price.id)

    def configure(self, prices: dict[str, str]) -> None:
        self._world.settings_args["stripe_prices"] = prices

    def subscriptions(self) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        listed = self._world.stripe.v1.subscriptions.list({"status": "all", "limit": 100})
        for sub in listed.auto_paging_iter():
            ours = sub.to_dict().get("metadata", {}).get(SYNCWRIGHT_ID)
            if ours:
                found.setdefault(str(ours), []).append(str(sub.status))
        return found

    def pause_faults(self) -> FaultPlan:
        return FaultPlan()  # the Stripe emulator's faults are on its webhooks, not its API

    def restore_faults(self, plan: FaultPlan) -> None:
        return None

    def faults_injected(self) -> dict[str, int]:
        deliveries = self._world.stripe_state.webhook_deliveries()
        return {
            "duplicate_webhooks": sum(1 for d in deliveries if d.duplicate),
            "dropped_webhooks": sum(1 for d in deliveries if d.outcome == "dropped"),
        }


class ChargebeeBilling:
    """Chargebee's emulator for one site, its webhooks pointed at syncwright's intake."""

    vendor = "chargebee"

    def __init__(self, world: BillingWorld, faults: FaultPlan | None = None) -> None:
        self._world = world
        self.api_key = "test_" + secrets.token_hex(12)
        self.state = ChargebeeState()
        self.faults = FaultInjector(faults or FaultPlan())
        self.server = ServerThread(
            create_app(self.state, api_key=self.api_key, faults=self.faults)
        ).start()
        self.url = self.server.url
        hook_user, hook_password = "syncwright", secrets.token_urlsafe(18)
        folder = world.workdir / "secrets"
        for name, value in (
            ("cb_api_key", self.api_key),
            ("cb_webhook_auth", f"{hook_user}:{hook_password}"),
        ):
            (folder / name).write_text(value)
            (folder / name).chmod(0o600)
        self.state.webhooks.configure(
            WebhookEndpoint(
                f"http://127.0.0.1:{world.api_port}/hooks/chargebee", hook_user, hook_password
            )
        )
        self._has_plan = False
        world.drains.append(self.state.webhooks.drain)
        world.closers.append(self.close)

    def close(self) -> None:
        self.server.stop()
        self.state.close()

    def _api(self) -> httpx.Client:
        # https://apidocs.chargebee.com/docs/api/auth -- the API key is the basic-auth user.
        return httpx.Client(
            base_url=f"{self.url}/api/v2", auth=(self.api_key, ""), timeout=30, trust_env=False
        )

    def _send(self, method: str, path: str, data: dict[str, Any] | None = None) -> Any:
        # An admin's tool tries again when Chargebee has a hiccup (the injected 5xx).
        with self._api() as api:
            for _ in range(5):
                response = api.request(method, path, data=data)
                if response.status_code < 500:
                    break
            response.raise_for_status()
            return response.json()

    def add_price(self, name: str, cents: int) -> str:
        """An item and its monthly USD item price. A Chargebee subscription has exactly one
        plan, so the first product is the plan and the later ones are addons."""
        item = name.lower().replace(" ", "-")
        kind = "addon" if self._has_plan else "plan"
        self._has_plan = True
        self._send(
            "POST",
            "/items",
            {"id": item, "name": name, "type": kind, "item_family_id": "syncwright-demo"},
        )
        price = f"{item}-USD-monthly"
        self._send(
            "POST",
            "/item_prices",
            {
                "id": price,
                "item_id": item,
                "name": price,
                "pricing_model": "per_unit",
                "price": str(cents),
                "period": "1",
                "period_unit": "month",
                "currency_code": "USD",
            },
        )
        return price

    def configure(self, prices: dict[str, str]) -> None:
        self._world.settings_args["billing_section"] = CHARGEBEE_CONNECTION.format(
            url=self.url,
            poll_interval=self._world.settings_args.get("poll_interval", 5),
            prices=json.dumps(prices),
        )

    def _listed(self, resource: str) -> Iterator[dict[str, Any]]:
        offset: str | None = None
        while True:
            query = f"/{resource}?limit=100" + (f"&offset={offset}" if offset else "")
            page = self._send("GET", query)
            yield from page["list"]
            offset = page.get("next_offset")
            if not offset:
                return

    def subscriptions(self) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        for entry in self._listed("subscriptions"):
            sub = entry["subscription"]
            ours = (sub.get("meta_data") or {}).get(SYNCWRIGHT_ID)
            if ours:
                found.setdefault(str(ours), []).append(str(sub["status"]))
        return found

    def pause_faults(self) -> FaultPlan:
        plan = self.faults.plan
        self.faults.configure(FaultPlan())
        return plan

    def restore_faults(self, plan: FaultPlan) -> None:
        self.faults.configure(plan)

    def faults_injected(self) -> dict[str, int]:
        dropped = sum(1 for r in self.state.webhooks.records if r.outcome == "dropped")
        return {**self.faults.injected, "dropped_webhooks": dropped}


def start_billing_side(
    world: BillingWorld, vendor: str, faults: FaultPlan | None = None
) -> BillingSide:
    """The adapter for ``vendor`` (``stripe`` or ``chargebee``) on ``world``."""
    if vendor == "chargebee":
        return ChargebeeBilling(world, faults)
    if vendor == "stripe":
        return StripeBilling(world)
    raise ValueError(f"no demo billing adapter for {vendor!r}")
