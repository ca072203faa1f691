"""Stripe events -> canonical change events (a message translator).

Pure functions: a Stripe event (a webhook body or a polled event; both are the same JSON) goes
in, canonical :class:`~syncwright.model.events.ChangeEvent` envelopes come out. The only state
touched is the cross-reference store, which turns Stripe ids into global ids (minting them on
first sight). No HTTP: where an event lacks data (an invoice with more than ten lines), the
connector enriches the payload before it calls :func:`normalize` (content enricher).

Match-and-link: a Stripe object that syncwright created itself (``outbound.py``) carries our
global id in ``metadata.syncwright_id``; the mapper links the Stripe id to that global id before
resolving it (:meth:`_Mapper.claim`), so events about it resolve to *our* id -- no second global
id, no duplicate downstream record -- even when the webhook arrives before the create step has
linked it.

Every event derived from one Stripe customer carries ``entitykey = "account:<global id>"`` so
the runtime applies a customer's events in order (one queue partition) and different customers
in parallel. Event ids are deterministic (``<connection>:<stripe event id>:<n>``): normalizing
the same delivery again yields the same events.

Shapes: https://docs.stripe.com/api/events/types and the object pages linked from
``payloads.py``. The mapping table and its decisions are in this folder's ``README.md``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, Protocol, TypeVar

from pydantic import ValidationError

from syncwright.connectors import Delivery
from syncwright.connectors._base.steps import build_inbound
from syncwright.connectors.stripe import payloads as sp
from syncwright.errors import BusinessRuleError
from syncwright.mapping import CompiledMapping, or_shipped
from syncwright.model import (
    Account,
    BillingFrequency,
    BillingPeriod,
    BillingTiming,
    CanonicalModel,
    CreditNote,
    Invoice,
    InvoiceStatus,
    Money,
    Payment,
    Refund,
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
    PaymentRefundedV1,
    SubscriptionActivatedV1,
    SubscriptionCancelledV1,
    SubscriptionCreatedV1,
    SubscriptionRenewedV1,
    SubscriptionUpdatedV1,
)
from syncwright.model.events import ChangeEvent, make_event
from syncwright.model.money import CURRENCY_EXPONENTS
from syncwright.xref import CrossReference

__all__ = [
    "MAPPED_EVENT_TYPES",
    "SYNCWRIGHT_ID_KEY",
    "normalize",
    "stripe_frequency",
    "stripe_money",
    "stripe_period",
    "stripe_unit_amount",
]

#: The metadata key under which objects syncwright creates in Stripe carry their global id.
SYNCWRIGHT_ID_KEY = "syncwright_id"

M = TypeVar("M", bound=CanonicalModel)
S = TypeVar("S", bound=sp.StripeObject)

# Stripe keeps two decimals for ISK although ISO 4217 gives it none ("ISK will remain a
# two-decimal currency in the Stripe API": https://docs.stripe.com/currencies#special-cases).
# Every other currency syncwright knows has the same exponent at Stripe as in ISO 4217.
_STRIPE_EXPONENTS = {"ISK": 2}

# Stripe's terminal subscription statuses: no further invoice, no renewal
# (https://docs.stripe.com/billing/subscriptions/overview#subscription-statuses). How each
# status reads canonically is the inbound mapping's ``subscription_status`` value map.
_ENDED_STATUSES = frozenset({"canceled", "incomplete_expired"})

_INVOICE_STATUS = {
    "draft": InvoiceStatus.DRAFT,
    "open": InvoiceStatus.OPEN,
    "paid": InvoiceStatus.PAID,
    "void": InvoiceStatus.VOID,
    "uncollectible": InvoiceStatus.UNCOLLECTIBLE,
}


# When previous_attributes cannot be rebuilt into a whole previous object, these say which
# canonical fields a changed Stripe attribute touches.
_ACCOUNT_FIELDS: Mapping[str, tuple[str, ...]] = {
    "name": ("name",),
    "email": ("billing_email",),
    "currency": ("currency",),
    "address": ("bill_to",),
    "metadata": ("subsidiary",),
    "tax_ids": ("tax_ids",),
}
_SUBSCRIPTION_FIELDS: Mapping[str, tuple[str, ...]] = {
    "status": ("status",),
    "items": ("items",),
    "currency": ("currency",),
    "cancel_at_period_end": ("cancel_at_period_end", "auto_renew"),
    "cancel_at": ("auto_renew",),
    "canceled_at": ("cancelled_at",),
    "trial_end": ("trial_end",),
    "billing_cycle_anchor": ("invoice_schedule",),
    "days_until_due": ("invoice_schedule",),
}

_DECIMAL_INTEGER = re.compile(r"^-?\d+(\.0+)?$")


# -- small conversions ---------------------------------------------------------------------


def _ts(value: int) -> datetime:
    return datetime.fromtimestamp(value, UTC)


def _day(value: int) -> date:
    return _ts(value).date()


def _text(value: str | None) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def stripe_currency(code: str, where: str) -> str:
    """A Stripe currency as an ISO code syncwright carries (the ``stripe.currency`` transform)."""
    return _currency(code, where)


def _currency(code: str, where: str) -> str:
    upper = code.upper()
    if upper not in CURRENCY_EXPONENTS:
        raise BusinessRuleError(
            f"{where} is in currency {code!r}, which syncwright does not carry",
            code="stripe.currency_unsupported",
            remediation="Add the currency's ISO 4217 exponent to "
            "syncwright.model.CURRENCY_EXPONENTS (a deploy), then retry this exception.",
        )
    return upper


def _money(amount: int, currency: str, where: str) -> Money:
    """Stripe's integer amount (its minor units) as canonical Money (ISO 4217 minor units)."""
    code = _currency(currency, where)
    iso = CURRENCY_EXPONENTS[code]
    shift = _STRIPE_EXPONENTS.get(code, iso) - iso
    if shift:
        factor = 10**shift
        if amount % factor:
            raise BusinessRuleError(
                f"{where}: {amount} is not a whole amount of {code} in Stripe's two-decimal form",
                code="stripe.amount_fraction",
                remediation=f"{code} has no minor unit; correct the amount in Stripe to a whole "
                "number of units (a multiple of 100 in the API), then retry this exception.",
            )
        amount //= factor
    return Money.of(amount, code)


