"""In-memory state of the Stripe emulator: objects, events, idempotency results, clocks.

Every read and write happens under :attr:`StripeState.lock` (an ``RLock``), so the FastAPI
thread pool, test code and the clock advancing all see consistent objects. Composite objects
are stored flat and *rendered* on the way out: a subscription's ``items`` come from the item
store and embed the current price; an invoice's ``lines`` come from its line store.
"""

from __future__ import annotations

import copy
import json
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from . import _objects as ob
from ._errors import StripeAPIError, resource_missing
from ._webhooks import Delivery, DeliveryRecord, WebhookDispatcher, WebhookFaults

# Stripe's own words in "No such <kind>: 'id'" messages.
KIND_NAMES = {
    "customer": "customer",
    "product": "product",
    "price": "price",
    "subscription": "subscription",
    "subscription_item": "subscription item",
    "invoice": "invoice",
    "invoiceitem": "invoiceitem",
    "payment_intent": "payment_intent",
    "payment_method": "PaymentMethod",
    "credit_note": "credit note",
    "event": "event",
    "webhook_endpoint": "webhook endpoint",
    "test_clock": "test clock",
}

PREFIX_KINDS = {
    "cus": "customer",
    "prod": "product",
    "price": "price",
    "sub": "subscription",
    "si": "subscription_item",
    "in": "invoice",
    "ii": "invoiceitem",
    "pi": "payment_intent",
    "pm": "payment_method",
    "cn": "credit_note",
    "evt": "event",
    "we": "webhook_endpoint",
    "clock": "test_clock",
    "ch": "charge",
    "re": "refund",
}

# How a customer's payments behave: Stripe's test payment methods, by the id you pass.
# Docs: https://docs.stripe.com/testing#declined-payments
TEST_PAYMENT_METHODS: dict[str, tuple[str, str, str]] = {
    # token: (behaviour, brand, last4)
    "pm_card_visa": ("succeed", "visa", "4242"),
    "pm_card_mastercard": ("succeed", "mastercard", "4444"),
    "pm_card_amex": ("succeed", "amex", "8431"),
    "pm_card_chargeDeclined": ("generic_decline", "visa", "0002"),
    "pm_card_visa_chargeDeclined": ("generic_decline", "visa", "0002"),
    "pm_card_chargeCustomerFail": ("generic_decline", "visa", "0341"),
    "pm_card_chargeDeclinedInsufficientFunds": ("insufficient_funds", "visa", "9995"),
    "pm_card_visa_chargeDeclinedInsufficientFunds": ("insufficient_funds", "visa", "9995"),
    "pm_card_chargeDeclinedExpiredCard": ("expired_card", "visa", "0069"),
}

# Customer metadata switch: ``metadata[sandbox_payment]=fail`` makes every charge decline.
PAYMENT_SWITCH_METADATA_KEY = "sandbox_payment"


@dataclass(frozen=True)
class RequestContext:
    """Which API request caused a change; copied into ``event.request``."""

    request_id: str | None = None
    idempotency_key: str | None = None


AUTOMATIC = RequestContext()


@dataclass
class IdempotencyRecord:
    fingerprint: str
    in_flight: bool = True
    status: int = 0
    body: bytes = b""
    request_id: str = ""
    created: float = field(default_factory=time.time)


