"""Chargebee events -> canonical change events (a message translator).

A Chargebee event (a webhook body or an event read from the events API: the same JSON) goes in,
canonical :class:`~syncwright.model.events.ChangeEvent` envelopes come out. The only state
touched is the cross-reference, which turns Chargebee ids into global ids. Customers, invoices,
credit notes and payments are mapped by ``mappings/inbound.yaml``; subscriptions here.

Match-and-link: a customer or subscription syncwright created carries our global id in
``meta_data.syncwright_id``; it is linked before its id is resolved, so its events resolve to
*our* id even when the webhook arrives before the create step has linked it. Subscription items
have no id of their own in Chargebee: an item is ``<subscription id>:<item price id>``.

Every event of one customer carries ``entitykey = "account:<global id>"`` (one partition);
event ids are ``<connection>:<Chargebee event id>:<n>``, so normalizing again is deterministic.
Event types: https://apidocs.chargebee.com/docs/api/events#event_types
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, TypeVar

from pydantic import ValidationError

from syncwright.connectors import Delivery
from syncwright.errors import BusinessRuleError
from syncwright.mapping import CompiledMapping, or_shipped
from syncwright.model import (
    Account,
    BillingPeriod,
    BillingTiming,
    CanonicalModel,
    CreditNote,
    Invoice,
    Money,
    Payment,
    Subscription,
    SubscriptionStatus,
)
from syncwright.model.event_data import (
    AccountUpsertedV1,
    CreditNoteIssuedV1,
    EventData,
    InvoiceFinalizedV1,
    InvoicePaidV1,
    InvoicePaymentFailedV1,
    PaymentReceivedV1,
    SubscriptionActivatedV1,
    SubscriptionCancelledV1,
    SubscriptionCreatedV1,
    SubscriptionRenewedV1,
    SubscriptionUpdatedV1,
)
from syncwright.model.events import ChangeEvent, make_event
from syncwright.xref import CrossReference

__all__ = ["MAPPED_EVENT_TYPES", "SYNCWRIGHT_ID_KEY", "account_from_customer", "normalize"]

#: The ``meta_data`` key under which records syncwright creates carry their global id.
SYNCWRIGHT_ID_KEY = "syncwright_id"

M = TypeVar("M", bound=CanonicalModel)
JSON = dict[str, Any]

# https://apidocs.chargebee.com/docs/api/subscriptions#subscription_status
_STATUS = {
    "future": SubscriptionStatus.PENDING,
    "in_trial": SubscriptionStatus.TRIALING,
    "active": SubscriptionStatus.ACTIVE,
    # Cancels at the end of the term: still active until then.
    "non_renewing": SubscriptionStatus.ACTIVE,
    "paused": SubscriptionStatus.PAUSED,
    "cancelled": SubscriptionStatus.CANCELLED,
    "transferred": SubscriptionStatus.CANCELLED,
}


def _ts(value: int) -> datetime:
    return datetime.fromtimestamp(value, UTC)


def _day(value: int) -> date:
    return _ts(value).date()


def _invalid(delivery: Delivery, why: str) -> BusinessRuleError:
    return BusinessRuleError(
        f"Chargebee delivery {delivery.vendor_event_id} is not a usable event: {why}",
        code="chargebee.payload_invalid",
        remediation="Chargebee sent a payload of an unexpected shape (a webhook on API version "
        "v1?); set the webhook's API version to v2 in Chargebee, resend the event, or resolve "
        "this exception to discard it.",
    )


def _build(model: type[M], where: str, **fields: Any) -> M:
    try:
        return model(**fields)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or model.__name__}: {err['msg']}"
            for err in exc.errors()
        )
        raise BusinessRuleError(
            f"{where} does not make a valid canonical {model.__name__}: {problems}",
            code="chargebee.mapping_invalid",
            remediation=f"Correct {where} in Chargebee so that it satisfies the rule named in "
            "the message (Chargebee then sends an event that syncs it), or resolve this "
            "exception to discard this event.",
        ) from exc


@dataclass
class _Mapper:
    delivery: Delivery
    xref: CrossReference
    event: JSON
    default_subsidiary: str | None
    mapping: CompiledMapping
    events: list[ChangeEvent[Any]] = field(default_factory=list)

    @property
    def connection(self) -> str:
        return self.delivery.connection

    def gid(self, entity_type: str, native_id: str) -> str:
        return self.xref.resolve(entity_type, self.connection, native_id)

    def claim(self, entity_type: str, native_id: str, meta_data: Any) -> None:
        """Match-and-link (see the module doc); an existing link is never rewritten."""
        own = meta_data.get(SYNCWRIGHT_ID_KEY) if isinstance(meta_data, Mapping) else None
        if not isinstance(own, str) or not own.strip():
            return
        if self.xref.global_id_for(entity_type, self.connection, native_id) is None:
            self.xref.link(entity_type, own.strip(), self.connection, native_id)

    def content(self, name: str) -> JSON:
        found = (self.event.get("content") or {}).get(name)
        if not isinstance(found, dict) or not found.get("id"):
            raise _invalid(self.delivery, f"content.{name} is missing")
        return found

    def emit(self, event_type: str, data: EventData, *, subject: str, account_id: str) -> None:
        self.events.append(
            make_event(
                event_type,
                data,
                source=f"syncwright/{self.connection}",
                correlation_id=self.delivery.correlation_id,
                entity_key=f"account:{account_id}",
                subject=subject,
                event_id=f"{self.connection}:{self.event['id']}:{len(self.events)}",
                time=_ts(int(self.event.get("occurred_at") or 0)),
            )
        )

    def resolver(self) -> _Resolver:
        return _Resolver(self)


@dataclass(frozen=True)
class _Resolver:
    m: _Mapper

    def to_global(self, entity_type: str, native_id: str) -> str | None:
        return self.m.gid(entity_type, native_id)

    def to_native(self, entity_type: str, global_id: str) -> str | None:
        return self.m.xref.native_id_for(entity_type, global_id, self.m.connection)


# -- canonical records ---------------------------------------------------------------------


def _display_name(customer: Mapping[str, Any]) -> str | None:
    """Chargebee needs no name: the company, else first + last name, else the email."""
    person = " ".join(
        str(customer[k]).strip() for k in ("first_name", "last_name") if customer.get(k)
    )
    return customer.get("company") or person or customer.get("email")


def _account(m: _Mapper, customer: JSON) -> Account:
    m.claim("account", str(customer["id"]), customer.get("meta_data"))
    values = m.mapping.apply(
        "customer",
        {"customer": customer, "name": _display_name(customer)},
        options={"default_subsidiary": m.default_subsidiary},
        resolver=m.resolver(),
    )
    return _build(Account, f"Chargebee customer {customer['id']}", **values)


def _lines(lines: Any, currency: str, subscription_id: str | None) -> list[JSON]:
    """Line items with what the mapping needs beside them (see ``invoice_line``)."""
    out: list[JSON] = []
    for line in lines if isinstance(lines, list) else []:
        entry = {**line, "currency": currency}
        if str(line.get("entity_type", "")).endswith("_item_price") and line.get("entity_id"):
            entry["item_price_id"] = line["entity_id"]
            sub = line.get("subscription_id") or subscription_id
            if sub:
                entry["subscription_item"] = f"{sub}:{line['entity_id']}"
        out.append(entry)
    return out


def _discounts(doc: Mapping[str, Any]) -> int:
    entries = doc.get("discounts")
    return (
        sum(int(e.get("amount") or 0) for e in entries if isinstance(e, dict))
        if isinstance(entries, list)
        else 0
    )


def _invoice(m: _Mapper, inv: JSON) -> Invoice:
    record = {
        "invoice": {
            **inv,
            "line_items": _lines(
                inv.get("line_items"), inv["currency_code"], inv.get("subscription_id")
            ),
        },
        "discount_total": _discounts(inv),
        "tax_inclusive": inv.get("price_type") == "tax_inclusive",
    }
    values = m.mapping.apply("invoice", record, resolver=m.resolver())
    return _build(Invoice, f"Chargebee invoice {inv.get('id')}", **values)


def _credit_note(m: _Mapper, note: JSON) -> CreditNote:
    record = {
        "credit_note": {
            **note,
            "line_items": _lines(
                note.get("line_items"), note["currency_code"], note.get("subscription_id")
            ),
        },
        "discount_total": _discounts(note),
        "tax_total": int(note.get("total") or 0)
        - int(note.get("sub_total") or 0)
        + _discounts(note)
        if note.get("price_type") != "tax_inclusive"
        else 0,
        "tax_inclusive": note.get("price_type") == "tax_inclusive",
    }
    values = m.mapping.apply("credit_note", record, resolver=m.resolver())
    return _build(CreditNote, f"Chargebee credit note {note.get('id')}", **values)


def _payment(m: _Mapper, txn: JSON) -> Payment:
    currency = txn.get("currency_code")
    linked = [{**e, "currency": currency} for e in txn.get("linked_invoices") or []]
    values = m.mapping.apply(
        "payment", {"transaction": {**txn, "linked_invoices": linked}}, resolver=m.resolver()
    )
    return _build(Payment, f"Chargebee transaction {txn.get('id')}", **values)


def _subscription(m: _Mapper, sub: JSON) -> Subscription:
    where = f"Chargebee subscription {sub.get('id')}"
    sub_id = str(sub["id"])
    m.claim("subscription", sub_id, sub.get("meta_data"))
    items = [i for i in sub.get("subscription_items") or [] if isinstance(i, dict)]
    if not items:
        raise BusinessRuleError(
            f"{where} has no subscription_items (a Product Catalog 1.0 plan?)",
            code="chargebee.items_missing",
            remediation="syncwright maps Product Catalog 2.0 subscriptions (items model); "
            "migrate the subscription to item prices in Chargebee, or resolve this exception.",
        )
    currency = str(sub.get("currency_code") or "")
    plan = next((i for i in items if i.get("item_type") == "plan"), items[0])
    status = sub.get("status")
    if status not in _STATUS:
        raise _invalid(m.delivery, f"subscription status {status!r} is unknown")
    period = _build(
        BillingPeriod,
        where,
        unit=sub.get("billing_period_unit"),
        count=sub.get("billing_period") or 1,
    )
    start = sub.get("current_term_start") or sub.get("started_at") or sub.get("created_at")
    end = sub.get("current_term_end")
    account_id = m.gid("account", str(sub["customer_id"]))
    ended = status in ("cancelled", "transferred")
    canonical_items = [
        {
            "global_id": m.gid("subscription_item", f"{sub_id}:{item['item_price_id']}"),
            "price_id": m.gid("price", str(item["item_price_id"])),
            "quantity": item.get("quantity") or 1,
            "unit_amount": Money.of(int(item.get("unit_price") or 0), currency),
        }
        for item in items
    ]
    return _build(
        Subscription,
        where,
        global_id=m.gid("subscription", sub_id),
        account_id=account_id,
        plan_id=m.gid("price", str(plan["item_price_id"])),
        status=_STATUS[status],
        currency=currency,
        term_start=_day(int(start or 0)),
        # Cancelled the day it started (the term ended at once): no term end after its start.
        term_end=_day(int(end)) if end and _day(int(end)) > _day(int(start or 0)) else None,
        billing_frequency=period.frequency,
        billing_period=period,
        items=canonical_items,
        trial_end=_day(int(sub["trial_end"])) if sub.get("trial_end") else None,
        auto_renew=status not in ("non_renewing", "cancelled", "transferred"),
        cancel_at_period_end=status == "non_renewing",
        cancelled_at=_ts(int(sub["cancelled_at"])) if ended and sub.get("cancelled_at") else None,
        invoice_schedule={
            "frequency": period.frequency,
            "timing": BillingTiming.IN_ADVANCE,
            "anchor_date": _day(int(sub.get("started_at") or start or 0)),
            "next_invoice_date": _day(int(sub["next_billing_at"]))
            if sub.get("next_billing_at") and not ended
            else None,
            "net_days": int(sub.get("net_term_days") or 0),
        },
    )


# -- event handlers ------------------------------------------------------------------------


def _on_customer(m: _Mapper) -> None:
    account = _account(m, m.content("customer"))
    m.emit(
        "syncwright.account.upserted.v1",
        AccountUpsertedV1(account=account),
        subject=account.global_id,
        account_id=account.global_id,
    )


def _emit_subscription(m: _Mapper, event_type: str, data: EventData, sub: Subscription) -> None:
    m.emit(event_type, data, subject=sub.global_id, account_id=sub.account_id)


def _on_subscription_created(m: _Mapper) -> None:
    raw = m.content("subscription")
    sub = _subscription(m, raw)
    _emit_subscription(
        m, "syncwright.subscription.created.v1", SubscriptionCreatedV1(subscription=sub), sub
    )
    if raw.get("status") == "active":  # created active: no subscription_activated follows
        activated = _ts(int(raw.get("activated_at") or m.event["occurred_at"]))
        _emit_subscription(
            m,
            "syncwright.subscription.activated.v1",
            SubscriptionActivatedV1(subscription=sub, activated_at=activated),
            sub,
        )


def _on_subscription_activated(m: _Mapper) -> None:
    raw = m.content("subscription")
    sub = _subscription(m, raw)
    activated = _ts(int(raw.get("activated_at") or m.event["occurred_at"]))
    _emit_subscription(
        m,
        "syncwright.subscription.activated.v1",
        SubscriptionActivatedV1(subscription=sub, activated_at=activated),
        sub,
    )


def _on_subscription_changed(m: _Mapper) -> None:
    sub = _subscription(m, m.content("subscription"))
    # Chargebee does not say which attributes changed; subscription_changed is raised for item
    # and term changes (https://apidocs.chargebee.com/docs/api/events#event_types).
    _emit_subscription(
        m,
        "syncwright.subscription.updated.v1",
        SubscriptionUpdatedV1(subscription=sub, changed_fields=("items", "status")),
        sub,
    )


def _on_subscription_renewed(m: _Mapper) -> None:
    raw = m.content("subscription")
    sub = _subscription(m, raw)
    previous_end = _day(int(raw.get("current_term_start") or m.event["occurred_at"]))
    _emit_subscription(
        m,
        "syncwright.subscription.renewed.v1",
        SubscriptionRenewedV1(subscription=sub, previous_term_end=previous_end),
        sub,
    )


def _on_subscription_cancelled(m: _Mapper) -> None:
    raw = m.content("subscription")
    sub = _subscription(m, raw)
    cancelled = int(raw.get("cancelled_at") or m.event["occurred_at"])
    _emit_subscription(
        m,
        "syncwright.subscription.cancelled.v1",
        SubscriptionCancelledV1(
            subscription=sub,
            cancelled_at=_ts(cancelled),
            effective_date=_day(int(raw.get("current_term_end") or cancelled)),
            reason=raw.get("cancel_reason_code") or raw.get("cancel_reason"),
        ),
        sub,
    )


def _on_invoice_generated(m: _Mapper) -> None:
    invoice = _invoice(m, m.content("invoice"))
    m.emit(
        "syncwright.invoice.finalized.v1",
        InvoiceFinalizedV1(invoice=invoice),
        subject=invoice.global_id,
        account_id=invoice.account_id,
    )


def _on_payment_succeeded(m: _Mapper) -> None:
    raw = m.content("invoice")
    invoice = _invoice(m, raw)
    payment = _payment(m, m.content("transaction"))
    paid_at = invoice.paid_at or payment.received_at or _ts(int(m.event["occurred_at"]))
    if raw.get("status") == "paid":
        m.emit(
            "syncwright.invoice.paid.v1",
            InvoicePaidV1(invoice=invoice, paid_at=paid_at, payment_id=payment.global_id),
            subject=invoice.global_id,
            account_id=invoice.account_id,
        )
    m.emit(
        "syncwright.payment.received.v1",
        PaymentReceivedV1(payment=payment),
        subject=payment.global_id,
        account_id=payment.account_id,
    )


def _on_payment_failed(m: _Mapper) -> None:
    raw = m.content("invoice")
    invoice = _invoice(m, raw)
    txn = (m.event.get("content") or {}).get("transaction") or {}
    m.emit(
        "syncwright.invoice.payment_failed.v1",
        InvoicePaymentFailedV1(
            invoice=invoice,
            attempt_count=1,
            failure_reason=txn.get("error_text") if isinstance(txn, dict) else None,
            next_attempt_at=_ts(int(raw["next_retry_at"])) if raw.get("next_retry_at") else None,
        ),
        subject=invoice.global_id,
        account_id=invoice.account_id,
    )


def _on_credit_note_created(m: _Mapper) -> None:
    note = _credit_note(m, m.content("credit_note"))
    m.emit(
        "syncwright.credit_note.issued.v1",
        CreditNoteIssuedV1(credit_note=note),
        subject=note.global_id,
        account_id=note.account_id,
    )


_ROUTES: Mapping[str, Callable[[_Mapper], None]] = {
    "customer_created": _on_customer,
    "customer_changed": _on_customer,
    "subscription_created": _on_subscription_created,
    "subscription_activated": _on_subscription_activated,
    "subscription_changed": _on_subscription_changed,
    "subscription_renewed": _on_subscription_renewed,
    "subscription_cancelled": _on_subscription_cancelled,
    "invoice_generated": _on_invoice_generated,
    "payment_succeeded": _on_payment_succeeded,
    "payment_failed": _on_payment_failed,
    "credit_note_created": _on_credit_note_created,
}

#: The Chargebee event types mapped to canonical events; others are acknowledged and ignored.
MAPPED_EVENT_TYPES: tuple[str, ...] = tuple(_ROUTES)


def account_from_customer(
    customer: JSON,
    xref: CrossReference,
    *,
    connection: str,
    default_subsidiary: str | None = None,
    mapping: CompiledMapping | None = None,
) -> Account:
    """The canonical account for a customer read through the API (content enrichment)."""
    mapper = _Mapper(
        Delivery(
            inbox_id=0,
            connection=connection,
            vendor_event_id=f"read:{customer.get('id')}",
            event_type="customer.read",
            body="{}",
            correlation_id="read",
            received_at=datetime.now(UTC),
        ),
        xref,
        {"id": f"read:{customer.get('id')}", "occurred_at": 0, "content": {}},
        default_subsidiary,
        or_shipped(mapping, "chargebee", "inbound"),
    )
    return _account(mapper, customer)


def normalize(
    delivery: Delivery,
    xref: CrossReference,
    *,
    default_subsidiary: str | None = None,
    mapping: CompiledMapping | None = None,
) -> list[ChangeEvent[Any]]:
    """The canonical change events for one Chargebee event; ``[]`` for types not mapped.

    Raises :class:`~syncwright.errors.BusinessRuleError` (the dispatcher parks the delivery with
    its remediation) when the payload is malformed or cannot satisfy the canonical model.
    """
    try:
        payload = delivery.json()
    except ValueError as exc:
        raise _invalid(delivery, "the body is not JSON") from exc
    if not isinstance(payload, dict):
        raise _invalid(delivery, "the body is not a JSON object")
    handler = _ROUTES.get(str(payload.get("event_type")))
    if handler is None:
        return []
    if not payload.get("id") or not isinstance(payload.get("content"), dict):
        raise _invalid(delivery, "id or content is missing")
    if payload.get("api_version", "v2") != "v2":
        raise _invalid(delivery, f"api_version is {payload.get('api_version')}, not v2")
    mapper = _Mapper(
        delivery, xref, payload, default_subsidiary, or_shipped(mapping, "chargebee", "inbound")
    )
    handler(mapper)
    return mapper.events
