"""Builders for Stripe objects, field for field as Stripe's ``fixtures3.json`` shows them.

Fields the emulator does not model carry Stripe's "nothing here" value (``null``, ``[]``, ``{}``)
so clients that read them see the right types. Deprecated fields that the pinned API version no
longer returns (``invoice.subscription``) are left out; their replacement (``invoice.parent``)
is filled in. Docs: https://docs.stripe.com/api (each object's "The ... object" page).
"""

from __future__ import annotations

import secrets
import string
from typing import Any

# The API version the stripe-python 16.x SDK pins; events and responses carry it.
DEFAULT_API_VERSION = "2026-10-28.endive"

_ALPHABET = string.ascii_letters + string.digits
_ID_LENGTHS = {"cus": 14, "prod": 14, "si": 14, "cnli": 24, "whsec": 32, "req": 14}


def new_id(prefix: str) -> str:
    length = _ID_LENGTHS.get(prefix, 24)
    return f"{prefix}_" + "".join(secrets.choice(_ALPHABET) for _ in range(length))


def invoice_prefix() -> str:
    return "".join(secrets.choice(string.ascii_uppercase + string.digits) for _ in range(8))


def list_object(data: list[dict[str, Any]], url: str, has_more: bool = False) -> dict[str, Any]:
    return {"object": "list", "data": data, "has_more": has_more, "url": url}


def _address(src: dict[str, Any] | None) -> dict[str, Any] | None:
    if src is None:
        return None
    keys = ("city", "country", "line1", "line2", "postal_code", "state")
    return {k: src.get(k) for k in keys}


def customer(cid: str, created: int, **f: Any) -> dict[str, Any]:
    return {
        "id": cid,
        "object": "customer",
        "address": _address(f.get("address")),
        "balance": f.get("balance", 0),
        "created": created,
        "currency": None,
        "customer_account": None,
        "default_source": None,
        "delinquent": False,
        "description": f.get("description"),
        "discount": None,
        "email": f.get("email"),
        "invoice_prefix": f.get("invoice_prefix") or invoice_prefix(),
        "invoice_settings": {
            "custom_fields": None,
            "default_payment_method": f.get("default_payment_method"),
            "footer": None,
            "rendering_options": None,
        },
        "livemode": False,
        "metadata": dict(f.get("metadata") or {}),
        "name": f.get("name"),
        "next_invoice_sequence": 1,
        "phone": f.get("phone"),
        "preferred_locales": list(f.get("preferred_locales") or []),
        "shipping": None,
        "tax_exempt": f.get("tax_exempt") or "none",
        "test_clock": f.get("test_clock"),
    }


def product(pid: str, created: int, **f: Any) -> dict[str, Any]:
    return {
        "id": pid,
        "object": "product",
        "active": f.get("active", True),
        "created": created,
        "default_price": None,
        "description": f.get("description"),
        "images": list(f.get("images") or []),
        "livemode": False,
        "marketing_features": [],
        "metadata": dict(f.get("metadata") or {}),
        "name": f["name"],
        "package_dimensions": None,
        "shippable": f.get("shippable"),
        "statement_descriptor": f.get("statement_descriptor"),
        "tax_code": f.get("tax_code"),
        "type": "service",
        "unit_label": f.get("unit_label"),
        "updated": created,
        "url": f.get("url"),
    }


def price(pid: str, created: int, **f: Any) -> dict[str, Any]:
    recurring = f.get("recurring")
    unit_amount = f.get("unit_amount")
    return {
        "id": pid,
        "object": "price",
        "active": f.get("active", True),
        "billing_scheme": "per_unit",
        "created": created,
        "currency": f["currency"],
        "custom_unit_amount": None,
        "livemode": False,
        "lookup_key": f.get("lookup_key"),
        "metadata": dict(f.get("metadata") or {}),
        "nickname": f.get("nickname"),
        "product": f["product"],
        "recurring": (
            {
                "interval": recurring["interval"],
                "interval_count": recurring.get("interval_count", 1),
                "meter": None,
                "trial_period_days": recurring.get("trial_period_days"),
                "usage_type": "licensed",
            }
            if recurring
            else None
        ),
        "tax_behavior": f.get("tax_behavior") or "unspecified",
        "tiers_mode": None,
        "transform_quantity": None,
        "type": "recurring" if recurring else "one_time",
        "unit_amount": unit_amount,
        "unit_amount_decimal": None if unit_amount is None else str(unit_amount),
    }


