"""HubSpot webhook batches (and polled deals) -> canonical change events (a message translator).

A delivery is what HubSpot POSTs: a JSON array of events
(https://developers.hubspot.com/docs/api/webhooks; fields in ../shared/vendor/hubspot/
webhook-payload.fields.txt)::

    [{"eventId", "subscriptionId", "portalId", "appId", "occurredAt", "subscriptionType":
      "deal.propertyChange", "attemptNumber", "objectId", "propertyName": "dealstage",
      "propertyValue": "closedwon", "changeSource": "CRM_UI"}, ...]

An event says *that* a company or deal changed, so the record is read fresh through the client
(a *content enricher*) and mapped with ``mappings/inbound.yaml`` (``hubspot_inbound@1``):

- ``company.creation``, and ``company.propertyChange`` of a property that feeds the canonical
  account (:data:`COMPANY_PROPERTY_MAP`) -> ``syncwright.account.upserted.v1``. The billing
  properties syncwright writes feed none, so our own writes coming back start nothing.
- ``contact.creation`` and ``contact.propertyChange`` of a property that feeds the canonical
  contact (:data:`CONTACT_PROPERTY_MAP`) -> the contact with its primary company ->
  ``syncwright.contact.upserted.v1``.
- ``deal.creation`` and ``deal.propertyChange`` of ``dealstage`` to a won stage -> the deal,
  its primary company, first contact and line items -> ``syncwright.deal.closed_won.v1`` (when
  the fresh read is still won).

Several events about one record in a batch are read once. Event ids are deterministic
(``<connection>:<vendor event id>:<n>``), so normalizing a delivery again yields the same events.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import ValidationError

from syncwright.connectors import Delivery, WebhookIdentity
from syncwright.connectors.hubspot.transforms import mapping_error
from syncwright.errors import BusinessRuleError
from syncwright.mapping import CompiledMapping, XrefResolver, or_shipped
from syncwright.model import Account, Contact, Deal, DealStage
from syncwright.model.event_data import (
    AccountUpsertedV1,
    ContactUpsertedV1,
    DealClosedWonV1,
    EventData,
)
from syncwright.model.events import ChangeEvent, make_event
from syncwright.xref import CrossReference

if TYPE_CHECKING:
    from syncwright.connectors.hubspot.client import HubSpotClient

__all__ = [
    "COMPANY_PROPERTY_MAP",
    "CONTACT_PROPERTY_MAP",
    "DEFAULT_WON_STAGES",
    "HubSpotReader",
    "InboundOptions",
    "account_from_record",
    "contact_from_record",
    "deal_from_records",
    "identify",
    "normalize",
]

log = logging.getLogger(__name__)
M = TypeVar("M", Account, Contact, Deal)

DEFAULT_WON_STAGES: tuple[str, ...] = ("closedwon",)
DEFAULT_LEGAL_ENTITY_PROPERTY = "legal_entity"
PRIMARY_DEAL_COMPANY = 5  # HUBSPOT_DEFINED association type "Primary" deal -> company

# Company properties that feed the canonical account -> the field each one feeds.
COMPANY_PROPERTY_MAP: Mapping[str, str] = {
    "name": "name",
    "address": "bill_to",
    "address2": "bill_to",
    "city": "bill_to",
    "state": "bill_to",
    "zip": "bill_to",
    "country": "bill_to",
    "website": "website",
    "domain": "website",
    "hs_parent_company_id": "parent_account_id",
}
# Contact properties that feed the canonical contact.
CONTACT_PROPERTY_MAP: Mapping[str, str] = {
    "email": "email",
    "firstname": "first_name",
    "lastname": "last_name",
    "phone": "phone",
    "jobtitle": "title",
    "syncwright_contact_roles": "roles",
}
PRIMARY_CONTACT_COMPANY = 1  # HUBSPOT_DEFINED "Primary" contact -> company
_COMPANY_READ = (*COMPANY_PROPERTY_MAP, "hs_object_id")
_DEAL_READ = (
    "dealname",
    "dealstage",
    "pipeline",
    "amount",
    "closedate",
    "deal_currency_code",
    "hs_is_closed",
    "hs_is_closed_won",
    "hs_lastmodifieddate",
)
_LINE_READ = (
    "name",
    "description",
    "hs_product_id",
    "quantity",
    "price",
    "amount",
    "discount",
    "hs_discount_percentage",
    "hs_recurring_billing_start_date",
)


@dataclass(frozen=True)
class InboundOptions:
    """The connection options the mapping reads (see the README for each)."""

    default_currency: str | None = None
    default_subsidiary: str | None = None
    legal_entity_property: str = DEFAULT_LEGAL_ENTITY_PROPERTY
    won_stages: tuple[str, ...] = DEFAULT_WON_STAGES

    def mapped_properties(self) -> dict[str, str]:
        return {**COMPANY_PROPERTY_MAP, self.legal_entity_property: "subsidiary"}


# -- reading HubSpot (the content enricher) ----------------------------------------------------


@dataclass
class HubSpotReader:
    """Reads the current company, or deal with its associations, through the client, asking
    only for properties the portal defines."""

    client: HubSpotClient
    options: InboundOptions = field(default_factory=InboundOptions)
    mapping: CompiledMapping | None = None

    def _props(self, object_type: str, wanted: Iterable[str]) -> list[str]:
        known = self.client.property_names(object_type)
        return [p for p in wanted if p in known]

    def company(self, company_id: str) -> dict[str, Any]:
        wanted = (*_COMPANY_READ, self.options.legal_entity_property)
        return self.client.get("companies", company_id, self._props("companies", wanted))

    def _primary(self, from_type: str, object_id: str, to_type: str, primary: int) -> str | None:
        """The associated record labelled primary, else the first one, else None."""
        found = self.client.associations(from_type, object_id, to_type)
        labelled = [
            a
            for a in found
            if any(t.get("typeId") == primary for t in a.get("associationTypes") or [])
        ]
        chosen = (labelled or found)[0] if found else None
        return str(chosen["toObjectId"]) if chosen else None

    def contact(self, contact_id: str) -> dict[str, Any]:
        """``{"contact", "company"}`` (the mapping's contact record)."""
        record = self.client.get(
            "contacts", contact_id, self._props("contacts", CONTACT_PROPERTY_MAP)
        )
        company = self._primary("contacts", contact_id, "companies", PRIMARY_CONTACT_COMPANY)
        return {"contact": record, "company": company}

    def deal(self, deal_id: str) -> dict[str, Any]:
        """``{"deal", "company", "contact", "line_items"}`` (the mapping's deal record)."""
        deal = self.client.get("deals", deal_id, self._props("deals", _DEAL_READ))
        company = self._primary("deals", deal_id, "companies", PRIMARY_DEAL_COMPANY)
        contacts = self.client.associations("deals", deal_id, "contacts")
        line_ids = [
            str(a["toObjectId"]) for a in self.client.associations("deals", deal_id, "line_items")
        ]
        lines = self.client.batch_read(
            "line_items", line_ids, self._props("line_items", _LINE_READ)
        )
        lines.sort(key=lambda line: int(line["id"]))
        return {
            "deal": deal,
            "company": company,
            "contact": str(contacts[0]["toObjectId"]) if contacts else None,
            "line_items": lines,
        }


# -- mapping (mappings/inbound.yaml; transforms.py holds its rules) ----------------------------


def _mapped(
    entity: str,
    model: type[M],
    record: Mapping[str, Any],
    where: str,
    xref: CrossReference,
    connection: str,
    options: InboundOptions,
    mapping: CompiledMapping | None,
) -> M:
    """``record`` through ``entity`` of the mapping (default: the shipped ``hubspot_inbound``),
    validated as ``model``; what does not fit parks with ``hubspot.mapping_invalid``."""
    values = or_shipped(mapping, "hubspot", "inbound").apply(
        entity, record, options=dataclasses.asdict(options), resolver=XrefResolver(xref, connection)
    )
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors(include_url=False)
        )
        raise mapping_error(
            where, f"does not fit the canonical {model.__name__} ({problems})"
        ) from exc


