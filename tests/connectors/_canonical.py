"""Canonical entities as workflow steps receive them (``model_dump(mode="json")`` form), for
the ERP connector tests (NetSuite, Business Central): a UK customer billed in GBP."""

from __future__ import annotations

import datetime as _dt
from typing import Any


class CanonicalBuilders:
    @staticmethod
    def money(minor: int, currency: str = "USD") -> dict[str, Any]:
        return {"amount_minor": minor, "currency": currency}

    def account(
        self, gid: str, *, subsidiary: str | None = "Syncwright UK Ltd", currency: str = "GBP"
    ) -> dict[str, Any]:
        return {
            "global_id": gid,
            "name": f"Client {gid}",
            "legal_name": f"Client {gid} Ltd",
            "subsidiary": subsidiary,
            "currency": currency,
            "billing_email": f"ap@{gid}.test",
            "bill_to": {
                "line1": "1 High Street",
                "city": "London",
                "postal_code": "EC1A 1AA",
                "country": "GB",
            },
            "tax_ids": [{"kind": "gb_vat", "value": "GB123456789"}],
        }

    def subscription(
        self,
        gid: str,
        account_id: str,
        items: list[tuple[str, int, int]],
        *,
        currency: str = "GBP",
        term_start: str = "2026-01-01",
        term_end: str | None = "2027-01-01",
    ) -> dict[str, Any]:
        return {
            "global_id": gid,
            "account_id": account_id,
            "plan_id": "prod_plan",
            "status": "active",
            "currency": currency,
            "term_start": term_start,
            "term_end": term_end,
            "billing_frequency": "monthly",
            "items": [
                {
                    "global_id": f"{gid}-item-{i}",
                    "price_id": price,
                    "quantity": quantity,
                    "unit_amount": self.money(unit, currency),
                }
                for i, (price, quantity, unit) in enumerate(items)
            ],
        }

    def invoice(
        self,
        gid: str,
        account_id: str,
        lines: list[tuple[str, int, int]],
        *,
        currency: str = "GBP",
        tax_minor: int = 0,
        subscription_id: str | None = None,
        status: str = "open",
        paid: bool = False,
    ) -> dict[str, Any]:
        subtotal = sum(quantity * unit for _, quantity, unit in lines)
        total = subtotal + tax_minor
        return {
            "global_id": gid,
            "account_id": account_id,
            "subscription_id": subscription_id,
            "number": f"INV-{gid}",
            "status": "paid" if paid else status,
            "currency": currency,
            "lines": [
                {
                    "global_id": f"{gid}-line-{i}",
                    "description": f"{price} x {quantity}",
                    "price_id": price,
                    "quantity": quantity,
                    "unit_amount": self.money(unit, currency),
                    "amount": self.money(quantity * unit, currency),
                }
                for i, (price, quantity, unit) in enumerate(lines)
            ],
            "subtotal": self.money(subtotal, currency),
            "discount_total": self.money(0, currency),
            "tax_total": self.money(tax_minor, currency),
            "total": self.money(total, currency),
            "amount_paid": self.money(total if paid else 0, currency),
            "issue_date": "2026-02-01",
            "due_date": "2026-03-03",
            "paid_at": "2026-02-05T10:00:00+00:00" if paid else None,
        }

    def payment(
        self, gid: str, account_id: str, minor: int, invoice_id: str, *, currency: str = "GBP"
    ) -> dict[str, Any]:
        return {
            "global_id": gid,
            "account_id": account_id,
            "amount": self.money(minor, currency),
            "status": "succeeded",
            "method": "card",
            "received_at": "2026-02-05T10:00:00+00:00",
            "reference": "ch_123",
            "applied_to": [{"invoice_id": invoice_id, "amount": self.money(minor, currency)}],
        }

    def credit_note(
        self,
        gid: str,
        account_id: str,
        invoice_id: str,
        minor: int,
        *,
        currency: str = "GBP",
        tax_minor: int = 0,
    ) -> dict[str, Any]:
        return {
            "global_id": gid,
            "account_id": account_id,
            "invoice_id": invoice_id,
            "number": f"CN-{gid}",
            "reason": "goodwill",
            "currency": currency,
            "lines": [
                {
                    "global_id": f"{gid}-line-0",
                    "description": "Goodwill credit",
                    "price_id": "price_std",
                    "quantity": 1,
                    "amount": self.money(minor, currency),
                }
            ],
            "subtotal": self.money(minor, currency),
            "discount_total": self.money(0, currency),
            "tax_total": self.money(tax_minor, currency),
            "total": self.money(minor + tax_minor, currency),
            "issue_date": _dt.date(2026, 2, 10).isoformat(),
        }

    def deal(
        self,
        gid: str,
        account_id: str,
        lines: list[tuple[str, str, int, int]],
        *,
        currency: str = "GBP",
    ) -> dict[str, Any]:
        """An open deal; ``lines`` are (product, price, quantity, unit amount in minor units)."""
        return {
            "global_id": gid,
            "account_id": account_id,
            "name": f"Deal {gid}",
            "stage": "open",
            "currency": currency,
            "lines": [
                {
                    "global_id": f"{gid}-{i}",
                    "product_id": product,
                    "price_id": price,
                    "description": "Standard",
                    "quantity": quantity,
                    "unit_amount": self.money(unit, currency),
                }
                for i, (product, price, quantity, unit) in enumerate(lines)
            ],
        }
