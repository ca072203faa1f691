"""Credit notes against open (pre-payment) and paid (post-payment) invoices.

Docs: https://docs.stripe.com/api/credit_notes,
https://docs.stripe.com/invoicing/dashboard/credit-notes. All functions run under ``st.lock``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from . import _objects as ob
from ._billing import (
    emit_update,
    mark_paid,
    recompute_invoice,
)
from ._errors import StripeAPIError, invalid_request, parameter_missing, resource_missing
from ._refunds import create_refund, invoice_charge
from ._state import RequestContext, StripeState

# -- credit notes ----------------------------------------------------------------------------


@dataclass
class CreditLineSpec:
    kind: str  # "invoice_line_item" | "custom_line_item"
    invoice_line_item: str | None = None
    amount: int | None = None
    quantity: int | None = None
    unit_amount: int | None = None
    description: str | None = None
    param: str = "lines"


def create_credit_note(
    st: StripeState,
    inv: dict[str, Any],
    ctx: RequestContext,
    *,
    amount: int | None,
    lines: list[CreditLineSpec],
    reason: str | None,
    memo: str | None,
    metadata: dict[str, str] | None,
    credit_amount: int | None,
    refund_amount: int | None,
    out_of_band_amount: int | None,
) -> dict[str, Any]:
    if inv["status"] not in ("open", "paid"):
        raise invalid_request(
            "Credit notes can only be issued for open or paid invoices; "
            f"this invoice is {inv['status']}.",
            param="invoice",
        )
    at = st.customer_now(inv["customer"])
    by_id = {line["id"]: line for line in st.invoice_lines.get(inv["id"], [])}
    cn_lines: list[dict[str, Any]] = []
    for spec in lines:
        if spec.kind == "invoice_line_item":
            src = by_id.get(spec.invoice_line_item or "")
            if src is None:
                raise resource_missing(
                    "invoice line item",
                    spec.invoice_line_item or "",
                    f"{spec.param}[invoice_line_item]",
                )
            if spec.amount is not None:
                value = spec.amount
            else:
                qty = spec.quantity if spec.quantity is not None else (src["quantity"] or 1)
                unit = src["amount"] // max(int(src["quantity"] or 1), 1)
                value = unit * qty
            cn_lines.append(
                ob.credit_note_line(
                    ob.new_id("cnli"),
                    amount=value,
                    kind="invoice_line_item",
                    description=src["description"],
                    quantity=spec.quantity if spec.quantity is not None else src["quantity"],
                    invoice_line_item=src["id"],
                    unit_amount=None,
                )
            )
        else:
            if spec.unit_amount is None:
                raise parameter_missing(f"{spec.param}[unit_amount]", saved=True)
            qty = spec.quantity if spec.quantity is not None else 1
            cn_lines.append(
                ob.credit_note_line(
                    ob.new_id("cnli"),
                    amount=spec.unit_amount * qty,
                    kind="custom_line_item",
                    description=spec.description,
                    quantity=qty,
                    invoice_line_item=None,
                    unit_amount=spec.unit_amount,
                )
            )
    total = sum(int(line["amount"]) for line in cn_lines)
    if amount is not None:
        if cn_lines and amount != total:
            raise StripeAPIError(
                400, "The amount must equal the sum of the line amounts.", param="amount"
            )
        if not cn_lines:
            cn_lines.append(
                ob.credit_note_line(
                    ob.new_id("cnli"),
                    amount=amount,
                    kind="custom_line_item",
                    description=memo or "Credit",
                    quantity=1,
                    invoice_line_item=None,
                    unit_amount=amount,
                )
            )
            total = amount
    if not cn_lines:
        raise StripeAPIError(400, "You must pass either `amount` or `lines`.", param="amount")
    if total <= 0:
        raise StripeAPIError(400, "The credit note amount must be greater than 0.", param="amount")
    kind = "pre_payment" if inv["status"] == "open" else "post_payment"
    if kind == "pre_payment":
        creditable = int(inv["amount_remaining"])
    else:
        creditable = int(inv["amount_paid"]) - int(inv["post_payment_credit_notes_amount"])
    if total > creditable:
        raise StripeAPIError(
            400,
            f"The credit note amount ({total}) exceeds the amount that can still be credited on "
            f"this invoice ({creditable}).",
            param="amount",
        )
    if kind == "post_payment":
        given = [v for v in (credit_amount, refund_amount, out_of_band_amount) if v is not None]
        if not given:
            credit_amount = total
        elif sum(given) != total:
            raise StripeAPIError(
                400,
                "The sum of credit amount, refund amount and out of band amount must equal the "
                "credit note amount.",
                param="amount",
            )
    count = sum(1 for cn in st.objects["credit_note"].values() if cn["invoice"] == inv["id"])
    cn = ob.credit_note(
        ob.new_id("cn"),
        at,
        amount=total,
        currency=inv["currency"],
        customer=inv["customer"],
        invoice=inv["id"],
        number=f"{inv['number']}-CN-{count + 1:02d}",
        type=kind,
        reason=reason,
        memo=memo,
        metadata=metadata,
        out_of_band_amount=out_of_band_amount if kind == "post_payment" else None,
    )
    st.put("credit_note", cn)
    st.credit_note_lines[cn["id"]] = cn_lines
    st.credit_note_split[cn["id"]] = {"credit": credit_amount or 0, "refund": refund_amount or 0}
    if refund_amount:
        # The refund goes back on the invoice's charge (refund.created, charge.refunded), as
        # Stripe does; an invoice paid out of band has no charge, only the refund's record.
        charge = invoice_charge(st, inv["id"])
        refund_id = (
            create_refund(st, charge, ctx, amount=refund_amount)["id"]
            if charge is not None
            else ob.new_id("re")
        )
        cn["refunds"] = [
            {
                "amount_refunded": refund_amount,
                "payment_record_refund": None,
                "refund": refund_id,
                "type": "refund",
            }
        ]
    before_inv = st.render("invoice", inv)
    if kind == "pre_payment":
        inv["pre_payment_credit_notes_amount"] = int(inv["pre_payment_credit_notes_amount"]) + total
    else:
        inv["post_payment_credit_notes_amount"] = (
            int(inv["post_payment_credit_notes_amount"]) + total
        )
    recompute_invoice(st, inv)
    st.emit("credit_note.created", "credit_note", cn, ctx)
    emit_update(st, "invoice.updated", "invoice", inv, before_inv, ctx)
    if kind == "post_payment" and credit_amount:
        _adjust_balance(st, inv["customer"], -credit_amount, ctx)
    if kind == "pre_payment" and inv["amount_remaining"] == 0:
        mark_paid(st, inv, ctx, at=at)
    return cn


def _adjust_balance(st: StripeState, customer_id: str, delta: int, ctx: RequestContext) -> None:
    customer = st.find("customer", customer_id)
    if customer is None:
        return
    before = st.render("customer", customer)
    customer["balance"] = int(customer["balance"]) + delta
    emit_update(st, "customer.updated", "customer", customer, before, ctx)


def void_credit_note(st: StripeState, cn: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
    if cn["status"] == "void":
        raise invalid_request("This credit note has already been voided.")
    inv = st.get("invoice", cn["invoice"])
    if inv["status"] != "open" and cn["type"] == "pre_payment":
        raise invalid_request(
            "You can only void a pre-payment credit note while its invoice is open."
        )
    split = st.credit_note_split.get(cn["id"], {})
    if cn["type"] == "post_payment" and split.get("refund"):
        raise invalid_request("A credit note that refunded a payment cannot be voided.")
    at = st.customer_now(cn["customer"])
    cn["status"] = "void"
    cn["voided_at"] = at
    before_inv = st.render("invoice", inv)
    if cn["type"] == "pre_payment":
        inv["pre_payment_credit_notes_amount"] = int(inv["pre_payment_credit_notes_amount"]) - int(
            cn["amount"]
        )
    else:
        inv["post_payment_credit_notes_amount"] = int(
            inv["post_payment_credit_notes_amount"]
        ) - int(cn["amount"])
        if split.get("credit"):
            _adjust_balance(st, cn["customer"], int(split["credit"]), ctx)
    recompute_invoice(st, inv)
    st.emit("credit_note.voided", "credit_note", cn, ctx)
    emit_update(st, "invoice.updated", "invoice", inv, before_inv, ctx)
    return cn