def plan_from_price(p: dict[str, Any]) -> dict[str, Any]:
    """The legacy ``plan`` mirror Stripe still embeds next to ``price`` on subscription items."""
    recurring = p.get("recurring") or {}
    return {
        "id": p["id"],
        "object": "plan",
        "active": p["active"],
        "amount": p["unit_amount"],
        "amount_decimal": p["unit_amount_decimal"],
        "billing_scheme": p["billing_scheme"],
        "created": p["created"],
        "currency": p["currency"],
        "interval": recurring.get("interval"),
        "interval_count": recurring.get("interval_count"),
        "livemode": False,
        "metadata": dict(p["metadata"]),
        "meter": None,
        "nickname": p["nickname"],
        "product": p["product"],
        "tiers_mode": None,
        "transform_usage": None,
        "trial_period_days": recurring.get("trial_period_days"),
        "usage_type": recurring.get("usage_type", "licensed"),
    }


def subscription(sid: str, created: int, **f: Any) -> dict[str, Any]:
    """A subscription without ``items`` (rendered from the item store)."""
    return {
        "id": sid,
        "object": "subscription",
        "application": None,
        "application_fee_percent": None,
        "automatic_tax": {"disabled_reason": None, "enabled": False, "liability": None},
        "billing_cycle_anchor": f.get("billing_cycle_anchor", created),
        "billing_cycle_anchor_config": None,
        "billing_mode": {"type": "classic", "flexible": None},
        "billing_schedules": [],
        "billing_thresholds": None,
        "cancel_at": None,
        "cancel_at_period_end": False,
        "canceled_at": None,
        "cancellation_details": {"comment": None, "feedback": None, "reason": None},
        "collection_method": f.get("collection_method", "charge_automatically"),
        "created": created,
        "currency": f["currency"],
        "customer": f["customer"],
        "customer_account": None,
        "days_until_due": f.get("days_until_due"),
        "default_payment_method": f.get("default_payment_method"),
        "default_source": None,
        "default_tax_rates": [],
        "description": f.get("description"),
        "discounts": [],
        "ended_at": None,
        "invoice_settings": {"account_tax_ids": None, "issuer": {"type": "self"}},
        "latest_invoice": None,
        "livemode": False,
        "managed_payments": None,
        "metadata": dict(f.get("metadata") or {}),
        "next_pending_invoice_item_invoice": None,
        "on_behalf_of": None,
        "pause_collection": None,
        "payment_settings": {
            "payment_method_options": None,
            "payment_method_types": None,
            "save_default_payment_method": "off",
        },
        "pending_invoice_item_interval": None,
        "pending_setup_intent": None,
        "pending_update": None,
        "schedule": None,
        "start_date": created,
        "status": "incomplete",
        "test_clock": f.get("test_clock"),
        "transfer_data": None,
        "trial_end": f.get("trial_end"),
        "trial_settings": {"end_behavior": {"missing_payment_method": "create_invoice"}},
        "trial_start": f.get("trial_start"),
    }


