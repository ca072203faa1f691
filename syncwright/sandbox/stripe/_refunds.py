"""Charges and refunds: a succeeded payment leaves a charge; a refund gives part or all of it back.

Docs: https://docs.stripe.com/api/charges/object, https://docs.stripe.com/api/refunds,
https://docs.stripe.com/api/invoice-payment/list. A refund emits ``refund.created`` and
``charge.refunded`` (the charge with ``amount_refunded`` and its ``refunds`` list), as Stripe
does; a credit note with ``refund_amount`` refunds the invoice's charge the same way. The
emulator emits no ``charge.succeeded`` (nothing syncwright maps listens to it).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from . import _objects as ob
from ._errors import StripeAPIError, invalid_request, parameter_missing
from ._forms import initial_metadata
from ._routing import Call, begin
from ._state import RequestContext, StripeState
from ._views import fields_match

router = APIRouter()

REFUND_REASONS = ("duplicate", "fraudulent", "requested_by_customer")


def charge_object(chid: str, created: int, pi: dict[str, Any]) -> dict[str, Any]:
    """The charge a succeeded PaymentIntent leaves (``refunds`` is filled in by ``render``)."""
    return {
        "id": chid,
        "object": "charge",
        "amount": pi["amount"],
        "amount_captured": pi["amount"],
        "amount_refunded": 0,
        "balance_transaction": None,
        "billing_details": {"address": None, "email": None, "name": None, "phone": None},
        "captured": True,
        "created": created,
        "currency": pi["currency"],
        "customer": pi["customer"],
        "description": pi.get("description"),
        "disputed": False,
        "failure_code": None,
        "failure_message": None,
        "livemode": False,
        "metadata": {},
        "outcome": {"reason": None, "seller_message": "Payment complete.", "type": "authorized"},
        "paid": True,
        "payment_intent": pi["id"],
        "payment_method": pi.get("payment_method"),
        "receipt_email": pi.get("receipt_email"),
        "refunded": False,
        "status": "succeeded",
    }


def record_charge(st: StripeState, pi: dict[str, Any], at: int) -> dict[str, Any]:
    """A succeeded PaymentIntent's charge, stored and named as its ``latest_charge``."""
    charge = charge_object(ob.new_id("ch"), at, pi)
    st.put("charge", charge)
    pi["latest_charge"] = charge["id"]
    return charge


def refunds_of(st: StripeState, charge_id: str) -> list[dict[str, Any]]:
    """The charge's refunds, newest first (a charge's ``refunds`` list)."""
    return [r for r in st.sorted_objects("refund") if r["charge"] == charge_id]


