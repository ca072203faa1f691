"""Money movements of the emulated Chargebee site: invoices raised and collected (the card on
file succeeds unless a test switched it to fail), offline payments, transactions and credit
notes, each with the events Chargebee raises for it.
https://apidocs.chargebee.com/docs/api/invoices, .../transactions, .../credit_notes
"""

from __future__ import annotations

import threading
import time

from . import _forms as forms
from ._objects import (
    JSON,
    ChargebeeAPIError,
    new_id,
    not_found,
    resource_version,
    wrong_value,
)

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


def found_in(table: dict[str, JSON], resource: str, object_id: str) -> JSON:
    """``table[object_id]`` unless it is missing or deleted (404 ``resource_not_found``)."""
    found = table.get(object_id)
    if found is None or found.get("deleted"):
        raise not_found(resource, object_id)
    return found


def timestamp() -> int:
    return int(time.time())


class BillingMixin:
    """Invoices, payments and credit notes of :class:`~._state.ChargebeeState`."""

    customers: dict[str, JSON]
    subscriptions: dict[str, JSON]
    invoices: dict[str, JSON]
    credit_notes: dict[str, JSON]
    transactions: dict[str, JSON]
    payment_behaviour: dict[str, str]
    lock: threading.RLock
    _invoice_seq: int
    _credit_note_seq: int

    def _event(self, event_type: str, content: JSON) -> JSON:
        raise NotImplementedError  # ChargebeeState records events

    # -- payments ---------------------------------------------------------------------------

    def set_payment_behaviour(self, customer_id: str, behaviour: str | None) -> None:
        with self.lock:
            if behaviour is None:
                self.payment_behaviour.pop(customer_id, None)
            else:
                self.payment_behaviour[customer_id] = behaviour

    def _transaction(self, invoice: JSON, amount: int, status: str, method: str) -> JSON:
        """https://apidocs.chargebee.com/docs/api/transactions#transaction_attributes"""
        now = timestamp()
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
        now = timestamp()
        if invoice.get("dunning_status") == "in_progress":
            invoice["dunning_status"] = "success"  # the dunning ends with this payment
            invoice.pop("next_retry_at", None)
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
        self._charge(invoice, customer)

    def _charge(self, invoice: JSON, customer: JSON) -> JSON:
        """One collection attempt on the card on file; a failure is a dunning attempt
        (https://apidocs.chargebee.com/docs/api/invoices#invoice_dunning_attempts)."""
        fail = self.payment_behaviour.get(customer["id"]) == "fail"
        txn = self._transaction(
            invoice, invoice["amount_due"], "failure" if fail else "success", "card"
        )
        content = {"transaction": txn, "invoice": invoice, "customer": customer}
        if invoice.get("subscription_id"):
            content["subscription"] = self.subscriptions[invoice["subscription_id"]]
        if fail:
            now = timestamp()
            attempts = invoice.setdefault("dunning_attempts", [])
            attempts.append(
                {
                    "attempt": len(attempts),
                    "transaction_id": txn["id"],
                    "dunning_type": "auto_collect",
                    "created_at": now,
                    "txn_status": "failure",
                    "txn_amount": txn["amount"],
                }
            )
            invoice["dunning_status"] = "in_progress"
            invoice["next_retry_at"] = now + 3 * 86_400
            invoice["updated_at"] = now
            self._event("payment_failed", content)
            return txn
        self._settle(invoice, txn)
        self._event("payment_succeeded", content)
        return txn

    def collect_payment(self, invoice_id: str) -> tuple[JSON, JSON]:
        """Charge the customer's card for an unpaid invoice now
        (https://apidocs.chargebee.com/docs/api/invoices#collect_payment_for_an_invoice)."""
        invoice = self.invoice(invoice_id)
        if invoice["status"] not in ("payment_due", "not_paid") or invoice["amount_due"] <= 0:
            raise ChargebeeAPIError(
                409, "invalid_state_for_request", f"Invoice {invoice_id} is {invoice['status']}"
            )
        txn = self._charge(invoice, self.customers[invoice["customer_id"]])
        if txn["status"] == "failure":  # recorded (a dunning attempt), then refused
            raise ChargebeeAPIError(
                400, "payment_processing_failed", txn["error_text"], error_type="payment"
            )
        return invoice, txn

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
        return found_in(self.invoices, "Invoice", invoice_id)

    def _raise_invoice(self, sub: JSON, lines: list[JSON], *, recurring: bool, first: bool) -> JSON:
        """A posted invoice for ``lines`` (``{item_price_id, quantity, unit_amount, amount,
        from, to, description}``); the caller raises invoice_generated after its own event."""
        self._invoice_seq += 1
        invoice_id = str(self._invoice_seq)
        now = timestamp()
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
        now = timestamp()
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
        return found_in(self.credit_notes, "CreditNote", note_id)

    def transaction(self, txn_id: str) -> JSON:
        return found_in(self.transactions, "Transaction", txn_id)
