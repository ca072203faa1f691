"""PaymentIntents (the basics: create, confirm, cancel, update, list).

Docs: https://docs.stripe.com/api/payment_intents,
https://docs.stripe.com/payments/paymentintents/lifecycle.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from . import _billing as bl
from . import _objects as ob
from ._errors import StripeAPIError, invalid_request
from ._forms import apply_metadata, initial_metadata
from ._refunds import record_charge
from ._routing import Call, begin
from ._state import StripeState
from ._views import created_filter, fields_match

router = APIRouter()

# Stripe's minimum charge is $0.50 in USD; the emulator applies 50 minor units everywhere.
MINIMUM_AMOUNT = 50


def _confirm(call: Call, pi: dict[str, Any], at: int) -> None:
    st: StripeState = call.state
    if pi["status"] not in ("requires_payment_method", "requires_confirmation"):
        raise invalid_request(
            f"This PaymentIntent's status is {pi['status']}; it cannot be confirmed.",
            code="payment_intent_unexpected_state",
        )
    if not pi["payment_method"]:
        raise invalid_request(
            "You cannot confirm this PaymentIntent because it's missing a payment method.",
            code="payment_intent_unexpected_state",
            param="payment_method",
        )
    customer = st.find("customer", pi["customer"]) or {"id": "", "metadata": {}}
    outcome = bl.charge_outcome(st, customer, pi["payment_method"])
    if outcome is None:
        pi["status"] = "succeeded"
        pi["amount_received"] = pi["amount"]
        pi["last_payment_error"] = None
        record_charge(st, pi, at)
        st.emit("payment_intent.succeeded", "payment_intent", pi, call.ctx)
        return
    pi["status"] = "requires_payment_method"
    pi["last_payment_error"] = bl.payment_error_object(outcome, pi["payment_method"])
    st.emit("payment_intent.payment_failed", "payment_intent", pi, call.ctx)
    raise bl.decline_error(outcome, extra={"payment_intent": st.render("payment_intent", pi)})


@router.post("/v1/payment_intents")
def create_payment_intent(request: Request) -> Response:
    call = begin(request)
    p, st = call.params, call.state
    amount = p.integer("amount", required=True, minimum=0)
    assert amount is not None
    currency = p.req_text("currency").lower()
    customer_id = p.text("customer")
    pm = p.text("payment_method")
    confirm = bool(p.boolean("confirm"))
    description = p.text("description")
    receipt_email = p.text("receipt_email")
    metadata = p.metadata()
    types = p.text_list("payment_method_types")
    apm = p.sub("automatic_payment_methods")
    automatic = None
    if apm is not None:
        automatic = {
            "allow_redirects": apm.text("allow_redirects"),
            "enabled": bool(apm.boolean("enabled")),
        }
    p.ignore(
        "off_session",
        "setup_future_usage",
        "capture_method",
        "confirmation_method",
        "statement_descriptor",
        "statement_descriptor_suffix",
        "return_url",
        "shipping",
        "payment_method_options",
        "mandate_data",
        "error_on_requires_action",
        "use_stripe_sdk",
        "transfer_group",
        "on_behalf_of",
    )
    p.finish()
    if amount < MINIMUM_AMOUNT:
        raise StripeAPIError(
            400,
            "Amount must be at least $0.50 usd",
            code="amount_too_small",
            param="amount",
            saved=False,
        )
    with st.lock:
        if customer_id is not None:
            st.get("customer", customer_id, param="customer")
        pm_id = (
            bl.resolve_payment_method(st, pm, customer_id, param="payment_method") if pm else None
        )
        at = st.customer_now(customer_id)
        pi = ob.payment_intent(
            ob.new_id("pi"),
            at,
            amount=amount,
            currency=currency,
            customer=customer_id,
            description=description,
            payment_method=pm_id,
            metadata=initial_metadata(metadata),
            payment_method_types=types,
            automatic_payment_methods=automatic,
            receipt_email=receipt_email,
        )
        if pm_id:
            pi["status"] = "requires_confirmation"
        st.put("payment_intent", pi)
        st.emit("payment_intent.created", "payment_intent", pi, call.ctx)
        if confirm:
            _confirm(call, pi, at)
        return call.ok("payment_intent", pi)


@router.get("/v1/payment_intents/{pid}")
def retrieve_payment_intent(request: Request, pid: str) -> Response:
    call = begin(request)
    call.params.ignore("client_secret")
    return call.retrieve("payment_intent", pid)


@router.post("/v1/payment_intents/{pid}")
def update_payment_intent(request: Request, pid: str) -> Response:
    call = begin(request)
    p, st = call.params, call.state
    updates: dict[str, Any] = {}
    if p.has("amount"):
        updates["amount"] = p.integer("amount", minimum=MINIMUM_AMOUNT)
    if p.has("currency"):
        updates["currency"] = p.req_text("currency").lower()
    if p.has("description"):
        updates["description"] = p.text("description")
    if p.has("receipt_email"):
        updates["receipt_email"] = p.text("receipt_email")
    customer_id = p.text("customer")
    pm = p.text("payment_method")
    metadata = p.metadata()
    p.ignore("setup_future_usage", "shipping", "statement_descriptor", "payment_method_options")
    p.finish()
    with st.lock:
        pi = st.get("payment_intent", pid)
        if pi["status"] in ("succeeded", "canceled"):
            raise invalid_request(
                f"This PaymentIntent's status is {pi['status']}; it can no longer be updated.",
                code="payment_intent_unexpected_state",
            )
        before = st.render("payment_intent", pi)
        pi.update(updates)
        if customer_id is not None:
            st.get("customer", customer_id, param="customer")
            pi["customer"] = customer_id
        if pm is not None:
            pi["payment_method"] = bl.resolve_payment_method(
                st, pm, pi["customer"], param="payment_method"
            )
            pi["status"] = "requires_confirmation"
        apply_metadata(pi["metadata"], metadata)
        return call.updated("payment_intent", pi, before)


@router.post("/v1/payment_intents/{pid}/confirm")
def confirm_payment_intent(request: Request, pid: str) -> Response:
    call = begin(request)
    p, st = call.params, call.state
    pm = p.text("payment_method")
    p.ignore(
        "off_session",
        "return_url",
        "setup_future_usage",
        "payment_method_options",
        "mandate_data",
        "error_on_requires_action",
        "use_stripe_sdk",
        "shipping",
        "receipt_email",
    )
    p.finish()
    with st.lock:
        pi = st.get("payment_intent", pid)
        if pm is not None:
            pi["payment_method"] = bl.resolve_payment_method(
                st, pm, pi["customer"], param="payment_method"
            )
        _confirm(call, pi, st.customer_now(pi["customer"]))
        return call.ok("payment_intent", pi)


@router.post("/v1/payment_intents/{pid}/cancel")
def cancel_payment_intent(request: Request, pid: str) -> Response:
    call = begin(request)
    p, st = call.params, call.state
    reason = p.choice(
        "cancellation_reason", ("duplicate", "fraudulent", "requested_by_customer", "abandoned")
    )
    p.finish()
    with st.lock:
        pi = st.get("payment_intent", pid)
        if pi["status"] in ("succeeded", "canceled", "processing"):
            raise invalid_request(
                f"You cannot cancel this PaymentIntent because it has a status of {pi['status']}.",
                code="payment_intent_unexpected_state",
            )
        pi["status"] = "canceled"
        pi["canceled_at"] = st.customer_now(pi["customer"])
        pi["cancellation_reason"] = reason
        st.emit("payment_intent.canceled", "payment_intent", pi, call.ctx)
        return call.ok("payment_intent", pi)


@router.get("/v1/payment_intents")
def list_payment_intents(request: Request) -> Response:
    call = begin(request)
    p = call.params
    customer = p.text("customer")
    created = created_filter(p)
    return call.list_where(
        "payment_intent",
        "/v1/payment_intents",
        lambda o: fields_match(o, customer=customer) and created(o),
    )
