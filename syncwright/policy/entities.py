"""Which canonical entity a change event is about, and field-level digests of entity JSON.

The policy works on the JSON form of events (what the dispatcher hands to workflows), so it
needs, per event type, the domain (``account``, ``case``, ...) and the key of the entity inside
``data`` (``account``, ``support_case``, ...). Both follow from the registered data models.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from syncwright.ledger import request_digest
from syncwright.model import EVENT_TYPES, Account, Contact, Deal, Entity
from syncwright.model.billing import CreditNote, Invoice, Payment
from syncwright.model.catalog import Price, Product
from syncwright.model.commerce import Contract, Order
from syncwright.model.subscription import Subscription
from syncwright.model.support import Entitlement, SupportCase

__all__ = [
    "DOMAIN_MODELS",
    "STATE_EVENT_TYPES",
    "EventSubject",
    "event_subject",
    "field_digests",
    "value_digest",
]

# Domain (``ownership:`` key) -> the canonical entity it governs.
DOMAIN_MODELS: Mapping[str, type[Entity]] = {
    "account": Account,
    "contact": Contact,
    "deal": Deal,
    "product": Product,
    "price": Price,
    "subscription": Subscription,
    "contract": Contract,
    "order": Order,
    "invoice": Invoice,
    "payment": Payment,
    "credit_note": CreditNote,
    "entitlement": Entitlement,
    "case": SupportCase,
}

# Events that report "the entity is now like this": one whose entity is unchanged says nothing
# new. Every other type reports a transition (activated, paid, ...), which is new the first time
# it arrives for a given state of the entity, even when the fields equal an earlier event's.
STATE_EVENT_TYPES = frozenset(
    {
        "syncwright.account.upserted.v1",
        "syncwright.account.erp_changed.v1",
        "syncwright.contact.upserted.v1",
        "syncwright.subscription.updated.v1",
        "syncwright.entitlement.changed.v1",
        "syncwright.case.upserted.v1",
    }
)


@dataclass(frozen=True)
class EventSubject:
    domain: str
    data_key: str  # the entity's key inside ``data``
    has_changed_fields: bool


@functools.cache
def event_subject(event_type: str) -> EventSubject | None:
    """The entity an event type is about; None for a type the policy does not govern."""
    model = EVENT_TYPES.get(event_type)
    if model is None:
        return None
    domain = event_type.split(".")[1]
    entity_model = DOMAIN_MODELS.get(domain)
    for name, info in model.model_fields.items():
        if entity_model is not None and info.annotation is entity_model:
            return EventSubject(domain, name, "changed_fields" in model.model_fields)
    return None


def value_digest(value: Any) -> str:
    """The digest of one canonical field value in its JSON form."""
    return request_digest(value)


def field_digests(entity: Mapping[str, Any]) -> dict[str, str]:
    """Field name -> digest of its value, for every field but the identity."""
    return {name: value_digest(value) for name, value in entity.items() if name != "global_id"}