def stripe_decimal_minor(value: str | None) -> int | None:
    """``unit_amount_decimal`` as whole minor units, else None (the ``stripe.decimal_minor``
    transform)."""
    return _decimal_minor(value)


def _decimal_minor(value: str | None) -> int | None:
    """``unit_amount_decimal`` as an int when it is a whole number of minor units."""
    if value is None or not _DECIMAL_INTEGER.match(value.strip()):
        return None
    return int(Decimal(value.strip()))


def stripe_ref(value: object, what: str) -> str:
    """The id of an expandable reference (the ``stripe.ref`` transform)."""
    return _ref(value, what)


def _ref(value: object, what: str) -> str:
    found = sp.expandable_id(value)
    if not found:
        raise BusinessRuleError(
            f"{what} is missing from the Stripe payload",
            code="stripe.payload_invalid",
            remediation="Stripe sent an object without a reference syncwright needs; resend the "
            "event from the Stripe dashboard, or resolve this exception to discard it.",
        )
    return found


def _amount_sum(entries: object, key: str = "amount") -> int:
    if not isinstance(entries, list):
        return 0
    return sum(e[key] for e in entries if isinstance(e, dict) and isinstance(e.get(key), int))


def _taxes(extra: Mapping[str, Any], where: str) -> tuple[int, bool]:
    """(tax total, inclusive?) from ``total_taxes`` (Basil) or the older ``*tax_amounts``."""
    entries = extra.get("total_taxes") or extra.get("total_tax_amounts") or extra.get("tax_amounts")
    if not isinstance(entries, list) or not entries:
        return 0, False
    flags = []
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        if "tax_behavior" in entry:
            flags.append(entry.get("tax_behavior") == "inclusive")
        else:
            flags.append(bool(entry.get("inclusive")))
    if any(flags) and not all(flags):
        raise BusinessRuleError(
            f"{where} mixes tax-inclusive and tax-exclusive taxes",
            code="stripe.mixed_tax_behavior",
            remediation="The canonical model holds one tax behaviour per document; use one tax "
            "behaviour on the prices of this document in Stripe, or post it by hand and "
            "resolve this exception.",
        )
    return _amount_sum(entries), bool(flags) and all(flags)


def _int_extra(extra: Mapping[str, Any], key: str) -> int | None:
    value = extra.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _build(model: type[M], where: str, **fields: Any) -> M:
    return build_inbound(model, where, vendor="stripe", label="Stripe", **fields)


# -- the mapping context -------------------------------------------------------------------


class _AccountRecord(Protocol):
    """A canonical record that belongs to one account (subscription, invoice, payment, ...)."""

    @property
    def global_id(self) -> str: ...

    @property
    def account_id(self) -> str: ...