def subscription_item(
    si_id: str,
    created: int,
    *,
    sub_id: str,
    price_id: str,
    quantity: int,
    start: int,
    end: int,
    metadata: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A subscription item holding its price *id* (the current price is embedded on render)."""
    return {
        "id": si_id,
        "object": "subscription_item",
        "billing_thresholds": None,
        "created": created,
        "current_period_end": end,
        "current_period_start": start,
        "discounts": [],
        "metadata": dict(metadata or {}),
        "price": price_id,
        "quantity": quantity,
        "subscription": sub_id,
        "tax_rates": [],
    }


def invoice(iid: str, created: int, **f: Any) -> dict[str, Any]:
    """An invoice without ``lines`` (rendered from the line store)."""
    sub_id = f.get("subscription")
    parent = (
        {
            "quote_details": None,
            "subscription_details": {
                "metadata": dict(f.get("subscription_metadata") or {}),
                "subscription": sub_id,
            },
            "type": "subscription_details",
        }
        if sub_id
        else None
    )
    cust = f["customer_obj"]
    return {
        "id": iid,
        "object": "invoice",
        "account_country": "US",
        "account_name": "Syncwright Sandbox",
        "account_tax_ids": None,
        "amount_due": 0,
        "amount_overpaid": 0,
        "amount_paid": 0,
        "amount_remaining": 0,
        "amount_shipping": 0,
        "application": None,
        "attempt_count": 0,
        "attempted": False,
        "auto_advance": f.get("auto_advance", False),
        "automatic_tax": {
            "disabled_reason": None,
            "enabled": False,
            "liability": None,
            "provider": None,
            "status": None,
        },
        "automatically_finalizes_at": f.get("automatically_finalizes_at"),
        "billing_reason": f.get("billing_reason", "manual"),
        "collection_method": f.get("collection_method", "charge_automatically"),
        "created": created,
        "currency": f["currency"],
        "custom_fields": None,
        "customer": cust["id"],
        "customer_account": None,
        "customer_address": cust.get("address"),
        "customer_email": cust.get("email"),
        "customer_name": cust.get("name"),
        "customer_phone": cust.get("phone"),
        "customer_shipping": None,
        "customer_tax_exempt": cust.get("tax_exempt", "none"),
        "customer_tax_ids": [],
        "default_payment_method": f.get("default_payment_method"),
        "default_source": None,
        "default_tax_rates": [],
        "description": f.get("description"),
        "discounts": [],
        "due_date": None,
        "effective_at": None,
        "ending_balance": None,
        "footer": None,
        "from_invoice": None,
        "hosted_invoice_url": None,
        "invoice_pdf": None,
        "issuer": {"type": "self"},
        "last_finalization_error": None,
        "latest_revision": None,
        "livemode": False,
        "metadata": dict(f.get("metadata") or {}),
        "next_payment_attempt": None,
        "number": None,
        "on_behalf_of": None,
        "parent": parent,
        "payment_settings": {
            "default_mandate": None,
            "payment_method_options": None,
            "payment_method_types": None,
        },
        "period_end": f.get("period_end", created),
        "period_start": f.get("period_start", created),
        "post_payment_credit_notes_amount": 0,
        "pre_payment_credit_notes_amount": 0,
        "receipt_number": None,
        "rendering": None,
        "shipping_cost": None,
        "shipping_details": None,
        "starting_balance": 0,
        "statement_descriptor": None,
        "status": "draft",
        "status_transitions": {
            "finalized_at": None,
            "marked_uncollectible_at": None,
            "paid_at": None,
            "voided_at": None,
        },
        "subtotal": 0,
        "subtotal_excluding_tax": 0,
        "test_clock": cust.get("test_clock"),
        "total": 0,
        "total_discount_amounts": [],
        "total_excluding_tax": 0,
        "total_pretax_credit_amounts": [],
        "total_taxes": [],
        "webhooks_delivered_at": None,
    }


def line_item(
    lid: str,
    *,
    invoice_id: str | None,
    amount: int,
    currency: str,
    description: str | None,
    quantity: int | None,
    period: tuple[int, int],
    price: dict[str, Any] | None,
    subscription_id: str | None,
    subscription_item_id: str | None = None,
    invoice_item_id: str | None = None,
    proration: bool = False,
    metadata: dict[str, str] | None = None,
) -> dict[str, Any]:
    if invoice_item_id is not None:
        parent: dict[str, Any] = {
            "invoice_item_details": {
                "invoice_item": invoice_item_id,
                "proration": proration,
                "proration_details": {"credited_items": None},
                "subscription": subscription_id,
            },
            "subscription_item_details": None,
            "type": "invoice_item_details",
        }
    else:
        parent = {
            "invoice_item_details": None,
            "subscription_item_details": {
                "invoice_item": None,
                "proration": proration,
                "proration_details": {"credited_items": None},
                "subscription": subscription_id,
                "subscription_item": subscription_item_id,
            },
            "type": "subscription_item_details",
        }
    return {
        "id": lid,
        "object": "line_item",
        "amount": amount,
        "currency": currency,
        "description": description,
        "discount_amounts": [],
        "discountable": True,
        "discounts": [],
        "invoice": invoice_id,
        "livemode": False,
        "metadata": dict(metadata or {}),
        "parent": parent,
        "period": {"end": period[1], "start": period[0]},
        "pretax_credit_amounts": [],
        "pricing": _pricing(price),
        "quantity": quantity,
        "quantity_decimal": None if quantity is None else str(quantity),
        "subscription": subscription_id,
        "subtotal": amount,
        "taxes": [],
    }


def _pricing(p: dict[str, Any] | None) -> dict[str, Any] | None:
    if p is None:
        return None
    return {
        "price_details": {"price": p["id"], "product": p["product"]},
        "type": "price_details",
        "unit_amount_decimal": p["unit_amount_decimal"],
    }


def invoice_item(iid: str, created: int, **f: Any) -> dict[str, Any]:
    sub_id = f.get("subscription")
    quantity = f.get("quantity", 1)
    return {
        "id": iid,
        "object": "invoiceitem",
        "amount": f["amount"],
        "currency": f["currency"],
        "customer": f["customer"],
        "customer_account": None,
        "date": created,
        "description": f.get("description"),
        "discountable": True,
        "discounts": [],
        "invoice": f.get("invoice"),
        "livemode": False,
        "metadata": dict(f.get("metadata") or {}),
        "net_amount": f["amount"],
        "parent": (
            {
                "subscription_details": {
                    "subscription": sub_id,
                    "subscription_item": f.get("subscription_item"),
                },
                "type": "subscription_details",
            }
            if sub_id
            else None
        ),
        "period": {"end": f.get("period_end", created), "start": f.get("period_start", created)},
        "pricing": _pricing(f.get("price")),
        "proration": f.get("proration", False),
        "proration_details": {"discount_amounts": []},
        "quantity": quantity,
        "quantity_decimal": str(quantity),
        "tax_rates": [],
        "test_clock": f.get("test_clock"),
    }


def payment_intent(pid: str, created: int, **f: Any) -> dict[str, Any]:
    return {
        "id": pid,
        "object": "payment_intent",
        "amount": f["amount"],
        "amount_capturable": 0,
        "amount_details": {"tip": {}},
        "amount_received": 0,
        "application": None,
        "application_fee_amount": None,
        "automatic_payment_methods": f.get("automatic_payment_methods"),
        "canceled_at": None,
        "cancellation_reason": None,
        "capture_method": "automatic",
        "client_secret": f"{pid}_secret_{new_id('s')[2:]}",
        "confirmation_method": "automatic",
        "created": created,
        "currency": f["currency"],
        "customer": f.get("customer"),
        "customer_account": None,
        "description": f.get("description"),
        "excluded_payment_method_types": None,
        "last_payment_error": None,
        "latest_charge": None,
        "livemode": False,
        "metadata": dict(f.get("metadata") or {}),
        "next_action": None,
        "on_behalf_of": None,
        "payment_method": f.get("payment_method"),
        "payment_method_configuration_details": None,
        "payment_method_options": {},
        "payment_method_types": list(f.get("payment_method_types") or ["card"]),
        "processing": None,
        "receipt_email": f.get("receipt_email"),
        "review": None,
        "setup_future_usage": None,
        "shipping": None,
        "source": None,
        "statement_descriptor": None,
        "statement_descriptor_suffix": None,
        "status": "requires_payment_method",
        "transfer_data": None,
        "transfer_group": None,
    }


def invoice_payment(
    ipid: str, created: int, *, invoice_id: str, pi_id: str, amount: int, currency: str
) -> dict[str, Any]:
    return {
        "id": ipid,
        "object": "invoice_payment",
        "amount_paid": None,
        "amount_requested": amount,
        "created": created,
        "currency": currency,
        "invoice": invoice_id,
        "is_default": True,
        "livemode": False,
        "payment": {"payment_intent": pi_id, "type": "payment_intent"},
        "status": "open",
        "status_transitions": {"canceled_at": None, "paid_at": None},
    }


def payment_method(pmid: str, created: int, *, brand: str, last4: str) -> dict[str, Any]:
    return {
        "id": pmid,
        "object": "payment_method",
        "allow_redisplay": "unspecified",
        "billing_details": {
            "address": _address({}),
            "email": None,
            "name": None,
            "phone": None,
            "tax_id": None,
        },
        "card": {
            "brand": brand,
            "checks": {
                "address_line1_check": None,
                "address_postal_code_check": None,
                "cvc_check": None,
            },
            "country": "US",
            "display_brand": brand,
            "exp_month": 12,
            "exp_year": 2034,
            "fingerprint": new_id("fp")[3:19],
            "funding": "credit",
            "generated_from": None,
            "last4": last4,
            "networks": {"available": [brand], "preferred": None},
            "regulated_status": "unregulated",
            "three_d_secure_usage": {"supported": True},
            "wallet": None,
        },
        "created": created,
        "customer": None,
        "customer_account": None,
        "livemode": False,
        "metadata": {},
        "type": "card",
    }


def credit_note(cnid: str, created: int, **f: Any) -> dict[str, Any]:
    """A credit note without ``lines`` (rendered from the line store)."""
    amount = f["amount"]
    return {
        "id": cnid,
        "object": "credit_note",
        "amount": amount,
        "amount_shipping": 0,
        "created": created,
        "currency": f["currency"],
        "customer": f["customer"],
        "customer_account": None,
        "customer_balance_transaction": None,
        "discount_amount": 0,
        "discount_amounts": [],
        "effective_at": created,
        "invoice": f["invoice"],
        "livemode": False,
        "memo": f.get("memo"),
        "metadata": dict(f.get("metadata") or {}),
        "number": f["number"],
        "out_of_band_amount": f.get("out_of_band_amount"),
        "pdf": None,
        "post_payment_amount": amount if f["type"] == "post_payment" else 0,
        "pre_payment_amount": amount if f["type"] == "pre_payment" else 0,
        "pretax_credit_amounts": [],
        "reason": f.get("reason"),
        "refunds": [],
        "shipping_cost": None,
        "status": "issued",
        "subtotal": amount,
        "subtotal_excluding_tax": amount,
        "total": amount,
        "total_excluding_tax": amount,
        "total_taxes": [],
        "type": f["type"],
        "voided_at": None,
    }


def credit_note_line(
    lid: str,
    *,
    amount: int,
    kind: str,
    description: str | None,
    quantity: int | None,
    invoice_line_item: str | None,
    unit_amount: int | None,
) -> dict[str, Any]:
    line: dict[str, Any] = {
        "id": lid,
        "object": "credit_note_line_item",
        "amount": amount,
        "description": description,
        "discount_amount": 0,
        "discount_amounts": [],
        "livemode": False,
        "metadata": None,
        "pretax_credit_amounts": [],
        "quantity": quantity,
        "tax_rates": [],
        "taxes": [],
        "type": kind,
        "unit_amount": unit_amount,
        "unit_amount_decimal": None if unit_amount is None else str(unit_amount),
    }
    if invoice_line_item is not None:
        line["invoice_line_item"] = invoice_line_item
    return line


def webhook_endpoint(weid: str, created: int, **f: Any) -> dict[str, Any]:
    return {
        "id": weid,
        "object": "webhook_endpoint",
        "api_version": f.get("api_version"),
        "application": None,
        "created": created,
        "description": f.get("description"),
        "enabled_events": list(f["enabled_events"]),
        "livemode": False,
        "metadata": dict(f.get("metadata") or {}),
        "status": "enabled",
        "url": f["url"],
    }


def test_clock(cid: str, created: int, *, frozen_time: int, name: str | None) -> dict[str, Any]:
    return {
        "id": cid,
        "object": "test_helpers.test_clock",
        "created": created,
        # Stripe deletes test clocks 30 days after creation.
        "deletes_after": created + 30 * 86400,
        "frozen_time": frozen_time,
        "livemode": False,
        "name": name,
        "status": "ready",
        "status_details": {},
    }