def account_from_record(
    record: Mapping[str, Any],
    xref: CrossReference,
    *,
    connection: str,
    options: InboundOptions,
    mapping: CompiledMapping | None = None,
) -> Account:
    """The canonical account of a HubSpot company (as read by the client)."""
    where = f"HubSpot company {record.get('id') or ''}"
    return _mapped("account", Account, record, where, xref, connection, options, mapping)


def contact_from_record(
    record: Mapping[str, Any],
    xref: CrossReference,
    *,
    connection: str,
    options: InboundOptions,
    mapping: CompiledMapping | None = None,
) -> Contact:
    """The canonical contact of :meth:`HubSpotReader.contact`'s record."""
    where = f"HubSpot contact {(record.get('contact') or {}).get('id') or ''}"
    return _mapped("contact", Contact, record, where, xref, connection, options, mapping)


def deal_from_records(
    record: Mapping[str, Any],
    xref: CrossReference,
    *,
    connection: str,
    options: InboundOptions,
    mapping: CompiledMapping | None = None,
) -> Deal:
    """The canonical deal of :meth:`HubSpotReader.deal`'s record; product ids resolve through
    the cross-reference (entity type ``product``)."""
    where = f"HubSpot deal {(record.get('deal') or {}).get('id') or ''}"
    return _mapped("deal", Deal, record, where, xref, connection, options, mapping)


