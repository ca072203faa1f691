"""The emulator's in-memory Chargebee site: customers, the items catalog (items, item prices),
subscriptions (items model), invoices, credit notes, transactions, and the events they raise.

Every change happens under one lock and records the events Chargebee would raise, in the order it
raises them; :mod:`._webhooks` delivers them. Payments are simulated: a customer's card succeeds
unless a test switches it to fail (``set_payment_behaviour``). Subscriptions live in
:mod:`._subscriptions`, invoices, payments and credit notes in :mod:`._billing`.
https://apidocs.chargebee.com/docs/api (resources), .../docs/api/events (event types)
"""

from __future__ import annotations

import copy
import threading
import time
from dataclasses import dataclass, field

from . import _forms as forms
from ._billing import found_in
from ._objects import (
    JSON,
    PERIOD_UNITS,
    ChargebeeAPIError,
    new_id,
    not_found,
    resource_version,
    wrong_value,
)
from ._subscriptions import SubscriptionsMixin
from ._webhooks import WebhookEndpoint, WebhookSender


def _now() -> int:
    return int(time.time())


@dataclass
class ChargebeeState(SubscriptionsMixin):
    site: str = "syncwright-test"
    customers: dict[str, JSON] = field(default_factory=dict)
    items: dict[str, JSON] = field(default_factory=dict)
    item_prices: dict[str, JSON] = field(default_factory=dict)
    subscriptions: dict[str, JSON] = field(default_factory=dict)
    invoices: dict[str, JSON] = field(default_factory=dict)
    credit_notes: dict[str, JSON] = field(default_factory=dict)
    transactions: dict[str, JSON] = field(default_factory=dict)
    events: list[JSON] = field(default_factory=list)
    # customer id -> "fail": the card on file declines every charge.
    payment_behaviour: dict[str, str] = field(default_factory=dict)
    # chargebee-idempotency-key -> (request fingerprint, status, body)
    idempotency: dict[str, tuple[str, int, JSON]] = field(default_factory=dict)
    writes: int = 0
    webhooks: WebhookSender = field(default_factory=WebhookSender)
    lock: threading.RLock = field(default_factory=threading.RLock)
    _invoice_seq: int = 0
    _credit_note_seq: int = 0

    def close(self) -> None:
        """Stop webhook delivery (its background thread)."""
        self.webhooks.close()

    def reset(self) -> None:
        with self.lock:
            for table in (
                self.customers,
                self.items,
                self.item_prices,
                self.subscriptions,
                self.invoices,
                self.credit_notes,
                self.transactions,
                self.payment_behaviour,
                self.idempotency,
            ):
                table.clear()
            self.events.clear()
            self.writes = 0

    # -- events -----------------------------------------------------------------------------

    def _event(self, event_type: str, content: JSON) -> JSON:
        """Record (and queue for delivery) one event; ``content`` is keyed by resource name.
        https://apidocs.chargebee.com/docs/api/events#event_attributes"""
        event: JSON = {
            "id": new_id("ev_"),
            "occurred_at": _now(),
            "source": "api",
            "object": "event",
            "api_version": "v2",
            "event_type": event_type,
            "webhook_status": "scheduled" if self.webhooks.configured else "not_configured",
            # A snapshot: later changes to the resources do not rewrite what was sent.
            "content": copy.deepcopy(content),
        }
        self.events.append(event)
        self.webhooks.enqueue(event)
        return event

    # -- customers --------------------------------------------------------------------------

    def customer(self, customer_id: str) -> JSON:
        return found_in(self.customers, "Customer", customer_id)

    def create_customer(self, params: JSON) -> JSON:
        """https://apidocs.chargebee.com/docs/api/customers#create_a_customer"""
        customer_id = str(params.get("id") or new_id())
        if customer_id in self.customers:
            raise ChargebeeAPIError(
                400,
                "duplicate_entry",
                f"id : The value {customer_id} is already present.",
                param="id",
            )
        now = _now()
        customer: JSON = {
            "id": customer_id,
            "first_name": params.get("first_name"),
            "last_name": params.get("last_name"),
            "email": params.get("email"),
            "company": params.get("company"),
            "phone": params.get("phone"),
            "auto_collection": params.get("auto_collection") or "on",
            "net_term_days": forms.integer(params, "net_term_days", 0),
            "allow_direct_debit": False,
            "created_at": now,
            "updated_at": now,
            "resource_version": resource_version(),
            "taxability": params.get("taxability") or "taxable",
            "pii_cleared": "active",
            "channel": "web",
            "deleted": False,
            "object": "customer",
            "card_status": "valid",
            "promotional_credits": 0,
            "refundable_credits": 0,
            "excess_payments": 0,
            "unbilled_charges": 0,
            "preferred_currency_code": params.get("preferred_currency_code") or "USD",
            "mrr": 0,
            "meta_data": forms.meta_data(params),
        }
        if params.get("vat_number"):
            customer["vat_number"] = params["vat_number"]
        address = params.get("billing_address")
        if isinstance(address, dict) and address:
            customer["billing_address"] = {
                **address,
                "object": "billing_address",
                "validation_status": "not_validated",
            }
        customer = {k: v for k, v in customer.items() if v is not None}
        self.customers[customer_id] = customer
        self._event("customer_created", {"customer": customer})
        return customer

    def update_customer(self, customer_id: str, params: JSON) -> JSON:
        """https://apidocs.chargebee.com/docs/api/customers#update_a_customer"""
        customer = self.customer(customer_id)
        for key in ("first_name", "last_name", "email", "company", "phone", "auto_collection"):
            if key in params:
                customer[key] = params[key]
        if "meta_data" in params:
            customer["meta_data"] = forms.meta_data(params)
        customer["updated_at"] = _now()
        customer["resource_version"] = resource_version()
        self._event("customer_changed", {"customer": customer})
        return customer

    # -- catalog ----------------------------------------------------------------------------

    def create_item(self, params: JSON) -> JSON:
        """https://apidocs.chargebee.com/docs/api/items#create_an_item"""
        item_id = forms.required(params, "id")
        if item_id in self.items:
            raise ChargebeeAPIError(
                400, "duplicate_entry", f"id : The value {item_id} is already present.", param="id"
            )
        item_type = params.get("type") or "plan"
        if item_type not in ("plan", "addon", "charge"):
            raise wrong_value("type", f"type : invalid value {item_type}")
        item = {
            "id": item_id,
            "name": params.get("name") or item_id,
            "type": item_type,
            "status": "active",
            "item_family_id": params.get("item_family_id"),
            "resource_version": resource_version(),
            "updated_at": _now(),
            "object": "item",
            "enabled_in_portal": True,
            "is_shippable": False,
            "is_giftable": False,
            "enabled_for_checkout": True,
            "item_applicability": "all",
            "metered": False,
            "channel": "web",
            "deleted": False,
        }
        self.items[item_id] = item
        return item

    def create_item_price(self, params: JSON) -> JSON:
        """https://apidocs.chargebee.com/docs/api/item_prices#create_an_item_price"""
        price_id = forms.required(params, "id")
        item_id = forms.required(params, "item_id")
        if item_id not in self.items:
            raise not_found("Item", item_id)
        if price_id in self.item_prices:
            raise ChargebeeAPIError(
                400, "duplicate_entry", f"id : The value {price_id} is already present.", param="id"
            )
        unit = params.get("period_unit") or "month"
        if unit not in PERIOD_UNITS:
            raise wrong_value("period_unit", f"period_unit : invalid value {unit}")
        pricing_model = params.get("pricing_model") or "per_unit"
        if pricing_model not in ("flat_fee", "per_unit", "tiered", "volume", "stairstep"):
            raise wrong_value("pricing_model", f"pricing_model : invalid value {pricing_model}")
        price = {
            "id": price_id,
            "name": params.get("name") or price_id,
            "item_id": item_id,
            "item_type": self.items[item_id]["type"],
            "status": "active",
            "pricing_model": pricing_model,
            "price": forms.integer(params, "price", 0),
            "period": forms.integer(params, "period", 1),
            "period_unit": unit,
            "currency_code": (params.get("currency_code") or "USD").upper(),
            "free_quantity": 0,
            "is_taxable": True,
            "channel": "web",
            "created_at": _now(),
            "updated_at": _now(),
            "resource_version": resource_version(),
            "object": "item_price",
            "external_name": params.get("external_name") or price_id,
        }
        self.item_prices[price_id] = price
        return price

    def item_price(self, price_id: str) -> JSON:
        return found_in(self.item_prices, "ItemPrice", price_id)

    # -- webhook endpoints ------------------------------------------------------------------

    def create_webhook_endpoint(self, params: JSON) -> JSON:
        """https://apidocs.chargebee.com/docs/api/webhook_endpoints#create_a_webhook_endpoint"""
        name, url = forms.required(params, "name"), forms.required(params, "url")
        if not url.startswith(("http://", "https://")):
            raise wrong_value("url", f"url : invalid value {url}")
        events = params.get("enabled_events") or []
        if not isinstance(events, list):
            raise wrong_value("enabled_events[0]", "enabled_events : must be a list")
        endpoint = WebhookEndpoint(
            url=url,
            username=params.get("basic_auth_username") or None,
            password=params.get("basic_auth_password") or None,
            enabled_events=tuple(str(e) for e in events),
            id=new_id("whe_"),
            name=name,
        )
        if not forms.boolean(params, "disabled"):
            self.webhooks.add(endpoint)
        return self._endpoint_view(endpoint, disabled=forms.boolean(params, "disabled"))

    @staticmethod
    def _endpoint_view(endpoint: WebhookEndpoint, *, disabled: bool = False) -> JSON:
        # Chargebee never returns the basic-auth password.
        return {
            "id": endpoint.id,
            "name": endpoint.name,
            "url": endpoint.url,
            "api_version": "v2",
            "disabled": disabled,
            "send_card_resource": False,
            "primary_url": False,
            "basic_auth_username": endpoint.username,
            "enabled_events": list(endpoint.enabled_events),
            "object": "webhook_endpoint",
        }

    def webhook_endpoint_list(self) -> list[JSON]:
        return [self._endpoint_view(e) for e in self.webhooks.endpoints]

    def event(self, event_id: str) -> JSON:
        found = next((e for e in self.events if e["id"] == event_id), None)
        if found is None:
            raise not_found("Event", event_id)
        return found