@dataclass
class _Mapper:
    delivery: Delivery
    xref: CrossReference
    event: sp.Event
    default_subsidiary: str | None
    # The connection's inbound mapping (its ``customer`` entity maps customers).
    mapping: CompiledMapping
    events: list[ChangeEvent[Any]] = field(default_factory=list)

    def gid(self, entity_type: str, native_id: str) -> str:
        return self.xref.resolve(entity_type, self.delivery.connection, native_id)

    def claim(self, entity_type: str, native_id: str, metadata: Mapping[str, Any] | None) -> None:
        """Match-and-link: an object syncwright created names its global id in
        ``metadata.syncwright_id``; link it before :meth:`gid` could mint another one. A
        native id already linked keeps its link (links are never rewritten)."""
        own = (metadata or {}).get(SYNCWRIGHT_ID_KEY)
        if not isinstance(own, str) or not own.strip():
            return
        connection = self.delivery.connection
        if self.xref.global_id_for(entity_type, connection, native_id) is None:
            self.xref.link(entity_type, own.strip(), connection, native_id)

    def account_id(self, customer: object) -> str:
        if isinstance(customer, sp.Customer):  # expanded: its metadata is at hand
            self.claim("account", customer.id, customer.metadata)
        return self.gid("account", _ref(customer, "the customer"))

    def emit(self, event_type: str, data: EventData, *, subject: str, account_id: str) -> None:
        connection = self.delivery.connection
        self.events.append(
            make_event(
                event_type,
                data,
                source=f"syncwright/{connection}",
                correlation_id=self.delivery.correlation_id,
                entity_key=f"account:{account_id}",
                subject=subject,
                # Deterministic, so re-normalizing one delivery yields the same events.
                event_id=f"{connection}:{self.event.id}:{len(self.events)}",
                time=_ts(self.event.created),
            )
        )

    def emit_about(self, record: _AccountRecord, event_type: str, data: EventData) -> None:
        """Emit an event about ``record``: it is the subject, and its account partitions it."""
        self.emit(event_type, data, subject=record.global_id, account_id=record.account_id)

    def previous(self, current: Mapping[str, Any]) -> dict[str, Any] | None:
        """The object as it was before an ``*.updated`` event, from ``previous_attributes``."""
        changes = self.event.data.previous_attributes
        if not changes:
            return None
        return _merge(current, changes)


