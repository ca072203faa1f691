"""Chargebee records -> canonical records: the mapping context (cross-reference lookups,
match-and-link by ``meta_data.syncwright_id``, event emission) and one builder per resource.
Customers, invoices, credit notes and payments go through ``mappings/inbound.yaml``;
subscriptions are built here (status, terms and the plan item need rules a declaration cannot
say). Used by :mod:`syncwright.connectors.chargebee.inbound`.
https://apidocs.chargebee.com/docs/api (resource attributes)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, TypeVar

from syncwright.connectors import Delivery
from syncwright.connectors._base.steps import build_inbound
from syncwright.errors import BusinessRuleError
from syncwright.mapping import CompiledMapping
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
    EventData,
)
from syncwright.model.events import ChangeEvent, make_event
from syncwright.xref import CrossReference

__all__ = [
    "SYNCWRIGHT_ID_KEY",
    "Mapper",
    "account",
    "credit_note",
    "dunning_attempts",
    "invoice",
    "payment",
    "subscription",
]

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


def ts(value: int) -> datetime:
    return datetime.fromtimestamp(value, UTC)


def day(value: int) -> date:
    return ts(value).date()


def dunning_attempts(invoice: Mapping[str, Any]) -> int:
    """How many collection attempts of ``invoice`` failed: its ``dunning_attempts`` list, or 1
    for an invoice in dunning whose attempts Chargebee did not list (dunning started)."""
    attempts = invoice.get("dunning_attempts")
    if isinstance(attempts, list) and attempts:
        return len(attempts)
    return 1 if invoice.get("dunning_status") in ("in_progress", "exhausted") else 0


def invalid(delivery: Delivery, why: str) -> BusinessRuleError:
    return BusinessRuleError(
        f"Chargebee delivery {delivery.vendor_event_id} is not a usable event: {why}",
        code="chargebee.payload_invalid",
        remediation="Chargebee sent a payload of an unexpected shape (a webhook on API version "
        "v1?); set the webhook's API version to v2 in Chargebee, resend the event, or resolve "
        "this exception to discard it.",
    )


def _build(model: type[M], where: str, **fields: Any) -> M:
    return build_inbound(model, where, vendor="chargebee", label="Chargebee", **fields)


@dataclass
class Mapper:
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
            raise invalid(self.delivery, f"content.{name} is missing")
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
                time=ts(int(self.event.get("occurred_at") or 0)),
            )
        )

    def resolver(self) -> _Resolver:
        return _Resolver(self)


@dataclass(frozen=True)
class _Resolver:
    m: Mapper

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


def account(m: Mapper, customer: JSON) -> Account:
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


def invoice(m: Mapper, inv: JSON) -> Invoice:
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


def credit_note(m: Mapper, note: JSON) -> CreditNote:
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


def payment(m: Mapper, txn: JSON) -> Payment:
    currency = txn.get("currency_code")
    linked = [{**e, "currency": currency} for e in txn.get("linked_invoices") or []]
    values = m.mapping.apply(
        "payment", {"transaction": {**txn, "linked_invoices": linked}}, resolver=m.resolver()
    )
    return _build(Payment, f"Chargebee transaction {txn.get('id')}", **values)


def subscription(m: Mapper, sub: JSON) -> Subscription:
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
        raise invalid(m.delivery, f"subscription status {status!r} is unknown")
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
        term_start=day(int(start or 0)),
        # Cancelled the day it started (the term ended at once): no term end after its start.
        term_end=day(int(end)) if end and day(int(end)) > day(int(start or 0)) else None,
        billing_frequency=period.frequency,
        billing_period=period,
        items=canonical_items,
        trial_end=day(int(sub["trial_end"])) if sub.get("trial_end") else None,
        auto_renew=status not in ("non_renewing", "cancelled", "transferred"),
        cancel_at_period_end=status == "non_renewing",
        cancelled_at=ts(int(sub["cancelled_at"])) if ended and sub.get("cancelled_at") else None,
        invoice_schedule={
            "frequency": period.frequency,
            "timing": BillingTiming.IN_ADVANCE,
            "anchor_date": day(int(sub.get("started_at") or start or 0)),
            "next_invoice_date": day(int(sub["next_billing_at"]))
            if sub.get("next_billing_at") and not ended
            else None,
            "net_days": int(sub.get("net_term_days") or 0),
        },
    )
