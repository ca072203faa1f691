"""Chargebee events -> canonical change events (a message translator).

A Chargebee event (a webhook body or an event read from the events API: the same JSON) goes in,
canonical :class:`~syncwright.model.events.ChangeEvent` envelopes come out. The only state
touched is the cross-reference, which turns Chargebee ids into global ids. Customers, invoices,
credit notes and payments are mapped by ``mappings/inbound.yaml``, subscriptions in Python
(both in :mod:`.records`).

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
from datetime import UTC, datetime
from typing import Any

from syncwright.connectors import Delivery
from syncwright.connectors.chargebee import records
from syncwright.connectors.chargebee.records import JSON, SYNCWRIGHT_ID_KEY, dunning_attempts
from syncwright.mapping import CompiledMapping, or_shipped
from syncwright.model import (
    Account,
    Subscription,
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
from syncwright.model.events import ChangeEvent
from syncwright.xref import CrossReference

__all__ = [
    "MAPPED_EVENT_TYPES",
    "SYNCWRIGHT_ID_KEY",
    "account_from_customer",
    "normalize",
    "subscription_from_object",
]

# -- event handlers ------------------------------------------------------------------------


def _on_customer(m: records.Mapper) -> None:
    account = records.account(m, m.content("customer"))
    m.emit(
        "syncwright.account.upserted.v1",
        AccountUpsertedV1(account=account),
        subject=account.global_id,
        account_id=account.global_id,
    )


def _emit_subscription(
    m: records.Mapper, event_type: str, data: EventData, sub: Subscription
) -> None:
    m.emit(event_type, data, subject=sub.global_id, account_id=sub.account_id)


def _on_subscription_created(m: records.Mapper) -> None:
    raw = m.content("subscription")
    sub = records.subscription(m, raw)
    _emit_subscription(
        m, "syncwright.subscription.created.v1", SubscriptionCreatedV1(subscription=sub), sub
    )
    if raw.get("status") == "active":  # created active: no subscription_activated follows
        _emit_activated(m, raw, sub)


def _on_subscription_activated(m: records.Mapper) -> None:
    raw = m.content("subscription")
    _emit_activated(m, raw, records.subscription(m, raw))


def _emit_activated(m: records.Mapper, raw: JSON, sub: Subscription) -> None:
    activated = records.ts(int(raw.get("activated_at") or m.event["occurred_at"]))
    _emit_subscription(
        m,
        "syncwright.subscription.activated.v1",
        SubscriptionActivatedV1(subscription=sub, activated_at=activated),
        sub,
    )


def _on_subscription_changed(m: records.Mapper) -> None:
    sub = records.subscription(m, m.content("subscription"))
    # Chargebee does not say which attributes changed; subscription_changed is raised for item
    # and term changes (https://apidocs.chargebee.com/docs/api/events#event_types).
    _emit_subscription(
        m,
        "syncwright.subscription.updated.v1",
        SubscriptionUpdatedV1(subscription=sub, changed_fields=("items", "status")),
        sub,
    )


def _on_cancellation_scheduled(m: records.Mapper) -> None:
    """Cancel at the term's end scheduled, or that schedule removed: the subscription stays
    active until then, so this is an amendment (as Stripe's ``cancel_at_period_end``)."""
    sub = records.subscription(m, m.content("subscription"))
    _emit_subscription(
        m,
        "syncwright.subscription.updated.v1",
        SubscriptionUpdatedV1(
            subscription=sub, changed_fields=("cancel_at_period_end", "auto_renew")
        ),
        sub,
    )


def _on_subscription_renewed(m: records.Mapper) -> None:
    raw = m.content("subscription")
    sub = records.subscription(m, raw)
    previous_end = records.day(int(raw.get("current_term_start") or m.event["occurred_at"]))
    _emit_subscription(
        m,
        "syncwright.subscription.renewed.v1",
        SubscriptionRenewedV1(subscription=sub, previous_term_end=previous_end),
        sub,
    )


def _on_subscription_cancelled(m: records.Mapper) -> None:
    raw = m.content("subscription")
    sub = records.subscription(m, raw)
    cancelled = int(raw.get("cancelled_at") or m.event["occurred_at"])
    _emit_subscription(
        m,
        "syncwright.subscription.cancelled.v1",
        SubscriptionCancelledV1(
            subscription=sub,
            cancelled_at=records.ts(cancelled),
            effective_date=records.day(int(raw.get("current_term_end") or cancelled)),
            reason=raw.get("cancel_reason_code") or raw.get("cancel_reason"),
        ),
        sub,
    )


def _on_invoice_generated(m: records.Mapper) -> None:
    invoice = records.invoice(m, m.content("invoice"))
    m.emit(
        "syncwright.invoice.finalized.v1",
        InvoiceFinalizedV1(invoice=invoice),
        subject=invoice.global_id,
        account_id=invoice.account_id,
    )


def _on_payment_succeeded(m: records.Mapper) -> None:
    raw = m.content("invoice")
    invoice = records.invoice(m, raw)
    payment = records.payment(m, m.content("transaction"))
    paid_at = invoice.paid_at or payment.received_at or records.ts(int(m.event["occurred_at"]))
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


def _on_payment_failed(m: records.Mapper) -> None:
    raw = m.content("invoice")
    invoice = records.invoice(m, raw)
    txn = (m.event.get("content") or {}).get("transaction") or {}
    m.emit(
        "syncwright.invoice.payment_failed.v1",
        InvoicePaymentFailedV1(
            invoice=invoice,
            attempt_count=max(1, dunning_attempts(raw)),
            failure_reason=txn.get("error_text") if isinstance(txn, dict) else None,
            next_attempt_at=records.ts(int(raw["next_retry_at"]))
            if raw.get("next_retry_at")
            else None,
        ),
        subject=invoice.global_id,
        account_id=invoice.account_id,
    )


def _on_credit_note_created(m: records.Mapper) -> None:
    note = records.credit_note(m, m.content("credit_note"))
    m.emit(
        "syncwright.credit_note.issued.v1",
        CreditNoteIssuedV1(credit_note=note),
        subject=note.global_id,
        account_id=note.account_id,
    )


_ROUTES: Mapping[str, Callable[[records.Mapper], None]] = {
    "customer_created": _on_customer,
    "customer_changed": _on_customer,
    "subscription_created": _on_subscription_created,
    "subscription_activated": _on_subscription_activated,
    "subscription_changed": _on_subscription_changed,
    "subscription_cancellation_scheduled": _on_cancellation_scheduled,
    "subscription_scheduled_cancellation_removed": _on_cancellation_scheduled,
    "subscription_renewed": _on_subscription_renewed,
    "subscription_cancelled": _on_subscription_cancelled,
    "invoice_generated": _on_invoice_generated,
    "payment_succeeded": _on_payment_succeeded,
    "payment_failed": _on_payment_failed,
    "credit_note_created": _on_credit_note_created,
}

#: The Chargebee event types mapped to canonical events; others are acknowledged and ignored.
MAPPED_EVENT_TYPES: tuple[str, ...] = tuple(_ROUTES)


def _read_mapper(
    resource: str,
    record: JSON,
    xref: CrossReference,
    connection: str,
    default_subsidiary: str | None,
    mapping: CompiledMapping | None,
) -> records.Mapper:
    """A mapping context for a record read through the API rather than sent in an event."""
    read_id = f"read:{record.get('id')}"
    return records.Mapper(
        Delivery(
            inbox_id=0,
            connection=connection,
            vendor_event_id=read_id,
            event_type=f"{resource}.read",
            body="{}",
            correlation_id="read",
            received_at=datetime.now(UTC),
        ),
        xref,
        {"id": read_id, "occurred_at": 0, "content": {}},
        default_subsidiary,
        or_shipped(mapping, "chargebee", "inbound"),
    )


def account_from_customer(
    customer: JSON,
    xref: CrossReference,
    *,
    connection: str,
    default_subsidiary: str | None = None,
    mapping: CompiledMapping | None = None,
) -> Account:
    """The canonical account for a customer read through the API (content enrichment)."""
    mapper = _read_mapper("customer", customer, xref, connection, default_subsidiary, mapping)
    return records.account(mapper, customer)


def subscription_from_object(
    subscription: JSON,
    xref: CrossReference,
    *,
    connection: str,
    mapping: CompiledMapping | None = None,
) -> Subscription:
    """The canonical subscription for one read through the API (content enrichment)."""
    mapper = _read_mapper("subscription", subscription, xref, connection, None, mapping)
    return records.subscription(mapper, subscription)


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
        raise records.invalid(delivery, "the body is not JSON") from exc
    if not isinstance(payload, dict):
        raise records.invalid(delivery, "the body is not a JSON object")
    handler = _ROUTES.get(str(payload.get("event_type")))
    if handler is None:
        return []
    if not payload.get("id") or not isinstance(payload.get("content"), dict):
        raise records.invalid(delivery, "id or content is missing")
    if payload.get("api_version", "v2") != "v2":
        raise records.invalid(delivery, f"api_version is {payload.get('api_version')}, not v2")
    mapper = records.Mapper(
        delivery, xref, payload, default_subsidiary, or_shipped(mapping, "chargebee", "inbound")
    )
    handler(mapper)
    return mapper.events