# -- identify and normalize --------------------------------------------------------------------


def _events(payload: Any) -> list[dict[str, Any]] | None:
    if not isinstance(payload, list) or not payload:
        return None
    if not all(
        isinstance(e, dict)
        and isinstance(e.get("subscriptionType"), str)
        and isinstance(e.get("objectId"), int)
        for e in payload
    ):
        return None
    return payload


def identify(payload: Any, body: bytes) -> WebhookIdentity:
    """A batch's id: a digest of its events' identities without ``attemptNumber``, so that a
    retried batch is the same delivery; its type the events' one subscription type (or
    ``batch`` when they differ)."""
    events = _events(payload)
    if events is None:
        return WebhookIdentity("sha256:" + hashlib.sha256(body).hexdigest(), "unknown")
    keys = sorted(
        f"{e.get('subscriptionId')}:{e.get('eventId')}:{e['objectId']}:{e.get('occurredAt')}:"
        f"{e.get('propertyName') or ''}"
        for e in events
    )
    digest = hashlib.sha256("\n".join(keys).encode()).hexdigest()[:32]
    types = {str(e["subscriptionType"]) for e in events}
    return WebhookIdentity(f"batch:{digest}", types.pop() if len(types) == 1 else "batch")


def _invalid(delivery: Delivery, problem: str) -> BusinessRuleError:
    return BusinessRuleError(
        f"HubSpot delivery {delivery.vendor_event_id} on {delivery.connection}: {problem}",
        code="hubspot.payload_invalid",
        remediation="The delivery is not a HubSpot webhook batch syncwright understands; check "
        "the sender (the app's target URL), then resolve this exception.",
    )


@dataclass
class _Emitter:
    delivery: Delivery
    events: list[ChangeEvent[Any]] = field(default_factory=list)

    def emit(
        self, event_type: str, data: EventData, *, subject: str, entity_key: str, at: datetime
    ) -> None:
        connection = self.delivery.connection
        self.events.append(
            make_event(
                event_type,
                data,
                source=f"syncwright/{connection}",
                correlation_id=self.delivery.correlation_id,
                entity_key=entity_key,
                subject=subject,
                event_id=f"{connection}:{self.delivery.vendor_event_id}:{len(self.events)}",
                time=at,
            )
        )


@dataclass
class _Wanted:
    """What a batch asks about one record: when, and which canonical fields changed."""

    at: int
    fields: list[str] = field(default_factory=list)
    everything: bool = False

    def changed(self) -> tuple[str, ...]:
        return () if self.everything else tuple(self.fields)