class StripeState:
    """Everything one emulated Stripe account holds.

    ``webhook_retry_base_seconds`` / ``webhook_max_attempts`` tune the delivery retries (Stripe's
    own schedule spans three days; tests want milliseconds).
    """

    def __init__(
        self,
        *,
        api_version: str = ob.DEFAULT_API_VERSION,
        webhook_retry_base_seconds: float = 0.5,
        webhook_max_attempts: int = 8,
        webhook_timeout_seconds: float = 10.0,
    ) -> None:
        self.lock = threading.RLock()
        self.api_version = api_version
        self.objects: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
        self._seq: dict[str, int] = {}
        self._counter = 0
        self.events: dict[str, dict[str, Any]] = {}
        self.deleted_customers: dict[str, dict[str, Any]] = {}
        self.invoice_lines: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.invoice_payments: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.credit_note_lines: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.credit_note_split: dict[str, dict[str, int]] = {}
        self.invoice_days_until_due: dict[str, int | None] = {}
        self.payment_behaviour: dict[str, str] = {}
        self.customer_payment_switch: dict[str, str] = {}
        self.webhook_secrets: dict[str, str] = {}
        self.idempotency: dict[tuple[str, str], IdempotencyRecord] = {}
        self.webhooks = WebhookDispatcher(
            retry_base_seconds=webhook_retry_base_seconds,
            max_attempts=webhook_max_attempts,
            timeout_seconds=webhook_timeout_seconds,
            on_delivered=self._on_delivered,
        )

    # -- time --------------------------------------------------------------------------------

    @staticmethod
    def wall_now() -> int:
        return int(time.time())

    def clock_now(self, clock_id: str | None) -> int:
        if clock_id:
            clock = self.objects["test_clock"].get(clock_id)
            if clock is not None:
                return int(clock["frozen_time"])
        return self.wall_now()

    def customer_now(self, customer_id: str | None) -> int:
        cust = self.objects["customer"].get(customer_id or "")
        return self.clock_now(cust.get("test_clock") if cust else None)

    # -- store -------------------------------------------------------------------------------

    def put(self, kind: str, obj: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            if obj["id"] not in self._seq:
                self._counter += 1
                self._seq[obj["id"]] = self._counter
            self.objects[kind][obj["id"]] = obj
            return obj

    def seq(self, object_id: str) -> int:
        return self._seq.get(object_id, 0)

    def find(self, kind: str, object_id: str | None) -> dict[str, Any] | None:
        if not object_id:
            return None
        return self.objects[kind].get(object_id)

    def get(self, kind: str, object_id: str, *, param: str = "id") -> dict[str, Any]:
        obj = self.objects[kind].get(object_id)
        if obj is None:
            raise resource_missing(KIND_NAMES.get(kind, kind), object_id, param)
        return obj

    def remove(self, kind: str, object_id: str) -> None:
        self.objects[kind].pop(object_id, None)

    def sorted_objects(self, kind: str) -> list[dict[str, Any]]:
        """Newest first, as every Stripe list endpoint orders its results."""
        items = list(self.objects[kind].values())
        items.sort(key=lambda o: (o.get("created", 0), self.seq(o["id"])), reverse=True)
        return items

    def sort_key(self, obj: dict[str, Any]) -> tuple[int, int]:
        return (int(obj.get("created", 0)), self.seq(obj["id"]))

    # -- rendering ---------------------------------------------------------------------------

    def render(self, kind: str, obj: dict[str, Any]) -> dict[str, Any]:
        """A deep copy of ``obj`` as the API shows it (composite parts filled in)."""
        out = copy.deepcopy(obj)
        if kind == "subscription":
            items = [
                self.render("subscription_item", si)
                for si in sorted(self.objects["subscription_item"].values(), key=self.sort_key)
                if si["subscription"] == obj["id"]
            ]
            out["items"] = ob.list_object(items, f"/v1/subscription_items?subscription={obj['id']}")
        elif kind == "subscription_item":
            price = self.objects["price"].get(obj["price"])
            if price is not None:
                out["price"] = copy.deepcopy(price)
                out["plan"] = ob.plan_from_price(price)
        elif kind == "invoice":
            lines = self.invoice_lines.get(obj["id"], [])
            out["lines"] = ob.list_object(
                copy.deepcopy(lines[:10]), f"/v1/invoices/{obj['id']}/lines", len(lines) > 10
            )
        elif kind == "charge":
            refunds = [
                copy.deepcopy(r) for r in self.sorted_objects("refund") if r["charge"] == obj["id"]
            ]
            out["refunds"] = ob.list_object(refunds, f"/v1/charges/{obj['id']}/refunds")
        elif kind == "credit_note":
            lines = self.credit_note_lines.get(obj["id"], [])
            out["lines"] = ob.list_object(
                copy.deepcopy(lines[:10]), f"/v1/credit_notes/{obj['id']}/lines", len(lines) > 10
            )
        return out

    def render_id(self, object_id: str) -> dict[str, Any] | None:
        """Render whatever object ``object_id`` names (for ``expand``), or None."""
        kind = PREFIX_KINDS.get(object_id.split("_", 1)[0])
        if kind is None:
            return None
        if kind == "event":
            found = self.events.get(object_id)
            return copy.deepcopy(found) if found is not None else None
        obj = self.objects[kind].get(object_id)
        if obj is None:
            if kind == "customer" and object_id in self.deleted_customers:
                return copy.deepcopy(self.deleted_customers[object_id])
            return None
        return self.render(kind, obj)

    # -- events ------------------------------------------------------------------------------

    def emit(
        self,
        event_type: str,
        kind: str,
        obj: dict[str, Any],
        ctx: RequestContext,
        previous: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Append an event carrying a snapshot of ``obj`` and queue its webhook deliveries.

        ``created`` is the wall-clock time the event was generated, also for test-clock objects
        (whose own timestamps are simulated), so ``created[gte]`` polling stays monotonic.
        """
        with self.lock:
            data: dict[str, Any] = {"object": self.render(kind, obj)}
            if previous is not None:
                data["previous_attributes"] = previous
            endpoints = [
                we
                for we in self.objects["webhook_endpoint"].values()
                if we["status"] == "enabled" and _matches(we["enabled_events"], event_type)
            ]
            event_id = ob.new_id("evt")
            event: dict[str, Any] = {
                "id": event_id,
                "object": "event",
                "api_version": self.api_version,
                "created": self.wall_now(),
                "data": data,
                "livemode": False,
                "pending_webhooks": len(endpoints),
                "request": {"id": ctx.request_id, "idempotency_key": ctx.idempotency_key},
                "type": event_type,
            }
            self._counter += 1
            self._seq[event_id] = self._counter
            self.events[event_id] = event
            if endpoints:
                payload = json.dumps(event, indent=2).encode("utf-8")
                for we in endpoints:
                    self.webhooks.enqueue(
                        Delivery(
                            endpoint_id=we["id"],
                            url=we["url"],
                            secret=self.webhook_secrets[we["id"]],
                            event_id=event_id,
                            event_type=event_type,
                            payload=payload,
                        )
                    )
            return event

    def _on_delivered(self, event_id: str) -> None:
        with self.lock:
            event = self.events.get(event_id)
            if event is not None and event["pending_webhooks"] > 0:
                event["pending_webhooks"] -= 1

    def sorted_events(self) -> list[dict[str, Any]]:
        events = list(self.events.values())
        events.sort(key=self.sort_key, reverse=True)
        return events

    def event_types(self) -> list[str]:
        """Types of all events so far, oldest first (handy in tests)."""
        return [e["type"] for e in reversed(self.sorted_events())]

    # -- payment behaviour switches ----------------------------------------------------------

    def set_payment_behaviour(self, customer_id: str, behaviour: str | None) -> None:
        """Force every charge of ``customer_id`` to ``"fail"`` / ``"succeed"`` (None: default).

        Without a switch, a charge follows the payment method (``pm_card_chargeDeclined`` ...) or
        the customer's ``metadata[sandbox_payment]``.
        """
        with self.lock:
            if behaviour is None:
                self.customer_payment_switch.pop(customer_id, None)
            else:
                if behaviour not in ("fail", "succeed"):
                    raise ValueError("behaviour must be 'fail', 'succeed' or None")
                self.customer_payment_switch[customer_id] = behaviour

    # -- webhook switches --------------------------------------------------------------------

    def configure_webhooks(self, faults: WebhookFaults) -> None:
        self.webhooks.configure(faults)

    def pause_webhooks(self) -> None:
        self.webhooks.pause()

    def resume_webhooks(self) -> None:
        self.webhooks.resume()

    def drain_webhooks(self, timeout: float = 10.0) -> bool:
        return self.webhooks.drain(timeout)

    def webhook_deliveries(self) -> list[DeliveryRecord]:
        return list(self.webhooks.records)

    # -- lifecycle ---------------------------------------------------------------------------

    def reset(self) -> None:
        """Forget every object, event and idempotency result (switches stay as they are)."""
        with self.lock:
            self.objects.clear()
            self._seq.clear()
            self.events.clear()
            self.deleted_customers.clear()
            self.invoice_lines.clear()
            self.invoice_payments.clear()
            self.credit_note_lines.clear()
            self.credit_note_split.clear()
            self.invoice_days_until_due.clear()
            self.payment_behaviour.clear()
            self.customer_payment_switch.clear()
            self.webhook_secrets.clear()
            self.idempotency.clear()
            self.webhooks.clear()

    def close(self) -> None:
        self.webhooks.stop()


def _matches(enabled: list[str], event_type: str) -> bool:
    for pattern in enabled:
        if pattern in ("*", event_type):
            return True
        if pattern.endswith(".*") and event_type.startswith(pattern[:-1]):
            return True
    return False


def ensure(condition: bool, message: str, *, param: str | None = None) -> None:
    """Raise Stripe's 400 for a request the object's state does not allow."""
    if not condition:
        raise StripeAPIError(400, message, param=param)