def create_refund(
    st: StripeState,
    charge: dict[str, Any],
    ctx: RequestContext,
    *,
    amount: int | None,
    reason: str | None = None,
    metadata: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Refund ``amount`` (default: what is left) of ``charge``; runs under ``st.lock``."""
    left = int(charge["amount"]) - int(charge["amount_refunded"])
    if left <= 0:
        raise invalid_request(
            f"Charge {charge['id']} has already been refunded.", code="charge_already_refunded"
        )
    value = left if amount is None else amount
    if value <= 0:
        raise StripeAPIError(400, "Refund amount must be positive.", param="amount")
    if value > left:
        raise invalid_request(
            f"Refund amount ({value}) is greater than unrefunded amount on charge ({left}).",
            code="amount_too_large",
            param="amount",
        )
    refund = {
        "id": ob.new_id("re"),
        "object": "refund",
        "amount": value,
        "balance_transaction": None,
        "charge": charge["id"],
        "created": st.customer_now(charge["customer"]),
        "currency": charge["currency"],
        "destination_details": {"card": {"type": "refund"}, "type": "card"},
        "metadata": dict(metadata or {}),
        "payment_intent": charge["payment_intent"],
        "reason": reason,
        "receipt_number": None,
        "status": "succeeded",
    }
    st.put("refund", refund)
    before = {"amount_refunded": charge["amount_refunded"], "refunded": charge["refunded"]}
    charge["amount_refunded"] = int(charge["amount_refunded"]) + value
    charge["refunded"] = charge["amount_refunded"] >= charge["amount"]
    st.emit("refund.created", "refund", refund, ctx)
    st.emit("charge.refunded", "charge", charge, ctx, previous=before)
    return refund


def invoice_charge(st: StripeState, invoice_id: str) -> dict[str, Any] | None:
    """The charge of the invoice's succeeded payment, if it has one (paid by card)."""
    for record in reversed(st.invoice_payments.get(invoice_id) or []):
        pi = st.find("payment_intent", record["payment"]["payment_intent"])
        if pi is not None and pi["status"] == "succeeded" and pi.get("latest_charge"):
            return st.find("charge", pi["latest_charge"])
    return None


# -- routes ----------------------------------------------------------------------------------


@router.get("/v1/charges/{chid}")
def retrieve_charge(request: Request, chid: str) -> Response:
    return begin(request).retrieve("charge", chid)


@router.get("/v1/charges")
def list_charges(request: Request) -> Response:
    call = begin(request)
    p = call.params
    customer, pi = p.text("customer"), p.text("payment_intent")
    return call.list_where(
        "charge", "/v1/charges", lambda o: fields_match(o, customer=customer, payment_intent=pi)
    )


@router.post("/v1/refunds")
def post_refund(request: Request) -> Response:
    call = begin(request)
    p, st = call.params, call.state
    charge_id, pi_id = p.text("charge"), p.text("payment_intent")
    amount = p.integer("amount", minimum=1)
    reason = p.choice("reason", REFUND_REASONS)
    metadata = initial_metadata(p.metadata())
    p.ignore("instructions_email", "refund_application_fee", "reverse_transfer", "origin")
    p.finish()
    if not charge_id and not pi_id:
        raise parameter_missing("charge")
    with st.lock:
        return call.ok("refund", _refund(call, charge_id, pi_id, amount, reason, metadata))


def _refund(
    call: Call,
    charge_id: str | None,
    pi_id: str | None,
    amount: int | None,
    reason: str | None,
    metadata: dict[str, str],
) -> dict[str, Any]:
    st = call.state
    if charge_id:
        charge = st.get("charge", charge_id, param="charge")
    else:
        pi = st.get("payment_intent", pi_id or "", param="payment_intent")
        found = st.find("charge", pi.get("latest_charge"))
        if found is None:
            raise invalid_request(
                f"PaymentIntent {pi['id']} does not have a successful charge to refund.",
                code="charge_not_refundable",
                param="payment_intent",
            )
        charge = found
    return create_refund(st, charge, call.ctx, amount=amount, reason=reason, metadata=metadata)


@router.get("/v1/refunds/{reid}")
def retrieve_refund(request: Request, reid: str) -> Response:
    return begin(request).retrieve("refund", reid)


@router.get("/v1/refunds")
def list_refunds(request: Request) -> Response:
    call = begin(request)
    p = call.params
    charge, pi = p.text("charge"), p.text("payment_intent")
    return call.list_where(
        "refund", "/v1/refunds", lambda o: fields_match(o, charge=charge, payment_intent=pi)
    )


@router.get("/v1/invoice_payments")
def list_invoice_payments(request: Request) -> Response:
    """``invoice`` and ``payment[payment_intent]`` filter (the way from a charge's
    PaymentIntent back to the invoice it paid)."""
    call = begin(request)
    p, st = call.params, call.state
    invoice = p.text("invoice")
    payment = p.sub("payment")
    pi = payment.text("payment_intent") if payment is not None else None
    if payment is not None:
        payment.ignore("type", "payment_record")
    status = p.choice("status", ("canceled", "open", "paid"))
    with st.lock:
        records = [
            r
            for records in st.invoice_payments.values()
            for r in records
            if (invoice is None or r["invoice"] == invoice)
            and (pi is None or r["payment"]["payment_intent"] == pi)
            and (status is None or r["status"] == status)
        ]
        records.sort(key=lambda r: (int(r["created"]), st.seq(r["id"])), reverse=True)
        lookup = {r["id"]: r for r in records}
        return call.listing(
            "invoice_payment",
            records,
            "/v1/invoice_payments",
            lookup=lookup.get,
            render=dict,
        )
