"""The emulator's in-memory Chargebee site: customers, the items catalog (items, item prices),
subscriptions (items model), invoices, credit notes, transactions, and the events they raise.

Every change happens under one lock and records the events Chargebee would raise, in the order it
raises them; :mod:`._webhooks` delivers them. Payments are simulated: a customer's card succeeds
unless a test switches it to fail (``set_payment_behaviour``).
https://apidocs.chargebee.com/docs/api (resources), .../docs/api/events (event types)
"""

from __future__ import annotations

import copy
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from . import _forms as forms
from ._objects import (
    JSON,
    PERIOD_UNITS,
    ChargebeeAPIError,
    add_period,
    new_id,
    not_found,
    resource_version,
    wrong_value,
)
from ._webhooks import WebhookSender

# Reason codes Chargebee accepts on a credit note, by type.
# https://apidocs.chargebee.com/docs/api/credit_notes#create_credit_note_reason_code
CREDIT_NOTE_REASONS = {
    "adjustment": {
        "write_off",
        "subscription_change",
        "subscription_cancellation",
        "chargeback",
        "other",
    },
    "refundable": {
        "product_unsatisfactory",
        "service_unsatisfactory",
        "order_change",
        "order_cancellation",
        "waiver",
        "other",
    },
}


def _now() -> int:
    return int(time.time())