def _plan(
    events: Sequence[Mapping[str, Any]], options: InboundOptions
) -> dict[str, dict[str, _Wanted]]:
    """Per kind (company, contact, deal), the records a batch asks about."""
    plan: dict[str, dict[str, _Wanted]] = {"company": {}, "contact": {}, "deal": {}}
    feeds = {"company": options.mapped_properties(), "contact": CONTACT_PROPERTY_MAP}
    for event in events:
        kind, _, change = str(event["subscriptionType"]).partition(".")
        if kind not in plan:
            continue
        object_id = str(event["objectId"])
        at = int(event.get("occurredAt") or 0)
        name = str(event.get("propertyName"))
        if change in ("creation", "restore"):
            wanted = plan[kind].setdefault(object_id, _Wanted(at))
            wanted.everything = True
        elif change == "propertyChange" and kind == "deal":
            if name != "dealstage" or event.get("propertyValue") not in options.won_stages:
                continue
            wanted = plan[kind].setdefault(object_id, _Wanted(at))
        elif change == "propertyChange":
            canonical = feeds[kind].get(name)
            if canonical is None:
                continue  # billing properties syncwright writes, or others no field reads
            wanted = plan[kind].setdefault(object_id, _Wanted(at))
            if canonical not in wanted.fields:
                wanted.fields.append(canonical)
        else:
            continue
        wanted.at = max(wanted.at, at)
    return plan


def _time(ms: int, delivery: Delivery) -> datetime:
    if ms > 0:
        return datetime.fromtimestamp(ms / 1000, UTC)
    received = delivery.received_at
    return received if received.tzinfo else received.replace(tzinfo=UTC)


def _read(
    read: Callable[[str], dict[str, Any]], kind: str, object_id: str
) -> dict[str, Any] | None:
    """The record, or None when it is gone since the event (deleted or merged)."""
    try:
        return read(object_id)
    except BusinessRuleError as exc:
        if exc.code != "hubspot.OBJECT_NOT_FOUND":
            raise
        log.info("hubspot %s %s is gone since the event; skipped", kind, object_id)
        return None


def normalize(
    delivery: Delivery, xref: CrossReference, reader: HubSpotReader
) -> list[ChangeEvent[Any]]:
    """The canonical change events of one batch; ``[]`` for what hubspot/1 ignores.

    Raises :class:`~syncwright.errors.BusinessRuleError` (the dispatcher parks the delivery)
    when the body is not a batch or a record cannot be mapped; errors of the enriching reads
    propagate as they are."""
    try:
        payload = json.loads(delivery.body)
    except ValueError as exc:
        raise _invalid(delivery, "the body is not JSON") from exc
    events = _events(payload)
    if events is None:
        raise _invalid(delivery, "not a non-empty array of events with subscriptionType/objectId")
    plan = _plan(events, reader.options)
    out = _Emitter(delivery)
    connection = delivery.connection
    for company_id, wanted in plan["company"].items():
        company = _read(reader.company, "company", company_id)
        if company is None:
            continue
        account = account_from_record(
            company, xref, connection=connection, options=reader.options, mapping=reader.mapping
        )
        out.emit(
            "syncwright.account.upserted.v1",
            AccountUpsertedV1(account=account, changed_fields=wanted.changed()),
            subject=account.global_id,
            entity_key=f"account:{account.global_id}",
            at=_time(wanted.at, delivery),
        )
    for contact_id, wanted in plan["contact"].items():
        person = _read(reader.contact, "contact", contact_id)
        if person is None:
            continue
        contact = contact_from_record(
            person, xref, connection=connection, options=reader.options, mapping=reader.mapping
        )
        key = (
            f"account:{contact.account_id}"
            if contact.account_id
            else f"contact:{contact.global_id}"
        )
        out.emit(
            "syncwright.contact.upserted.v1",
            ContactUpsertedV1(contact=contact, changed_fields=wanted.changed()),
            subject=contact.global_id,
            entity_key=key,
            at=_time(wanted.at, delivery),
        )
    for deal_id, wanted in plan["deal"].items():
        record = _read(reader.deal, "deal", deal_id)
        if record is None:
            continue
        if record["deal"].get("properties", {}).get("dealstage") not in reader.options.won_stages:
            continue  # not won (a creation in an open stage, or re-opened since the event)
        deal = deal_from_records(
            record, xref, connection=connection, options=reader.options, mapping=reader.mapping
        )
        if deal.stage is not DealStage.CLOSED_WON:
            continue
        out.emit(
            "syncwright.deal.closed_won.v1",
            DealClosedWonV1(deal=deal),
            subject=deal.global_id,
            entity_key=f"account:{deal.account_id}",
            at=_time(wanted.at, delivery),
        )
    return out.events
