"""The canonical action names workflows ask connectors for. A connector implements the ones
its vendor can do; workflows never name a vendor. New names are added here first."""

from __future__ import annotations

ACTIONS: frozenset[str] = frozenset(
    {
        # accounts and contracts
        "read_account",
        "read_deal",
        "upsert_account",
        "update_account_billing",
        "upsert_sales_order",
        "close_sales_order",
        # billing
        "create_customer",
        "update_customer",
        "create_subscription",
        "read_subscription",
        "read_receivables",
        "upsert_invoice",
        "apply_payment",
        "mark_dunning",
        "upsert_credit_memo",
        "book_refund",
        "renew_subscription",
        # support
        "upsert_entitlement",
        "escalate_case",
        "upsert_contact",
        # synchronous validation against master data
        "check_credit",
        "check_customer",
        "check_products",
        "check_tax",
    }
)
