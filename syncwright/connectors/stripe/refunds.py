"""Content enricher for ``charge.refunded``: what the charge's event lacks, read from Stripe.

Since Basil (2025-03-31) a charge no longer names its invoice, and since 2022-11-15 its
``refunds`` list is not in the payload unless expanded. The normalizer needs both: each refund
becomes one canonical refund, booked against the invoice's payment. A refund that a credit note
was issued with (``refund_amount``) is left out here, because ``credit_note.created`` carries
it, with its credit note (the ERP's credit memo already holds that credit).

Docs: https://docs.stripe.com/api/charges/object, https://docs.stripe.com/api/refunds/list,
https://docs.stripe.com/api/invoice-payment/list, https://docs.stripe.com/api/credit_notes/list.
"""

from __future__ import annotations

from typing import Any

from syncwright.connectors.stripe.client import StripeClient
from syncwright.connectors.stripe.payloads import expandable_id

__all__ = ["enrich_refunded_charge"]


def enrich_refunded_charge(client: StripeClient, charge: dict[str, Any]) -> dict[str, Any]:
    """``charge`` with ``invoice`` (the invoice its PaymentIntent paid, or None) and the
    ``refunds`` no credit note carries, all of them (no ``has_more``)."""
    out = dict(charge)
    invoice = charge.get("invoice")
    pi = expandable_id(charge.get("payment_intent"))
    if not invoice and pi:
        payments = client.list_invoice_payments(pi)
        invoice = next((p["invoice"] for p in payments if p.get("invoice")), None)
    out["invoice"] = expandable_id(invoice)
    refunds = client.list_refunds(str(charge["id"]))
    with_credit_note: set[str] = set()
    if out["invoice"]:
        for note in client.list_credit_notes(out["invoice"]):
            for entry in note.get("refunds") or []:
                found = expandable_id(entry.get("refund"))
                if found:
                    with_credit_note.add(found)
    kept = [r for r in refunds if r.get("id") not in with_credit_note]
    url = f"/v1/charges/{charge['id']}/refunds"
    out["refunds"] = {"object": "list", "data": kept, "has_more": False, "url": url}
    return out
