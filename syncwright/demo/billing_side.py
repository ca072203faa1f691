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
import random
import secrets
from collections.abc import Iterator
from typing import Any, Protocol

import httpx

from syncwright.demo._faults import FaultSwitch, InjectedFaults
from syncwright.demo.billing_books import Billed, ExpectedBooks, Scenario
from syncwright.demo.billing_world import BillingWorld
from syncwright.demo.stripe_netsuite import UNMAPPED_ENTITY, drive_scenario, expected_from_stripe
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


class BillingSide(FaultSwitch, Protocol):
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

    def drive(self, customers: int, *, seed: int = 7, unmapped: int = 0) -> Scenario:
        """The billing story, as the vendor's own users make it: customers subscribe; some
        upgrade mid-term, fail to pay, get a credit note, renew or cancel; ``unmapped`` of them
        belong to a legal entity the ERP cannot place until an operator maps it."""
        ...

    def expected(self, scenario: Scenario) -> ExpectedBooks:
        """What the ERP must hold after ``scenario``, read from the vendor's own API."""
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

    def drive(self, customers: int, *, seed: int = 7, unmapped: int = 0) -> Scenario:
        return drive_scenario(self._world, customers, seed=seed, unmapped=unmapped)

    def expected(self, scenario: Scenario) -> ExpectedBooks:
        return expected_from_stripe(self._world, scenario)

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


class ChargebeeBilling(InjectedFaults):
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

    def drive(self, customers: int, *, seed: int = 7, unmapped: int = 0) -> Scenario:
        rng = random.Random(seed)
        price = self.add_price("Syncwright Cloud", 4900)
        scenario = Scenario()
        for n in range(customers):
            entity = UNMAPPED_ENTITY if n >= customers - unmapped else "Parent Company"
            fails = n % 9 == 4
            customer = self._send(
                "POST",
                "/customers",
                {
                    "company": f"Customer {n:04d} {rng.choice(['Ltd', 'GmbH', 'Inc', 'LLC'])}",
                    "email": f"billing{n}@customer{n}.example",
                    "meta_data": json.dumps({"subsidiary": entity}),
                },
            )["customer"]["id"]
            scenario.customers.append(customer)
            if entity == UNMAPPED_ENTITY:
                scenario.unmapped.append(customer)
            if fails:  # the card on file will be declined
                with httpx.Client(base_url=self.url, timeout=30, trust_env=False) as admin:
                    admin.post(
                        f"/_sandbox/customers/{customer}/payment_behavior",
                        json={"behavior": "fail"},
                    ).raise_for_status()
                scenario.failed_payments.append(customer)
            created = self._send(
                "POST",
                f"/customers/{customer}/subscription_for_items",
                _items(price, rng.randint(1, 5)),
            )
            sub = created["subscription"]
            scenario.subscriptions.append(sub["id"])
            if fails:
                continue
            if n % 5 == 2:  # upgrade mid-term: a prorated invoice
                quantity = sub["subscription_items"][0]["quantity"] + 3
                self._send(
                    "POST", f"/subscriptions/{sub['id']}/update_for_items", _items(price, quantity)
                )
                scenario.upgraded.append(sub["id"])
            if n % 7 == 3:  # a goodwill credit against the paid first invoice
                note = self._send(
                    "POST",
                    "/credit_notes",
                    {
                        "reference_invoice_id": created["invoice"]["id"],
                        "total": "1000",
                        "type": "refundable",
                        "reason_code": "waiver",
                    },
                )
                scenario.credit_notes.append(note["credit_note"]["id"])
            if n % 6 == 1:  # the term ends: a renewal invoice and its payment
                with httpx.Client(base_url=self.url, timeout=30, trust_env=False) as admin:
                    admin.post(f"/_sandbox/subscriptions/{sub['id']}/renew").raise_for_status()
                scenario.renewed.append(sub["id"])
            if n % 8 == 6:
                self._send(
                    "POST", f"/subscriptions/{sub['id']}/cancel_for_items", {"end_of_term": "false"}
                )
                scenario.cancelled.append(sub["id"])
        return scenario

    def expected(self, scenario: Scenario) -> ExpectedBooks:
        mapped = set(scenario.customers) - set(scenario.unmapped)
        invoices = [
            Billed(inv["id"], inv["total"], inv["currency_code"], _paid(inv))
            for inv in (e["invoice"] for e in self._listed("invoices"))
            if inv["customer_id"] in mapped and inv["status"] in ISSUED
        ]
        notes = [
            Billed(note["id"], note["total"], note["currency_code"])
            for note in (e["credit_note"] for e in self._listed("credit_notes"))
            if note["customer_id"] in mapped
        ]
        contracts = [
            sub["id"]
            for sub in (e["subscription"] for e in self._listed("subscriptions"))
            if sub["customer_id"] in mapped and sub["id"] in scenario.subscriptions
        ]
        customers = [c for c in scenario.customers if c in mapped]
        return ExpectedBooks(customers, contracts, invoices, notes)

    def faults_injected(self) -> dict[str, int]:
        dropped = sum(1 for r in self.state.webhooks.records if r.outcome == "dropped")
        return {**self.faults.injected, "dropped_webhooks": dropped}


#: Chargebee invoice statuses of an issued invoice (not draft, voided or pending).
#: https://apidocs.chargebee.com/docs/api/invoices#invoice_status
ISSUED = ("paid", "payment_due", "not_paid", "posted")


def _paid(invoice: dict[str, Any]) -> bool:
    return bool(invoice["status"] == "paid" and invoice.get("amount_paid"))


def _items(price: str, quantity: int) -> dict[str, str]:
    """One subscription item, as Chargebee's form encoding lists them (index last)."""
    return {
        "subscription_items[item_price_id][0]": price,
        "subscription_items[quantity][0]": str(quantity),
    }


def start_billing_side(
    world: BillingWorld, vendor: str, faults: FaultPlan | None = None
) -> BillingSide:
    """The adapter for ``vendor`` (``stripe`` or ``chargebee``) on ``world``."""
    if vendor == "chargebee":
        return ChargebeeBilling(world, faults)
    if vendor == "stripe":
        return StripeBilling(world)
    raise ValueError(f"no demo billing adapter for {vendor!r}")