@dataclass
class ChargebeeState:
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
        found = self.customers.get(customer_id)
        if found is None or found.get("deleted"):
            raise not_found("Customer", customer_id)
        return found

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
        found = self.item_prices.get(price_id)
        if found is None:
            raise not_found("ItemPrice", price_id)
        return found

    # -- payments ---------------------------------------------------------------------------

    def set_payment_behaviour(self, customer_id: str, behaviour: str | None) -> None:
        with self.lock:
            if behaviour is None:
                self.payment_behaviour.pop(customer_id, None)
            else:
                self.payment_behaviour[customer_id] = behaviour

    def _transaction(self, invoice: JSON, amount: int, status: str, method: str) -> JSON:
        """https://apidocs.chargebee.com/docs/api/transactions#transaction_attributes"""
        now = _now()
        txn: JSON = {
            "id": new_id("txn_"),
            "customer_id": invoice["customer_id"],
            "subscription_id": invoice.get("subscription_id"),
            "payment_method": method,
            "gateway": "chargebee" if method == "card" else "not_applicable",
            "gateway_account_id": "gw_sandbox" if method == "card" else None,
            "type": "payment",
            "date": now,
            "amount": amount,
            "currency_code": invoice["currency_code"],
            "status": status,
            "id_at_gateway": new_id("ch_") if method == "card" else None,
            "amount_unused": 0,
            "base_currency_code": invoice["currency_code"],
            "exchange_rate": 1.0,
            "deleted": False,
            "object": "transaction",
            "updated_at": now,
            "resource_version": resource_version(),
            "linked_invoices": [
                {
                    "invoice_id": invoice["id"],
                    "applied_amount": amount if status == "success" else 0,
                    "applied_at": now,
                    "invoice_date": invoice["date"],
                    "invoice_total": invoice["total"],
                    "invoice_status": invoice["status"],
                }
            ],
        }
        if status == "failure":
            txn["error_code"] = "card_declined"
            txn["error_text"] = "Your card was declined."
        txn = {k: v for k, v in txn.items() if v is not None}
        self.transactions[txn["id"]] = txn
        return txn

    def _settle(self, invoice: JSON, txn: JSON) -> None:
        now = _now()
        invoice.update(
            status="paid",
            amount_paid=invoice["amount_paid"] + txn["amount"],
            amount_due=0,
            paid_at=now,
            updated_at=now,
            resource_version=resource_version(),
        )
        invoice["linked_payments"].append(
            {
                "txn_id": txn["id"],
                "applied_amount": txn["amount"],
                "applied_at": now,
                "txn_status": "success",
                "txn_date": txn["date"],
                "txn_amount": txn["amount"],
            }
        )
        txn["linked_invoices"][0]["invoice_status"] = "paid"

    def _collect(self, invoice: JSON) -> None:
        """Charge the card on file (auto_collection on) and raise payment_succeeded/failed."""
        customer = self.customers[invoice["customer_id"]]
        if customer.get("auto_collection") != "on" or invoice["amount_due"] <= 0:
            return
        fail = self.payment_behaviour.get(customer["id"]) == "fail"
        txn = self._transaction(
            invoice, invoice["amount_due"], "failure" if fail else "success", "card"
        )
        content = {"transaction": txn, "invoice": invoice, "customer": customer}
        if invoice.get("subscription_id"):
            content["subscription"] = self.subscriptions[invoice["subscription_id"]]
        if fail:
            invoice["dunning_status"] = "in_progress"
            invoice["next_retry_at"] = _now() + 3 * 86_400
            self._event("payment_failed", content)
            return
        self._settle(invoice, txn)
        self._event("payment_succeeded", content)

    def record_payment(self, invoice_id: str, params: JSON) -> tuple[JSON, JSON]:
        """An offline payment (https://apidocs.chargebee.com/docs/api/invoices#record_an_invoice_payment)."""
        invoice = self.invoice(invoice_id)
        if invoice["status"] in ("paid", "voided"):
            raise ChargebeeAPIError(
                409, "invalid_state_for_request", f"Invoice {invoice_id} is {invoice['status']}"
            )
        given = params.get("transaction")
        txn_params: JSON = given if isinstance(given, dict) else {}
        method = forms.required(txn_params, "payment_method") if txn_params else "other"
        amount = forms.integer(txn_params, "amount", invoice["amount_due"]) or invoice["amount_due"]
        if amount != invoice["amount_due"]:
            raise wrong_value(
                "transaction[amount]",
                "transaction[amount] : must equal the amount due (partial payments "
                "are not emulated)",
            )
        txn = self._transaction(invoice, amount, "success", method)
        self._settle(invoice, txn)
        content: JSON = {
            "transaction": txn,
            "invoice": invoice,
            "customer": self.customers[invoice["customer_id"]],
        }
        if invoice.get("subscription_id"):
            content["subscription"] = self.subscriptions[invoice["subscription_id"]]
        self._event("payment_succeeded", content)
        return invoice, txn

    # -- invoices ---------------------------------------------------------------------------

    def invoice(self, invoice_id: str) -> JSON:
        found = self.invoices.get(invoice_id)
        if found is None:
            raise not_found("Invoice", invoice_id)
        return found

    def _raise_invoice(self, sub: JSON, lines: list[JSON], *, recurring: bool, first: bool) -> JSON:
        """A posted invoice for ``lines`` (``{item_price_id, quantity, unit_amount, amount,
        from, to, description}``); the caller raises invoice_generated after its own event."""
        self._invoice_seq += 1
        invoice_id = str(self._invoice_seq)
        now = _now()
        customer = self.customers[sub["customer_id"]]
        net = int(customer.get("net_term_days") or 0)
        total = sum(line["amount"] for line in lines)
        invoice: JSON = {
            "id": invoice_id,
            "customer_id": sub["customer_id"],
            "subscription_id": sub["id"],
            "recurring": recurring,
            "status": "payment_due" if total > 0 else "paid",
            "price_type": "tax_exclusive",
            "date": now,
            "due_date": now + net * 86_400,
            "net_term_days": net,
            "exchange_rate": 1.0,
            "currency_code": sub["currency_code"],
            "total": total,
            "amount_paid": 0,
            "amount_adjusted": 0,
            "write_off_amount": 0,
            "credits_applied": 0,
            "amount_due": total,
            "sub_total": total,
            "tax": 0,
            "first_invoice": first,
            "new_sales_amount": total if first else 0,
            "has_advance_charges": False,
            "term_finalized": True,
            "is_gifted": False,
            "generated_at": now,
            "updated_at": now,
            "resource_version": resource_version(),
            "deleted": False,
            "object": "invoice",
            "round_off_amount": 0,
            "base_currency_code": sub["currency_code"],
            "is_digital": True,
            "line_items": [
                {
                    "id": new_id("li_"),
                    "date_from": line["from"],
                    "date_to": line["to"],
                    "unit_amount": line["unit_amount"],
                    "quantity": line["quantity"],
                    "amount": line["amount"],
                    "pricing_model": line.get("pricing_model", "per_unit"),
                    "is_taxed": False,
                    "tax_amount": 0,
                    "object": "line_item",
                    "subscription_id": sub["id"],
                    "customer_id": sub["customer_id"],
                    "description": line["description"],
                    "entity_type": line["entity_type"],
                    "entity_id": line["item_price_id"],
                    "discount_amount": 0,
                    "item_level_discount_amount": 0,
                }
                for line in lines
            ],
            "linked_payments": [],
            "applied_credits": [],
            "issued_credit_notes": [],
            "taxes": [],
            "discounts": [],
            "line_item_discounts": [],
        }
        if total <= 0:
            invoice["paid_at"] = now
        self.invoices[invoice_id] = invoice
        return invoice

    # -- subscriptions ----------------------------------------------------------------------

    def subscription(self, subscription_id: str) -> JSON:
        found = self.subscriptions.get(subscription_id)
        if found is None or found.get("deleted"):
            raise not_found("Subscription", subscription_id)
        return found

    def _items(self, rows: Any, currency: str | None) -> tuple[list[JSON], JSON]:
        """``subscription_items[...]`` rows -> subscription items, and the plan's item price."""
        if not isinstance(rows, list) or not rows:
            raise ChargebeeAPIError(
                400,
                "param_wrong_value",
                "subscription_items[item_price_id][0] : cannot be blank",
                param="subscription_items[item_price_id][0]",
            )
        out: list[JSON] = []
        plan: JSON | None = None
        for index, row in enumerate(rows):
            param = f"subscription_items[item_price_id][{index}]"
            price_id = row.get("item_price_id")
            if not price_id:
                raise ChargebeeAPIError(
                    400, "param_wrong_value", f"{param} : cannot be blank", param=param
                )
            price = self.item_prices.get(price_id)
            if price is None:
                raise ChargebeeAPIError(
                    404,
                    "resource_not_found",
                    f"{param} : ItemPrice {price_id} not found",
                    param=param,
                )
            if currency is not None and price["currency_code"] != currency:
                raise wrong_value(
                    param,
                    f"{param} : item price {price_id} is in "
                    f"{price['currency_code']}, the subscription in {currency}",
                )
            currency = price["currency_code"]
            quantity = forms.integer(row, "quantity", 1) or 1
            unit_price = forms.integer(row, "unit_price", price["price"])
            assert unit_price is not None
            amount = unit_price if price["pricing_model"] == "flat_fee" else unit_price * quantity
            out.append(
                {
                    "item_price_id": price_id,
                    "item_type": price["item_type"],
                    "quantity": quantity,
                    "unit_price": unit_price,
                    "amount": amount,
                    "free_quantity": 0,
                    "object": "subscription_item",
                }
            )
            if price["item_type"] == "plan":
                if plan is not None:
                    raise wrong_value(param, f"{param} : only one plan item price is allowed")
                plan = price
        if plan is None:
            raise wrong_value(
                "subscription_items[item_price_id][0]",
                "subscription_items : a plan item price is required",
            )
        return out, plan

    def _lines(self, sub: JSON, start: int, end: int) -> list[JSON]:
        return [
            {
                "item_price_id": i["item_price_id"],
                "quantity": i["quantity"],
                "unit_amount": i["unit_price"],
                "amount": i["amount"],
                "from": start,
                "to": end,
                "description": self.item_prices[i["item_price_id"]]["name"],
                "entity_type": f"{i['item_type']}_item_price",
                "pricing_model": self.item_prices[i["item_price_id"]]["pricing_model"],
            }
            for i in sub["subscription_items"]
        ]

    def create_subscription(self, customer_id: str, params: JSON) -> JSON:
        """https://apidocs.chargebee.com/docs/api/subscriptions#create_subscription_for_items"""
        customer = self.customer(customer_id)
        sub_id = str(params.get("id") or new_id())
        if sub_id in self.subscriptions:
            raise ChargebeeAPIError(
                400, "duplicate_entry", f"id : The value {sub_id} is already present.", param="id"
            )
        items, plan = self._items(params.get("subscription_items"), None)
        now = _now()
        trial_end = forms.integer(params, "trial_end")
        in_trial = trial_end is not None and trial_end > now
        start = trial_end if in_trial and trial_end is not None else now
        end = add_period(start, plan["period_unit"], plan["period"])
        sub: JSON = {
            "id": sub_id,
            "customer_id": customer_id,
            "currency_code": plan["currency_code"],
            "status": "in_trial" if in_trial else "active",
            "billing_period": plan["period"],
            "billing_period_unit": plan["period_unit"],
            "current_term_start": now if in_trial else start,
            "current_term_end": start if in_trial else end,
            "next_billing_at": start if in_trial else end,
            "created_at": now,
            "started_at": now,
            "updated_at": now,
            "resource_version": resource_version(),
            "auto_collection": customer["auto_collection"],
            "has_scheduled_advance_invoices": False,
            "has_scheduled_changes": False,
            "decommissioned": False,
            "deleted": False,
            "object": "subscription",
            "due_invoices_count": 0,
            "mrr": 0,
            "channel": "web",
            "subscription_items": items,
            "meta_data": forms.meta_data(params),
        }
        if in_trial:
            sub.update(trial_start=now, trial_end=trial_end)
        else:
            sub["activated_at"] = now
        if params.get("net_term_days"):
            sub["net_term_days"] = forms.integer(params, "net_term_days")
        self.subscriptions[sub_id] = sub
        invoice = None
        content: JSON = {"subscription": sub, "customer": customer}
        if not in_trial:
            invoice = self._raise_invoice(
                sub, self._lines(sub, start, end), recurring=True, first=True
            )
            content["invoice"] = invoice
        self._event("subscription_created", content)
        if invoice is not None:
            self._event("invoice_generated", {"invoice": invoice})
            self._collect(invoice)
            sub["due_invoices_count"] = 0 if invoice["status"] == "paid" else 1
        return {
            "subscription": sub,
            "customer": customer,
            **({"invoice": invoice} if invoice is not None else {}),
        }

    def update_subscription(self, sub_id: str, params: JSON) -> JSON:
        """Change items mid-term with proration: an increase is invoiced now for the rest of
        the term, a decrease becomes an adjustment credit note.
        https://apidocs.chargebee.com/docs/api/subscriptions#update_subscription_for_items"""
        sub = self.subscription(sub_id)
        if sub["status"] == "cancelled":
            raise ChargebeeAPIError(
                409, "invalid_state_for_request", f"Subscription {sub_id} is cancelled"
            )
        replace = forms.boolean(params, "replace_items_list")
        changes, _ = self._items(
            params.get("subscription_items") if replace else self._merge_rows(sub, params),
            sub["currency_code"],
        )
        before = sum(i["amount"] for i in sub["subscription_items"])
        after = sum(i["amount"] for i in changes)
        now = _now()
        start, end = sub["current_term_start"], sub["current_term_end"]
        prorate = forms.boolean(params, "prorate", True)
        fraction = max(0.0, (end - now) / (end - start)) if end > start else 0.0
        difference = round((after - before) * fraction) if prorate else 0
        sub["subscription_items"] = changes
        sub.update(updated_at=now, resource_version=resource_version())
        if "meta_data" in params:
            sub["meta_data"] = forms.meta_data(params)
        content: JSON = {"subscription": sub, "customer": self.customers[sub["customer_id"]]}
        invoice = credit = None
        if difference > 0 and sub["status"] == "active":
            invoice = self._raise_invoice(
                sub,
                [
                    {
                        "item_price_id": changes[0]["item_price_id"],
                        "quantity": 1,
                        "unit_amount": difference,
                        "amount": difference,
                        "from": now,
                        "to": end,
                        "description": "Prorated charge for the subscription change",
                        "entity_type": "plan_item_price",
                    }
                ],
                recurring=False,
                first=False,
            )
            content["invoice"] = invoice
        elif difference < 0 and sub["status"] == "active":
            credit = self._credit_for(sub, -difference, "subscription_change")
            content["credit_notes"] = [credit]
        self._event("subscription_changed", content)
        if invoice is not None:
            self._event("invoice_generated", {"invoice": invoice})
            self._collect(invoice)
        out: JSON = {"subscription": sub, "customer": self.customers[sub["customer_id"]]}
        if invoice is not None:
            out["invoice"] = invoice
        if credit is not None:
            out["credit_notes"] = [credit]
        return out

    def _merge_rows(self, sub: JSON, params: JSON) -> list[JSON]:
        """Without ``replace_items_list`` the given items are added or updated in place."""
        rows = {
            i["item_price_id"]: {
                "item_price_id": i["item_price_id"],
                "quantity": str(i["quantity"]),
                "unit_price": str(i["unit_price"]),
            }
            for i in sub["subscription_items"]
        }
        for row in params.get("subscription_items") or []:
            price_id = row.get("item_price_id")
            merged = {**rows.get(price_id, {}), **row}
            if "unit_price" not in row and price_id not in rows and price_id in self.item_prices:
                merged.pop("unit_price", None)
            rows[price_id] = merged
        return list(rows.values())

    def cancel_subscription(self, sub_id: str, params: JSON) -> JSON:
        """https://apidocs.chargebee.com/docs/api/subscriptions#cancel_subscription_for_items"""
        sub = self.subscription(sub_id)
        if sub["status"] == "cancelled":
            raise ChargebeeAPIError(
                409, "invalid_state_for_request", f"Subscription {sub_id} is already cancelled"
            )
        now = _now()
        customer = self.customers[sub["customer_id"]]
        if forms.boolean(params, "end_of_term"):
            sub.update(
                status="non_renewing",
                cancelled_at=sub["current_term_end"],
                updated_at=now,
                resource_version=resource_version(),
            )
            sub.pop("next_billing_at", None)
            self._event(
                "subscription_cancellation_scheduled", {"subscription": sub, "customer": customer}
            )
            return {"subscription": sub, "customer": customer}
        option = params.get("credit_option_for_current_term_charges") or "none"
        if option not in ("none", "prorate", "full"):
            raise wrong_value(
                "credit_option_for_current_term_charges",
                f"credit_option_for_current_term_charges : invalid value {option}",
            )
        start, end = sub["current_term_start"], sub["current_term_end"]
        recurring = sum(i["amount"] for i in sub["subscription_items"])
        unused = (
            recurring
            if option == "full"
            else round(recurring * max(0.0, (end - now) / (end - start)))
            if option == "prorate" and end > start
            else 0
        )
        sub.update(
            status="cancelled",
            cancelled_at=now,
            current_term_end=now,
            updated_at=now,
            resource_version=resource_version(),
        )
        if params.get("cancel_reason_code"):
            sub["cancel_reason_code"] = params["cancel_reason_code"]
        sub.pop("next_billing_at", None)
        content: JSON = {"subscription": sub, "customer": customer}
        out: JSON = {"subscription": sub, "customer": customer}
        if unused > 0:
            credit = self._credit_for(sub, unused, "subscription_cancellation")
            content["credit_notes"] = out["credit_notes"] = [credit]
        self._event("subscription_cancelled", content)
        return out

    def renew(self, sub_id: str) -> JSON:
        """The term ends now (the sandbox's clock jump): a new term, invoiced and collected.
        Chargebee raises subscription_renewed, invoice_generated, then the payment event."""
        with self.lock:
            sub = self.subscription(sub_id)
            if sub["status"] not in ("active", "non_renewing", "in_trial"):
                raise ChargebeeAPIError(
                    409, "invalid_state_for_request", f"Subscription {sub_id} is {sub['status']}"
                )
            if sub["status"] == "non_renewing":
                return self.cancel_subscription(sub_id, {})
            start = sub["current_term_end"]
            end = add_period(start, sub["billing_period_unit"], sub["billing_period"])
            was_trial = sub["status"] == "in_trial"
            sub.update(
                current_term_start=start,
                current_term_end=end,
                next_billing_at=end,
                status="active",
                updated_at=_now(),
                resource_version=resource_version(),
            )
            if was_trial:
                sub["activated_at"] = start
            invoice = self._raise_invoice(
                sub, self._lines(sub, start, end), recurring=True, first=was_trial
            )
            content: JSON = {
                "subscription": sub,
                "customer": self.customers[sub["customer_id"]],
                "invoice": invoice,
            }
            self._event("subscription_activated" if was_trial else "subscription_renewed", content)
            self._event("invoice_generated", {"invoice": invoice})
            self._collect(invoice)
            return {"subscription": sub, "invoice": invoice}

    # -- credit notes -----------------------------------------------------------------------

    def _credit_for(self, sub: JSON, amount: int, reason: str) -> JSON:
        last = next(
            (
                inv
                for inv in reversed(self.invoices.values())
                if inv.get("subscription_id") == sub["id"]
            ),
            None,
        )
        return self._credit_note(
            sub["customer_id"],
            sub["id"],
            last,
            amount,
            "adjustment",
            reason,
            f"Prorated credit ({reason.replace('_', ' ')})",
        )

    def _credit_note(
        self,
        customer_id: str,
        sub_id: str | None,
        invoice: JSON | None,
        amount: int,
        note_type: str,
        reason: str,
        description: str,
    ) -> JSON:
        self._credit_note_seq += 1
        now = _now()
        currency = (
            invoice["currency_code"]
            if invoice
            else self.customers[customer_id].get("preferred_currency_code", "USD")
        )
        note: JSON = {
            "id": f"CN-{self._credit_note_seq}",
            "customer_id": customer_id,
            "subscription_id": sub_id,
            "reference_invoice_id": invoice["id"] if invoice else None,
            "type": note_type,
            "reason_code": reason,
            "create_reason_code": reason,
            "status": "adjusted" if note_type == "adjustment" else "refund_due",
            "date": now,
            "price_type": "tax_exclusive",
            "exchange_rate": 1.0,
            "currency_code": currency,
            "total": amount,
            "amount_allocated": amount if note_type == "adjustment" else 0,
            "amount_refunded": 0,
            "amount_available": 0 if note_type == "adjustment" else amount,
            "generated_at": now,
            "updated_at": now,
            "resource_version": resource_version(),
            "channel": "web",
            "sub_total": amount,
            "round_off_amount": 0,
            "deleted": False,
            "object": "credit_note",
            "base_currency_code": currency,
            "is_digital": True,
            "line_items": [
                {
                    "id": new_id("li_"),
                    "date_from": now,
                    "date_to": now,
                    "unit_amount": amount,
                    "quantity": 1,
                    "amount": amount,
                    "pricing_model": "flat_fee",
                    "is_taxed": False,
                    "tax_amount": 0,
                    "object": "line_item",
                    "subscription_id": sub_id,
                    "customer_id": customer_id,
                    "description": description,
                    "entity_type": "adhoc",
                    "discount_amount": 0,
                    "item_level_discount_amount": 0,
                }
            ],
            "taxes": [],
            "discounts": [],
            "line_item_discounts": [],
            "allocations": [],
        }
        note = {k: v for k, v in note.items() if v is not None}
        self.credit_notes[note["id"]] = note
        if invoice is not None:
            invoice.setdefault("issued_credit_notes", []).append(
                {
                    "cn_id": note["id"],
                    "cn_reason_code": reason,
                    "cn_date": now,
                    "cn_total": amount,
                    "cn_status": note["status"],
                }
            )
        self._event("credit_note_created", {"credit_note": note})
        return note

    def create_credit_note(self, params: JSON) -> JSON:
        """https://apidocs.chargebee.com/docs/api/credit_notes#create_credit_note"""
        invoice = self.invoice(forms.required(params, "reference_invoice_id"))
        note_type = params.get("type") or "refundable"
        if note_type not in CREDIT_NOTE_REASONS:
            raise wrong_value("type", f"type : invalid value {note_type}")
        reason = params.get("reason_code") or params.get("create_reason_code") or "other"
        if params.get("reason_code") and reason not in CREDIT_NOTE_REASONS[note_type]:
            raise wrong_value(
                "reason_code", f"reason_code : invalid value {reason} for type {note_type}"
            )
        total = forms.integer(params, "total")
        credited = sum(
            n["total"]
            for n in self.credit_notes.values()
            if n.get("reference_invoice_id") == invoice["id"]
        )
        if total is None or total <= 0:
            raise wrong_value("total", "total : must be a positive amount in minor units")
        if total + credited > invoice["total"]:
            raise ChargebeeAPIError(
                400,
                "invalid_request",
                f"total : cannot exceed the invoice's creditable amount "
                f"{invoice['total'] - credited}",
                param="total",
            )
        return self._credit_note(
            invoice["customer_id"],
            invoice.get("subscription_id"),
            invoice,
            total,
            note_type,
            reason,
            str(params.get("customer_notes") or "Credit"),
        )

    def credit_note(self, note_id: str) -> JSON:
        found = self.credit_notes.get(note_id)
        if found is None:
            raise not_found("CreditNote", note_id)
        return found

    def transaction(self, txn_id: str) -> JSON:
        found = self.transactions.get(txn_id)
        if found is None:
            raise not_found("Transaction", txn_id)
        return found

    def event(self, event_id: str) -> JSON:
        found = next((e for e in self.events if e["id"] == event_id), None)
        if found is None:
            raise not_found("Event", event_id)
        return found