def _merge(current: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    # Stripe sends the old value of each changed top-level attribute; for hashes it may send only
    # the changed keys (metadata: an added key's old value is null), so hashes merge key by key
    # and lists (``items``) are replaced whole.
    merged = dict(current)
    for key, old in changes.items():
        now = merged.get(key)
        if (
            isinstance(old, dict)
            and isinstance(now, dict)
            and old.get("object") != "list"
            and now.get("object") != "list"
        ):
            inner = _merge(now, old)
            if key == "metadata":
                inner = {k: v for k, v in inner.items() if v is not None}
            merged[key] = inner
        else:
            merged[key] = old
    return merged


def _changed(current: CanonicalModel, previous: CanonicalModel | None) -> tuple[str, ...]:
    if previous is None:
        return ()
    now, before = current.model_dump(), previous.model_dump()
    return tuple(k for k in now if k != "global_id" and now[k] != before.get(k))


def _changed_by_key(changes: Mapping[str, Any], table: Mapping[str, tuple[str, ...]]) -> list[str]:
    names: list[str] = []
    for key in changes:
        for name in table.get(key, ()):
            if name not in names:
                names.append(name)
    return names


def _rebuild(
    m: _Mapper, model: type[S], raw: Mapping[str, Any], build: Callable[[S], M]
) -> tuple[S, M] | None:
    """The previous Stripe object and its canonical form, or None when they cannot be built."""
    try:
        parsed = sp.parse_stripe_object(raw)
    except (ValidationError, sp.UnsupportedStripeObjectError):
        return None
    if not isinstance(parsed, model):
        return None
    try:
        return parsed, build(parsed)
    except BusinessRuleError:
        return None


def _before_update(
    m: _Mapper,
    model: type[S],
    build: Callable[[S], M],
    current: M,
    fields: Mapping[str, tuple[str, ...]],
) -> tuple[tuple[S, M] | None, tuple[str, ...]]:
    """The object before an ``*.updated`` event (Stripe's and canonical, when it can be rebuilt)
    and the canonical fields that changed.

    Called after ``current`` was built, so ids are resolved (or minted) in the same order on
    every delivery. Without ``previous_attributes`` nothing changed; when the previous object
    cannot be rebuilt, ``fields`` says which canonical fields the changed attributes touch.
    """
    previous_raw = m.previous(m.event.data.object)
    if previous_raw is None:
        return None, ()
    rebuilt = _rebuild(m, model, previous_raw, build)
    if rebuilt is not None:
        return rebuilt, _changed(current, rebuilt[1])
    changes = m.event.data.previous_attributes or {}
    return None, tuple(_changed_by_key(changes, fields))


# -- canonical records ---------------------------------------------------------------------


def stripe_address(address: sp.Address | None, where: str) -> dict[str, Any] | None:
    """A Stripe address as a canonical one (the ``stripe.address`` transform)."""
    if address is None or not (_text(address.line1) or _text(address.city)):
        # A country alone (kept for tax) or nothing at all: no postal address to bill to.
        return None
    if not (_text(address.line1) and _text(address.city) and _text(address.country)):
        raise BusinessRuleError(
            f"{where} has an incomplete address (line1, city and country are all needed)",
            code="stripe.address_incomplete",
            remediation=f"Complete the address of {where} in Stripe (line1, city, country); "
            "Stripe then sends customer.updated, which syncs it. Resolve this exception after.",
        )
    return {
        "line1": address.line1,
        "line2": _text(address.line2),
        "city": address.city,
        "region": _text(address.state),
        "postal_code": _text(address.postal_code),
        "country": (address.country or "").upper(),
    }


def stripe_tax_ids(listing: Any) -> list[dict[str, Any]]:
    """A customer's ``tax_ids`` list object as canonical tax ids (the ``stripe.tax_ids``
    transform). ``tax_ids`` is present only when the customer was retrieved with
    expand[]=tax_ids."""
    data = listing.get("data") if isinstance(listing, dict) else None
    found: list[dict[str, Any]] = []
    for item in data if isinstance(data, list) else []:
        if isinstance(item, dict) and item.get("type") and item.get("value"):
            country = item.get("country")
            found.append(
                {
                    "kind": item["type"],
                    "value": item["value"],
                    "country": country.upper() if isinstance(country, str) and country else None,
                }
            )
    return found


@dataclass(frozen=True)
class _ClaimingResolver:
    """Resolves ids for a mapping; an object whose metadata names our global id (``claims``:
    (entity type, Stripe id) -> metadata) is claimed first (match-and-link,
    :meth:`_Mapper.claim`), exactly when it is about to be resolved."""

    m: _Mapper
    claims: Mapping[tuple[str, str], Mapping[str, Any]] = field(default_factory=dict)

    def to_global(self, entity_type: str, native_id: str) -> str | None:
        metadata = self.claims.get((entity_type, native_id))
        if metadata is not None:
            self.m.claim(entity_type, native_id, metadata)
        return self.m.gid(entity_type, native_id)

    def to_native(self, entity_type: str, global_id: str) -> str | None:
        return self.m.xref.native_id_for(entity_type, global_id, self.m.delivery.connection)


def _customer_claims(customer: object) -> dict[tuple[str, str], Mapping[str, Any]]:
    """An expanded customer's metadata is at hand: claim it (see :meth:`_Mapper.account_id`)."""
    if isinstance(customer, sp.Customer):
        return {("account", customer.id): customer.metadata}
    return {}


def _account(m: _Mapper, customer: sp.Customer) -> Account:
    """By the ``customer`` entity of the connection's inbound mapping (shipped:
    ``mappings/inbound.yaml``, ``stripe_inbound@2``)."""
    where = f"Stripe customer {customer.id}"
    values = m.mapping.apply(
        "customer",
        customer.model_dump(mode="json"),
        options={"default_subsidiary": m.default_subsidiary},
        resolver=_ClaimingResolver(m, {("account", customer.id): customer.metadata}),
    )
    return _build(Account, where, **values)


def _unit_amount(price: sp.Price, where: str) -> int:
    if price.unit_amount is not None:
        return price.unit_amount
    whole = _decimal_minor(price.unit_amount_decimal)
    if whole is None:
        raise BusinessRuleError(
            f"{where} uses price {price.id}, which has no single unit amount "
            f"(billing_scheme {price.billing_scheme})",
            code="stripe.price_not_per_unit",
            remediation="Tiered, custom and fractional-cent prices are not synced by mapping "
            "stripe_inbound; use a per-unit price in Stripe, or post this subscription by hand and "
            "resolve this exception.",
        )
    return whole


def _billing_period(price: sp.Price, where: str) -> BillingPeriod:
    """Every interval Stripe allows (day, week, month, year, any count) is a canonical period;
    only a one-time price is none."""
    recurring = price.recurring
    if recurring is None:
        raise BusinessRuleError(
            f"{where} uses one-time price {price.id}; a subscription bills a recurring price",
            code="stripe.interval_unsupported",
            remediation="Move the subscription to a recurring price in Stripe, or resolve this "
            "exception to leave it unsynced.",
        )
    return _build(
        BillingPeriod,
        where,
        unit=recurring.interval,
        count=recurring.interval_count,
    )


def _frequency(price: sp.Price, where: str) -> BillingFrequency:
    return _billing_period(price, where).frequency


def _period(sub: sp.Subscription) -> tuple[int, int]:
    # Since API version Basil the current period lives on the items (they share it).
    items = sub.items.data
    return (
        min(i.current_period_start for i in items),
        max(i.current_period_end for i in items),
    )


def _subscription(m: _Mapper, sub: sp.Subscription) -> Subscription:
    """By the ``subscription`` entity of the connection's inbound mapping; the current period
    (on the items since API version Basil), whether the subscription renews, its next invoice
    and the billing timing are worked out here and handed in."""
    where = f"Stripe subscription {sub.id}"
    items = sub.items.data
    if not items or sub.items.has_more:
        raise BusinessRuleError(
            f"{where} carries {'no' if not items else 'a truncated list of'} items",
            code="stripe.items_incomplete",
            remediation="Stripe sent the subscription without its full item list; resend the "
            "event from the Stripe dashboard, or resolve this exception.",
        )
    start, end = _period(sub)
    ended = sub.status in _ENDED_STATUSES
    stops = sub.cancel_at_period_end or (sub.cancel_at is not None and sub.cancel_at <= end)
    # Metered items are billed for usage, in arrears; anything else in advance.
    metered = all(i.price.recurring and i.price.recurring.usage_type == "metered" for i in items)
    claims: dict[tuple[str, str], Mapping[str, Any]] = {
        ("subscription", sub.id): sub.metadata or {},
        **{("subscription_item", item.id): item.metadata or {} for item in items},
        **_customer_claims(sub.customer),
    }
    record = {
        "subscription": sub.model_dump(mode="json"),
        "period_start": start,
        "period_end": end,
        "renews": not ended and not stops,
        "next_invoice": None if ended or stops else end,
        "timing": BillingTiming.IN_ARREARS if metered else BillingTiming.IN_ADVANCE,
    }
    values = m.mapping.apply("subscription", record, resolver=_ClaimingResolver(m, claims))
    return _build(Subscription, where, **values)


def stripe_unit_amount(price: sp.Price, where: str) -> Money:
    """A per-unit price's amount as canonical Money (``BusinessRuleError`` for tiered, custom
    and fractional-cent prices)."""
    return _money(_unit_amount(price, where), price.currency, f"{where} price")


def _lines_complete(listing: sp.ListObject[Any], where: str) -> None:
    if listing.has_more:
        raise BusinessRuleError(
            f"{where} carries only the first {len(listing.data)} of its lines",
            code="stripe.lines_truncated",
            remediation="The connector fetches the remaining lines before mapping; this happens "
            "when that fetch was skipped. Retry this exception.",
        )


def _invoice(m: _Mapper, inv: sp.Invoice) -> Invoice:
    """By the ``invoice`` entity of the connection's inbound mapping; taxes, the discount, the
    issue date and the subscription are worked out here and handed in."""
    where = f"Stripe invoice {inv.id}"
    _lines_complete(inv.lines, where)
    extra = inv.model_extra or {}
    tax_total, inclusive = _taxes(extra, where)
    status = _INVOICE_STATUS[inv.status or "draft"]
    issued = _int_extra(extra, "effective_at") or inv.status_transitions.finalized_at
    if issued is None and status is not InvoiceStatus.DRAFT:
        issued = inv.created
    subscription = inv.subscription_id
    claims = _customer_claims(inv.customer)
    details = inv.parent.subscription_details if inv.parent is not None else None
    if subscription and details is not None:
        # The invoice carries its subscription's metadata: it may arrive before the subscription.
        claims[("subscription", subscription)] = details.metadata or {}
    record = {
        "invoice": inv.model_dump(mode="json"),
        "subscription_id": subscription or None,
        "tax_total": tax_total,
        "tax_inclusive": inclusive,
        "discount_total": _amount_sum(extra.get("total_discount_amounts")),
        "issued": issued,
    }
    values = m.mapping.apply("invoice", record, resolver=_ClaimingResolver(m, claims))
    return _build(Invoice, where, **values)


def _payment_reference(inv: sp.Invoice) -> str | None:
    """The PaymentIntent that paid the invoice, when the payload says (``payments`` expanded,
    or the pre-Basil ``payment_intent`` field)."""
    extra = inv.model_extra or {}
    payments = extra.get("payments")
    data = payments.get("data") if isinstance(payments, dict) else None
    for entry in data if isinstance(data, list) else []:
        payment = entry.get("payment") if isinstance(entry, dict) else None
        if isinstance(payment, dict) and entry.get("status") in (None, "paid"):
            found = sp.expandable_id(payment.get("payment_intent") or payment.get("charge"))
            if found:
                return found
    return sp.expandable_id(extra.get("payment_intent") or extra.get("charge"))


def _payment(m: _Mapper, inv: sp.Invoice, invoice: Invoice, paid_at: datetime) -> Payment:
    """By the ``payment`` entity of the connection's inbound mapping, from the paid invoice
    (canonical) and the reference of what paid it."""
    where = f"payment of Stripe invoice {inv.id}"
    record = {
        "stripe_invoice_id": inv.id,
        "invoice": invoice.model_dump(mode="json"),
        "settles": [invoice.model_dump(mode="json")],
        "paid_at": paid_at.isoformat(),
        "reference": _payment_reference(inv),
    }
    values = m.mapping.apply("payment", record, resolver=_ClaimingResolver(m))
    return _build(Payment, where, **values)


def _credit_note(m: _Mapper, cn: sp.CreditNote) -> CreditNote:
    """By the ``credit_note`` entity of the connection's inbound mapping; taxes, the discount
    and the issue date are worked out here and handed in."""
    where = f"Stripe credit note {cn.id}"
    _lines_complete(cn.lines, where)
    extra = cn.model_extra or {}
    tax_total, inclusive = _taxes(extra, where)
    record = {
        "credit_note": cn.model_dump(mode="json"),
        "tax_total": tax_total,
        "tax_inclusive": inclusive,
        "discount_total": _int_extra(extra, "discount_amount") or 0,
        "issued": cn.effective_at or cn.created,
    }
    values = m.mapping.apply(
        "credit_note", record, resolver=_ClaimingResolver(m, _customer_claims(cn.customer))
    )
    return _build(CreditNote, where, **values)


# -- event handlers ------------------------------------------------------------------------


def _on_customer(m: _Mapper, customer: sp.Customer) -> None:
    account = _account(m, customer)
    _, changed = _before_update(m, sp.Customer, lambda c: _account(m, c), account, _ACCOUNT_FIELDS)
    # Always emitted, even when no canonical field changed: an upsert is idempotent downstream,
    # and it bootstraps an account syncwright has not seen before. An account is its own
    # partition, so it is both the subject and the entity key.
    m.emit(
        "syncwright.account.upserted.v1",
        AccountUpsertedV1(account=account, changed_fields=changed),
        subject=account.global_id,
        account_id=account.global_id,
    )


def _on_subscription_created(m: _Mapper, sub: sp.Subscription) -> None:
    current = _subscription(m, sub)
    m.emit_about(
        current, "syncwright.subscription.created.v1", SubscriptionCreatedV1(subscription=current)
    )
    # Trialing is not activation: activation (the paid service) follows when the trial converts
    # (customer.subscription.updated trialing -> active).
    if sub.status == "active":
        activated = SubscriptionActivatedV1(subscription=current, activated_at=_ts(sub.start_date))
        m.emit_about(current, "syncwright.subscription.activated.v1", activated)


def _on_subscription_updated(m: _Mapper, sub: sp.Subscription) -> None:
    current = _subscription(m, sub)
    rebuilt, changed = _before_update(
        m, sp.Subscription, lambda s: _subscription(m, s), current, _SUBSCRIPTION_FIELDS
    )
    changes = m.event.data.previous_attributes or {}
    previous_status = changes.get("status", sub.status)
    explained: set[str] = set()

    if previous_status != "active" and sub.status == "active":
        # incomplete (first payment), trialing (trial converted), past_due/unpaid (recovered),
        # paused (resumed) -> active. The new term and schedule come with the activation.
        activated = SubscriptionActivatedV1(subscription=current, activated_at=_ts(m.event.created))
        m.emit_about(current, "syncwright.subscription.activated.v1", activated)
        explained |= {"status", "term_start", "term_end", "trial_end", "invoice_schedule"}
    elif sub.status == "active" and rebuilt is not None:
        before_start, before_end = _period(rebuilt[0])
        start, _ = _period(sub)
        # A renewal continues where the last period ended; a period that restarts mid-term
        # (an interval change resets the anchor) is an amendment instead.
        if start > before_start and start >= before_end:
            renewed = SubscriptionRenewedV1(
                subscription=current, previous_term_end=_day(before_end)
            )
            m.emit_about(current, "syncwright.subscription.renewed.v1", renewed)
            explained |= {"term_start", "term_end", "invoice_schedule"}

    rest = tuple(name for name in changed if name not in explained)
    # Changes to attributes the canonical model does not hold (latest_invoice, metadata,
    # default_payment_method, ...) start no amendment.
    if rest:
        updated = SubscriptionUpdatedV1(subscription=current, changed_fields=rest)
        m.emit_about(current, "syncwright.subscription.updated.v1", updated)


def _on_subscription_deleted(m: _Mapper, sub: sp.Subscription) -> None:
    current = _subscription(m, sub)
    cancelled = sub.canceled_at or sub.ended_at or m.event.created
    ended = sub.ended_at or cancelled
    details = sub.cancellation_details
    reason = (details.reason or details.feedback) if details is not None else None
    m.emit_about(
        current,
        "syncwright.subscription.cancelled.v1",
        SubscriptionCancelledV1(
            subscription=current,
            cancelled_at=_ts(cancelled),
            effective_date=_day(ended),
            reason=reason,
        ),
    )


def _on_invoice_finalized(m: _Mapper, inv: sp.Invoice) -> None:
    invoice = _invoice(m, inv)
    m.emit_about(invoice, "syncwright.invoice.finalized.v1", InvoiceFinalizedV1(invoice=invoice))


def _on_invoice_paid(m: _Mapper, inv: sp.Invoice) -> None:
    invoice = _invoice(m, inv)
    paid_at = invoice.paid_at or _ts(m.event.created)
    payment = _payment(m, inv, invoice, paid_at) if invoice.amount_paid.is_positive else None
    payment_id = payment.global_id if payment is not None else None
    paid = InvoicePaidV1(invoice=invoice, paid_at=paid_at, payment_id=payment_id)
    m.emit_about(invoice, "syncwright.invoice.paid.v1", paid)
    if payment is not None:
        # _payment gives the payment its invoice's account, so it lands in the same partition.
        m.emit_about(payment, "syncwright.payment.received.v1", PaymentReceivedV1(payment=payment))


def _on_invoice_payment_failed(m: _Mapper, inv: sp.Invoice) -> None:
    invoice = _invoice(m, inv)
    m.emit_about(
        invoice,
        "syncwright.invoice.payment_failed.v1",
        InvoicePaymentFailedV1(
            invoice=invoice,
            # The event is itself a failed attempt, so at least one was made.
            attempt_count=max(inv.attempt_count, 1),
            next_attempt_at=_ts(inv.next_payment_attempt) if inv.next_payment_attempt else None,
        ),
    )


def _on_credit_note_created(m: _Mapper, cn: sp.CreditNote) -> None:
    credit_note = _credit_note(m, cn)
    issued = CreditNoteIssuedV1(credit_note=credit_note)
    m.emit_about(credit_note, "syncwright.credit_note.issued.v1", issued)
    # A credit note issued with ``refund_amount``: the cash goes back too. The refund follows
    # the credit note in the partition, so the ERP's credit memo exists when it is booked.
    for entry in cn.refunds:
        native = sp.expandable_id(entry.refund)
        if not native or entry.amount_refunded <= 0:
            continue
        refund = Refund(
            global_id=m.gid("refund", native),
            account_id=credit_note.account_id,
            amount=_money(entry.amount_refunded, cn.currency, f"refund {native}"),
            invoice_id=credit_note.invoice_id,
            credit_note_id=credit_note.global_id,
            reason=cn.reason,
            refunded_at=_ts(cn.effective_at or cn.created),
            reference=native,
        )
        m.emit_about(refund, "syncwright.payment.refunded.v1", PaymentRefundedV1(refund=refund))


# Refunds that give nothing back (https://docs.stripe.com/api/refunds/object#refund_object-status).
_VOID_REFUND_STATUSES = frozenset({"failed", "canceled"})


def _on_charge_refunded(m: _Mapper, charge: sp.Charge) -> None:
    """Each refund of the charge -> ``payment.refunded.v1`` (one per Stripe refund, so a second
    partial refund re-delivers the first under the same global id: booked once downstream).
    The connector's content enricher lists the refunds and leaves out those a credit note was
    issued with (``_on_credit_note_created`` emits those)."""
    where = f"Stripe charge {charge.id}"
    if charge.customer is None:
        raise BusinessRuleError(
            f"{where} was refunded but belongs to no customer",
            code="stripe.refund_without_customer",
            remediation="Only refunds of a customer's payments reach the ERP and the CRM; "
            "resolve this exception to discard it.",
        )
    account_id = m.account_id(charge.customer)
    invoice_id = m.gid("invoice", charge.invoice) if charge.invoice else None
    listed = charge.refunds.data if charge.refunds is not None else []
    # Stripe lists newest first; oldest first here, so the CRM's "last refund" ends on the last.
    for found in sorted(reversed(listed), key=lambda r: r.created):
        if found.status in _VOID_REFUND_STATUSES:
            continue
        refund = Refund(
            global_id=m.gid("refund", found.id),
            account_id=account_id,
            amount=_money(found.amount, found.currency, f"Stripe refund {found.id}"),
            invoice_id=invoice_id,
            reason=found.reason,
            refunded_at=_ts(found.created),
            reference=found.id,
        )
        m.emit_about(refund, "syncwright.payment.refunded.v1", PaymentRefundedV1(refund=refund))


@dataclass(frozen=True)
class _Route:
    model: type[sp.StripeObject]
    handler: Callable[[_Mapper, Any], None]


_ROUTES: Mapping[str, _Route] = {
    "customer.created": _Route(sp.Customer, _on_customer),
    "customer.updated": _Route(sp.Customer, _on_customer),
    "customer.subscription.created": _Route(sp.Subscription, _on_subscription_created),
    "customer.subscription.updated": _Route(sp.Subscription, _on_subscription_updated),
    "customer.subscription.deleted": _Route(sp.Subscription, _on_subscription_deleted),
    "invoice.finalized": _Route(sp.Invoice, _on_invoice_finalized),
    "invoice.paid": _Route(sp.Invoice, _on_invoice_paid),
    "invoice.payment_failed": _Route(sp.Invoice, _on_invoice_payment_failed),
    "credit_note.created": _Route(sp.CreditNote, _on_credit_note_created),
    "charge.refunded": _Route(sp.Charge, _on_charge_refunded),
}

#: The Stripe event types the inbound mapping turns into canonical events; others are ignored.
MAPPED_EVENT_TYPES: tuple[str, ...] = tuple(_ROUTES)


def _invalid(delivery: Delivery, why: str) -> BusinessRuleError:
    return BusinessRuleError(
        f"Stripe delivery {delivery.vendor_event_id} is not a usable event: {why}",
        code="stripe.payload_invalid",
        remediation="Stripe sent a payload of an unexpected shape (an API version other than "
        "the pinned one?); check the webhook endpoint's API version in Stripe, resend the event, "
        "or resolve this exception to discard it.",
    )


def stripe_money(amount: int, currency: str, where: str) -> Money:
    """A Stripe integer amount as canonical Money (ISK's two Stripe decimals handled)."""
    return _money(amount, currency, where)


def stripe_frequency(price: sp.Price, where: str) -> BillingFrequency:
    """The canonical billing frequency of a recurring Stripe price (``BusinessRuleError`` for a
    one-time price)."""
    return _frequency(price, where)


def stripe_period(price: sp.Price, where: str) -> BillingPeriod:
    """The canonical billing period of a recurring Stripe price (``BusinessRuleError`` for a
    one-time price)."""
    return _billing_period(price, where)


def _parse(data: Mapping[str, Any], model: type[S], delivery: Delivery) -> S:
    try:
        parsed = sp.parse_stripe_object(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        raise _invalid(delivery, f"{data.get('object')} fields: {problems}") from exc
    except sp.UnsupportedStripeObjectError as exc:
        raise _invalid(delivery, str(exc)) from exc
    if not isinstance(parsed, model):
        raise _invalid(delivery, f"expected a {model.__name__}, got {type(parsed).__name__}")
    return parsed


def _read_mapper(
    obj: Mapping[str, Any],
    object_id: str,
    xref: CrossReference,
    *,
    connection: str,
    default_subsidiary: str | None,
    mapping: CompiledMapping | None,
) -> _Mapper:
    """A mapper for an object read through the API (enrichment), not delivered by an event."""
    return _Mapper(
        Delivery(
            inbox_id=0,
            connection=connection,
            vendor_event_id=f"read:{object_id}",
            event_type="object.read",
            body="{}",
            correlation_id="read",
            received_at=datetime.now(UTC),
        ),
        xref,
        sp.Event.model_validate(
            {
                "id": f"read:{object_id}",
                "object": "event",
                "type": "object.read",
                "created": 0,
                "data": {"object": dict(obj)},
            }
        ),
        default_subsidiary,
        or_shipped(mapping, "stripe", "inbound"),
    )


def account_from_customer(
    customer: Mapping[str, Any],
    xref: CrossReference,
    *,
    connection: str,
    default_subsidiary: str | None = None,
    mapping: CompiledMapping | None = None,
) -> Account:
    """The canonical account for a Stripe customer object read through the API (enrichment)."""
    parsed = sp.Customer.model_validate(customer)
    mapper = _read_mapper(
        customer,
        parsed.id,
        xref,
        connection=connection,
        default_subsidiary=default_subsidiary,
        mapping=mapping,
    )
    return _account(mapper, parsed)


def subscription_from_object(
    subscription: Mapping[str, Any],
    xref: CrossReference,
    *,
    connection: str,
    mapping: CompiledMapping | None = None,
) -> Subscription:
    """The canonical subscription for a Stripe subscription read through the API (with its
    items' prices expanded, as webhooks carry them)."""
    parsed = sp.Subscription.model_validate(subscription)
    mapper = _read_mapper(
        subscription,
        parsed.id,
        xref,
        connection=connection,
        default_subsidiary=None,
        mapping=mapping,
    )
    return _subscription(mapper, parsed)


def normalize(
    delivery: Delivery,
    xref: CrossReference,
    *,
    default_subsidiary: str | None = None,
    mapping: CompiledMapping | None = None,
) -> list[ChangeEvent[Any]]:
    """The canonical change events for one Stripe event; ``[]`` for types we do not map.

    Raises :class:`~syncwright.errors.BusinessRuleError` (the dispatcher parks the delivery with
    its remediation) when the payload is malformed or Stripe's data cannot satisfy the
    canonical model.
    """
    try:
        payload = delivery.json()
    except ValueError as exc:
        raise _invalid(delivery, "the body is not JSON") from exc
    if not isinstance(payload, dict):
        raise _invalid(delivery, "the body is not a JSON object")
    event_type = payload.get("type")
    route = _ROUTES.get(event_type) if isinstance(event_type, str) else None
    if route is None:
        return []  # Stripe sends far more than we sync: acknowledged and ignored.
    event = _parse(payload, sp.Event, delivery)
    obj = _parse(event.data.object, route.model, delivery)
    mapper = _Mapper(
        delivery, xref, event, default_subsidiary, or_shipped(mapping, "stripe", "inbound")
    )
    route.handler(mapper, obj)
    return mapper.events
