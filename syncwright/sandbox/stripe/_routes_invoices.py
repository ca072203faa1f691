"""Invoices, invoice items and credit notes.

Docs: https://docs.stripe.com/api/invoices, https://docs.stripe.com/api/invoiceitems,
https://docs.stripe.com/api/credit_notes, https://docs.stripe.com/invoicing/overview.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from fastapi import APIRouter, Request, Response

from . import _billing as bl
from . import _credit_notes as cnotes
from . import _objects as ob
from ._errors import (
    StripeAPIError,
    invalid_param,
    invalid_request,
    parameter_missing,
    resource_missing,
)
from ._forms import Params, apply_metadata, initial_metadata
from ._routing import Call, ObjectAction, begin, deleted, json_response
from ._state import RequestContext, StripeState
from ._views import created_filter, fields_match

router = APIRouter()

COLLECTION_METHODS = ("charge_automatically", "send_invoice")


# Where an invoice's or a credit note's lines are kept, and what Stripe calls one of them in
# "No such ..." errors.
_LINES: dict[str, tuple[Callable[[StripeState], dict[str, list[dict[str, Any]]]], str]] = {
    "invoice": (lambda st: st.invoice_lines, "invoice line item"),
    "credit_note": (lambda st: st.credit_note_lines, "credit note line item"),
}


def _list_lines(request: Request, owner_kind: str, owner_id: str, url: str) -> Response:
    """``GET .../{id}/lines`` of an invoice or credit note (which must exist)."""
    call = begin(request)
    st = call.state
    lines_of, kind_name = _LINES[owner_kind]
    with st.lock:
        st.get(owner_kind, owner_id)
        return _lines_page(call, lines_of(st).get(owner_id, []), url, kind_name)


def _lines_page(call: Call, lines: list[dict[str, Any]], url: str, kind_name: str) -> Response:
    """Lines list in their own order (oldest first), with id cursors."""
    p = call.params
    limit = p.integer("limit")
    limit = 10 if limit is None else limit
    if limit < 1 or limit > 100:
        raise invalid_param(
            "This value must be greater than or equal to 1 and less than or equal to 100.",
            "limit",
        )
    after, before = p.text("starting_after"), p.text("ending_before")
    p.finish()
    ids = [line["id"] for line in lines]
    if after is not None:
        if after not in ids:
            raise resource_missing(kind_name, after, "starting_after")
        rest = lines[ids.index(after) + 1 :]
        page, more = rest[:limit], len(rest) > limit
    elif before is not None:
        if before not in ids:
            raise resource_missing(kind_name, before, "ending_before")
        head = lines[: ids.index(before)]
        page, more = head[-limit:], len(head) > limit
    else:
        page, more = lines[:limit], len(lines) > limit
    return call.raw(ob.list_object([dict(line) for line in page], url, more))


# -- invoices --------------------------------------------------------------------------------


@router.post("/v1/invoices")
def create_invoice(request: Request) -> Response:
    call = begin(request)
    p, st = call.params, call.state
    customer_id = p.req_text("customer")
    auto_advance = p.boolean("auto_advance")
    collection = p.choice("collection_method", COLLECTION_METHODS) or "charge_automatically"
    days_until_due = p.integer("days_until_due", minimum=0)
    description = p.text("description")
    metadata = p.metadata()
    pending = p.choice("pending_invoice_items_behavior", ("include", "exclude")) or "exclude"
    subscription_id = p.text("subscription")
    currency = p.text("currency")
    default_pm = p.text("default_payment_method")
    p.ignore(
        "automatic_tax",
        "account_tax_ids",
        "custom_fields",
        "footer",
        "rendering",
        "payment_settings",
        "statement_descriptor",
        "default_tax_rates",
        "issuer",
        "shipping_cost",
        "shipping_details",
        "number",
        "effective_at",
    )
    p.finish()
    if collection == "send_invoice" and days_until_due is None:
        raise parameter_missing("days_until_due")
    with st.lock:
        customer = st.get("customer", customer_id, param="customer")
        sub = (
            st.get("subscription", subscription_id, param="subscription")
            if subscription_id
            else None
        )
        at = st.customer_now(customer_id)
        pm_id = (
            bl.resolve_payment_method(st, default_pm, customer_id, param="default_payment_method")
            if default_pm
            else None
        )
        inv = bl.new_invoice(
            st,
            customer,
            at=at,
            currency=(currency or customer["currency"] or "usd").lower(),
            billing_reason="manual",
            sub=sub,
            collection_method=collection,
            days_until_due=days_until_due,
            auto_advance=bool(auto_advance),
            description=description,
            metadata=initial_metadata(metadata),
            default_payment_method=pm_id,
        )
        if pending == "include" or sub is not None:
            bl.pull_pending_items(st, inv, call.ctx, subscription_id=subscription_id)
        st.emit("invoice.created", "invoice", inv, call.ctx)
        return call.ok("invoice", inv)


@router.get("/v1/invoices/{iid}")
def retrieve_invoice(request: Request, iid: str) -> Response:
    return begin(request).retrieve("invoice", iid)


@router.post("/v1/invoices/{iid}")
def update_invoice(request: Request, iid: str) -> Response:
    call = begin(request)
    p, st = call.params, call.state
    updates: dict[str, Any] = {}
    if p.has("description"):
        updates["description"] = p.text("description")
    if p.has("auto_advance"):
        updates["auto_advance"] = bool(p.boolean("auto_advance"))
    draft_only: dict[str, Any] = {}
    if p.has("collection_method"):
        draft_only["collection_method"] = p.choice("collection_method", COLLECTION_METHODS)
    days = p.integer("days_until_due", minimum=0)
    pm_given = p.has("default_payment_method")
    default_pm = p.text("default_payment_method")
    metadata = p.metadata()
    p.ignore("footer", "custom_fields", "rendering", "statement_descriptor", "automatic_tax")
    p.finish()
    with st.lock:
        inv = st.get("invoice", iid)
        if (draft_only or days is not None) and inv["status"] != "draft":
            raise invalid_request(
                "Finalized invoices can't be updated in this way", param="collection_method"
            )
        before = st.render("invoice", inv)
        inv.update(updates)
        inv.update(draft_only)
        if days is not None:
            st.invoice_days_until_due[iid] = days
        if pm_given:
            inv["default_payment_method"] = (
                bl.resolve_payment_method(
                    st, default_pm, inv["customer"], param="default_payment_method"
                )
                if default_pm
                else None
            )
        apply_metadata(inv["metadata"], metadata)
        return call.updated("invoice", inv, before)


@router.delete("/v1/invoices/{iid}")
def delete_invoice(request: Request, iid: str) -> Response:
    call = begin(request)
    call.params.finish()
    st = call.state
    with st.lock:
        inv = st.get("invoice", iid)
        if inv["status"] != "draft":
            raise invalid_request("You can only delete draft invoices.")
        for ii in list(st.objects["invoiceitem"].values()):
            if ii["invoice"] == iid:
                ii["invoice"] = None
        st.emit("invoice.deleted", "invoice", inv, call.ctx)
        st.remove("invoice", iid)
        st.invoice_lines.pop(iid, None)
        return json_response(deleted(iid, "invoice"))


@router.post("/v1/invoices/{iid}/finalize")
def finalize_invoice(request: Request, iid: str) -> Response:
    call = begin(request)
    p, st = call.params, call.state
    auto_advance = p.boolean("auto_advance")
    p.finish()
    with st.lock:
        inv = st.get("invoice", iid)
        if auto_advance is not None:
            inv["auto_advance"] = auto_advance
        at = st.customer_now(inv["customer"])
        bl.finalize_invoice(st, inv, call.ctx, at=at)
        # auto_advance invoices are collected right away (Stripe does it within the hour).
        if (
            inv["status"] == "open"
            and inv["auto_advance"]
            and inv["collection_method"] == "charge_automatically"
        ):
            bl.pay_invoice(st, inv, call.ctx, at=at)
        return call.ok("invoice", inv)


@router.post("/v1/invoices/{iid}/pay")
def pay_invoice(request: Request, iid: str) -> Response:
    call = begin(request)
    p, st = call.params, call.state
    pm = p.text("payment_method")
    out_of_band = bool(p.boolean("paid_out_of_band"))
    p.ignore("forgive", "mandate", "off_session", "source")
    p.finish()
    with st.lock:
        inv = st.get("invoice", iid)
        at = st.customer_now(inv["customer"])
        pm_id = (
            bl.resolve_payment_method(st, pm, inv["customer"], param="payment_method")
            if pm
            else None
        )
        bl.pay_invoice(
            st,
            inv,
            call.ctx,
            at=at,
            payment_method=pm_id,
            paid_out_of_band=out_of_band,
            raise_on_failure=True,
        )
        return call.ok("invoice", inv)


class _InvoiceMove(Protocol):
    """A status change in ``_billing`` (void, mark uncollectible) that happens at ``at``."""

    def __call__(
        self, st: StripeState, inv: dict[str, Any], ctx: RequestContext, *, at: int
    ) -> None: ...


def _at_customer_time(move: _InvoiceMove) -> ObjectAction:
    """Run ``move`` at the invoice customer's time (its test clock's, if it has one)."""

    def act(call: Call, inv: dict[str, Any]) -> None:
        move(call.state, inv, call.ctx, at=call.state.customer_now(inv["customer"]))

    return act


@router.post("/v1/invoices/{iid}/void")
def void_invoice(request: Request, iid: str) -> Response:
    return begin(request).act("invoice", iid, _at_customer_time(bl.void_invoice))


@router.post("/v1/invoices/{iid}/mark_uncollectible")
def mark_uncollectible(request: Request, iid: str) -> Response:
    return begin(request).act("invoice", iid, _at_customer_time(bl.mark_uncollectible))


def _send(call: Call, inv: dict[str, Any]) -> None:
    """Only an open invoice the customer pays by themselves is sent (``invoice.sent``)."""
    if inv["status"] != "open" or inv["collection_method"] != "send_invoice":
        raise invalid_request(
            "You can only send open invoices with collection_method=send_invoice."
        )
    call.state.emit("invoice.sent", "invoice", inv, call.ctx)


@router.post("/v1/invoices/{iid}/send")
def send_invoice(request: Request, iid: str) -> Response:
    return begin(request).act("invoice", iid, _send)


@router.get("/v1/invoices/{iid}/lines")
def list_invoice_lines(request: Request, iid: str) -> Response:
    return _list_lines(request, "invoice", iid, f"/v1/invoices/{iid}/lines")


@router.get("/v1/invoices")
def list_invoices(request: Request) -> Response:
    call = begin(request)
    p = call.params
    customer = p.text("customer")
    subscription = p.text("subscription")
    status = p.choice("status", ("draft", "open", "paid", "uncollectible", "void"))
    collection = p.choice("collection_method", COLLECTION_METHODS)
    created = created_filter(p)
    p.ignore("due_date")

    def sub_of(inv: dict[str, Any]) -> str | None:
        details = (inv.get("parent") or {}).get("subscription_details") or {}
        return details.get("subscription")

    return call.list_where(
        "invoice",
        "/v1/invoices",
        lambda i: (
            fields_match(i, customer=customer, status=status, collection_method=collection)
            and (subscription is None or sub_of(i) == subscription)
            and created(i)
        ),
    )


# -- invoice items ---------------------------------------------------------------------------


@router.post("/v1/invoiceitems")
def create_invoice_item(request: Request) -> Response:
    call = begin(request)
    p, st = call.params, call.state
    customer_id = p.req_text("customer")
    amount = p.integer("amount")
    currency = p.text("currency")
    pricing = p.sub("pricing")
    price_id = pricing.text("price") if pricing else None
    quantity = p.integer("quantity", minimum=0)
    description = p.text("description")
    invoice_id = p.text("invoice")
    subscription_id = p.text("subscription")
    metadata = p.metadata()
    period = p.sub("period")
    start = period.integer("start", required=True) if period else None
    end = period.integer("end", required=True) if period else None
    p.ignore("discountable", "discounts", "tax_behavior", "tax_code", "tax_rates")
    if p.has("price_data") or p.has("unit_amount_decimal"):
        raise StripeAPIError(
            400,
            "The Syncwright sandbox supports `pricing[price]` or `amount` + `currency` only.",
            param="price_data",
            saved=False,
        )
    p.finish()
    if price_id is None and amount is None:
        raise parameter_missing("amount")
    with st.lock:
        customer = st.get("customer", customer_id, param="customer")
        price = st.get("price", price_id, param="pricing[price]") if price_id else None
        qty = quantity if quantity is not None else 1
        if price is not None:
            total = int(price["unit_amount"] or 0) * qty
            cur = price["currency"]
        else:
            assert amount is not None
            total = amount
            cur = (currency or customer["currency"] or "").lower()
            if not cur:
                raise parameter_missing("currency", saved=True)
        inv = st.get("invoice", invoice_id, param="invoice") if invoice_id else None
        if inv is not None and inv["status"] != "draft":
            raise invalid_request(
                "You can only add invoice items to draft invoices.", param="invoice"
            )
        if subscription_id:
            st.get("subscription", subscription_id, param="subscription")
        at = st.customer_now(customer_id)
        ii = ob.invoice_item(
            ob.new_id("ii"),
            at,
            amount=total,
            currency=cur,
            customer=customer_id,
            description=description,
            subscription=subscription_id,
            price=price,
            quantity=qty,
            metadata=initial_metadata(metadata),
            period_start=start if start is not None else at,
            period_end=end if end is not None else at,
            test_clock=customer["test_clock"],
        )
        st.put("invoiceitem", ii)
        if inv is not None:
            ii["invoice"] = inv["id"]
            before = st.render("invoice", inv)
            bl.add_line(st, inv, bl.invoice_item_line(st, ii))
            bl.emit_update(st, "invoice.updated", "invoice", inv, before, call.ctx)
        st.emit("invoiceitem.created", "invoiceitem", ii, call.ctx)
        return call.ok("invoiceitem", ii)


@router.get("/v1/invoiceitems/{iid}")
def retrieve_invoice_item(request: Request, iid: str) -> Response:
    return begin(request).retrieve("invoiceitem", iid)


def _editable_item(call: Call, iid: str) -> tuple[dict[str, Any], dict[str, Any] | None]:
    st = call.state
    ii = st.get("invoiceitem", iid)
    inv = st.find("invoice", ii["invoice"])
    if inv is not None and inv["status"] != "draft":
        raise invalid_request(
            "You can only modify invoice items that are pending or on a draft invoice."
        )
    return ii, inv


def _drop_line(call: Call, inv: dict[str, Any], iid: str) -> None:
    st = call.state
    st.invoice_lines[inv["id"]] = [
        line
        for line in st.invoice_lines[inv["id"]]
        if ((line["parent"] or {}).get("invoice_item_details") or {}).get("invoice_item") != iid
    ]
    bl.recompute_invoice(st, inv)


@router.post("/v1/invoiceitems/{iid}")
def update_invoice_item(request: Request, iid: str) -> Response:
    call = begin(request)
    p, st = call.params, call.state
    description_given = p.has("description")
    description = p.text("description")
    amount = p.integer("amount")
    quantity = p.integer("quantity", minimum=0)
    metadata = p.metadata()
    p.ignore("discountable", "discounts", "tax_behavior", "tax_code", "tax_rates", "period")
    p.finish()
    with st.lock:
        ii, inv = _editable_item(call, iid)
        before = st.render("invoiceitem", ii)
        if description_given:
            ii["description"] = description
        if quantity is not None:
            unit = ii["amount"] // max(int(ii["quantity"] or 1), 1)
            ii["quantity"] = quantity
            ii["quantity_decimal"] = str(quantity)
            ii["amount"] = ii["net_amount"] = unit * quantity
        if amount is not None:
            ii["amount"] = ii["net_amount"] = amount
        apply_metadata(ii["metadata"], metadata)
        if inv is not None:
            _drop_line(call, inv, iid)
            bl.add_line(st, inv, bl.invoice_item_line(st, ii))
        return call.updated("invoiceitem", ii, before)


@router.delete("/v1/invoiceitems/{iid}")
def delete_invoice_item(request: Request, iid: str) -> Response:
    call = begin(request)
    call.params.finish()
    st = call.state
    with st.lock:
        ii, inv = _editable_item(call, iid)
        if inv is not None:
            _drop_line(call, inv, iid)
        st.emit("invoiceitem.deleted", "invoiceitem", ii, call.ctx)
        st.remove("invoiceitem", iid)
        return json_response(deleted(iid, "invoiceitem"))


@router.get("/v1/invoiceitems")
def list_invoice_items(request: Request) -> Response:
    call = begin(request)
    p = call.params
    customer = p.text("customer")
    invoice = p.text("invoice")
    pending = p.boolean("pending")
    created = created_filter(p)
    return call.list_where(
        "invoiceitem",
        "/v1/invoiceitems",
        lambda i: (
            fields_match(i, customer=customer, invoice=invoice)
            and (pending is None or (i["invoice"] is None) == pending)
            and created(i)
        ),
    )


# -- credit notes ----------------------------------------------------------------------------


def _credit_lines(p: Params) -> list[cnotes.CreditLineSpec]:
    specs: list[cnotes.CreditLineSpec] = []
    for i, entry in enumerate(p.sub_list("lines") or []):
        kind = entry.choice("type", ("invoice_line_item", "custom_line_item"), required=True)
        assert kind is not None
        specs.append(
            cnotes.CreditLineSpec(
                kind=kind,
                invoice_line_item=entry.text("invoice_line_item"),
                amount=entry.integer("amount", minimum=0),
                quantity=entry.integer("quantity", minimum=0),
                unit_amount=entry.integer("unit_amount", minimum=0),
                description=entry.text("description"),
                param=f"lines[{i}]",
            )
        )
        entry.ignore("tax_rates", "tax_amounts", "metadata", "unit_amount_decimal")
    return specs


@router.post("/v1/credit_notes")
def create_credit_note(request: Request) -> Response:
    call = begin(request)
    p, st = call.params, call.state
    invoice_id = p.req_text("invoice")
    amount = p.integer("amount", minimum=0)
    lines = _credit_lines(p)
    reason = p.choice(
        "reason", ("duplicate", "fraudulent", "order_change", "product_unsatisfactory")
    )
    memo = p.text("memo")
    metadata = p.metadata()
    credit_amount = p.integer("credit_amount", minimum=0)
    refund_amount = p.integer("refund_amount", minimum=0)
    out_of_band = p.integer("out_of_band_amount", minimum=0)
    p.ignore("email_type", "effective_at", "shipping_cost", "refunds")
    p.finish()
    with st.lock:
        inv = st.get("invoice", invoice_id, param="invoice")
        cn = cnotes.create_credit_note(
            st,
            inv,
            call.ctx,
            amount=amount,
            lines=lines,
            reason=reason,
            memo=memo,
            metadata=initial_metadata(metadata),
            credit_amount=credit_amount,
            refund_amount=refund_amount,
            out_of_band_amount=out_of_band,
        )
        return call.ok("credit_note", cn)


@router.get("/v1/credit_notes/{cnid}")
def retrieve_credit_note(request: Request, cnid: str) -> Response:
    return begin(request).retrieve("credit_note", cnid)


@router.post("/v1/credit_notes/{cnid}")
def update_credit_note(request: Request, cnid: str) -> Response:
    call = begin(request)
    p, st = call.params, call.state
    memo_given = p.has("memo")
    memo = p.text("memo")
    metadata = p.metadata()
    p.finish()
    with st.lock:
        cn = st.get("credit_note", cnid)
        before = st.render("credit_note", cn)
        if memo_given:
            cn["memo"] = memo
        apply_metadata(cn["metadata"], metadata)
        return call.updated("credit_note", cn, before)


@router.post("/v1/credit_notes/{cnid}/void")
def void_credit_note(request: Request, cnid: str) -> Response:
    return begin(request).act(
        "credit_note", cnid, lambda call, cn: cnotes.void_credit_note(call.state, cn, call.ctx)
    )


@router.get("/v1/credit_notes/{cnid}/lines")
def list_credit_note_lines(request: Request, cnid: str) -> Response:
    return _list_lines(request, "credit_note", cnid, f"/v1/credit_notes/{cnid}/lines")


@router.get("/v1/credit_notes")
def list_credit_notes(request: Request) -> Response:
    call = begin(request)
    p = call.params
    customer = p.text("customer")
    invoice = p.text("invoice")
    created = created_filter(p)
    return call.list_where(
        "credit_note",
        "/v1/credit_notes",
        lambda c: fields_match(c, customer=customer, invoice=invoice) and created(c),
        kind_name="credit note",
    )
