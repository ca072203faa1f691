"""The ``data`` payloads of published change events, one class per event type version.

Each class is a *published contract*: once a version is released its JSON Schema is snapshotted
in ``schemas/`` and :mod:`syncwright.model.compat` refuses breaking edits. To change a payload
incompatibly, add a new class (``...V2``) and register it under a new ``.v2`` type; see
``docs/model.md``.

Payloads carry the full canonical state of the entity after the change, not a patch: a consumer
that missed an event (or replays one) can still act on it without reading any other system.
``changed_fields`` names what differs from the previous state syncwright held, so consumers that
care only about, say, a tier change can skip the rest cheaply.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import Field

from syncwright.model._base import CanonicalModel, GlobalId, Timestamp
from syncwright.model.billing import CreditNote, Invoice, Payment, Refund
from syncwright.model.commerce import Deal, Order
from syncwright.model.party import Account, Contact
from syncwright.model.subscription import Subscription
from syncwright.model.support import Entitlement, SupportCase

__all__ = [
    "AccountErpChangedV1",
    "AccountUpsertedV1",
    "CaseUpsertedV1",
    "ContactUpsertedV1",
    "CreditNoteIssuedV1",
    "DealClosedWonV1",
    "DealRenewalWonV1",
    "EntitlementChangedV1",
    "EventData",
    "InvoiceFinalizedV1",
    "InvoicePaidV1",
    "InvoicePaymentFailedV1",
    "OrderPlacedV1",
    "PaymentReceivedV1",
    "PaymentRefundedV1",
    "SubscriptionActivatedV1",
    "SubscriptionCancelledV1",
    "SubscriptionCreatedV1",
    "SubscriptionRenewedV1",
    "SubscriptionUpdatedV1",
]


class EventData(CanonicalModel):
    """Base of every event payload."""


class AccountUpsertedV1(EventData):
    account: Account
    changed_fields: tuple[str, ...] = ()


class AccountErpChangedV1(EventData):
    """The ERP changed facts of the account it owns (legal name, tax registration, credit
    status, payment terms); ``account`` is the canonical account with them applied."""

    account: Account
    changed_fields: tuple[str, ...] = ()


class ContactUpsertedV1(EventData):
    contact: Contact
    changed_fields: tuple[str, ...] = ()


class SubscriptionCreatedV1(EventData):
    subscription: Subscription


class SubscriptionActivatedV1(EventData):
    subscription: Subscription
    activated_at: Timestamp


class SubscriptionUpdatedV1(EventData):
    """Quantity, price, plan or schedule changed (an amendment)."""

    subscription: Subscription
    changed_fields: tuple[str, ...] = ()
    # The date the change takes effect, which may differ from when it was made (future-dated
    # amendments); downstream proration keys on it.
    effective_date: date | None = None


class SubscriptionRenewedV1(EventData):
    subscription: Subscription
    previous_term_end: date


class SubscriptionCancelledV1(EventData):
    subscription: Subscription
    cancelled_at: Timestamp
    # When service actually stops (end of period, or immediately).
    effective_date: date
    reason: str | None = None


class InvoiceFinalizedV1(EventData):
    invoice: Invoice


class InvoicePaidV1(EventData):
    invoice: Invoice
    paid_at: Timestamp
    payment_id: GlobalId | None = None


class InvoicePaymentFailedV1(EventData):
    invoice: Invoice
    attempt_count: Annotated[int, Field(ge=1)]
    failure_reason: str | None = None
    next_attempt_at: Timestamp | None = None


class PaymentReceivedV1(EventData):
    payment: Payment


class PaymentRefundedV1(EventData):
    refund: Refund


class CreditNoteIssuedV1(EventData):
    credit_note: CreditNote


class EntitlementChangedV1(EventData):
    entitlement: Entitlement
    # None when the entitlement is new.
    previous_tier: str | None = None
    changed_fields: tuple[str, ...] = ()


class OrderPlacedV1(EventData):
    order: Order


class DealClosedWonV1(EventData):
    deal: Deal


class DealRenewalWonV1(EventData):
    """A renewal deal of an existing customer won: the term it renews goes on, with the
    deal's lines (docs/lifecycle.md, "Renewal won in the CRM")."""

    deal: Deal


class CaseUpsertedV1(EventData):
    support_case: SupportCase
    changed_fields: tuple[str, ...] = ()
