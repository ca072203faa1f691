"""Salesforce Change Data Capture events -> canonical change events (a message translator).

A delivery is one CDC change event in Salesforce's shape
(https://developer.salesforce.com/docs/atlas.en-us.change_data_capture.meta/change_data_capture/cdc_message_structure.htm)::

    {"schema": "...", "payload": {"ChangeEventHeader": {"entityName", "recordIds",
     "changeType", "changeOrigin", "changedFields", "commitTimestamp", ...}, ...fields},
     "event": {"replayId": 42}}

An UPDATE event carries only the fields that changed, so the canonical record is always read
fresh from Salesforce through the client (a *content enricher*): the event says *that* something
changed, the read says *what it is now*. The field mapping of the read record is declarative:
``mappings/inbound.yaml`` (``salesforce_inbound@1``; ``mappings:`` in the config may replace it),
applied by :func:`account_from_record` and :func:`deal_from_records`, which the outbound read
actions share.

Two things keep syncwright from syncing its own writes back (no loops):

1. **Echo fast path.** Our client sends ``Sforce-Call-Options: client=<client name>`` with every
   request and Salesforce copies it into the event's ``changeOrigin``
   (``com/salesforce/api/rest/59.0;client=syncwright``). An event whose origin names our client is
   our own write coming back: it normalizes to ``[]`` without reading the record.
2. **Mapped fields.** An Account UPDATE becomes an event only when a field that feeds a canonical
   account field changed (:data:`ACCOUNT_FIELD_MAP`: name, billing address, website, parent,
   currency, legal entity). The fields syncwright writes into Salesforce (``ERP_Id__c``,
   ``Subscription_Status__c``, ``ACV__c``, invoice fields) feed none, so a change of only those
   translates to nothing, whoever made it.

Who may change which canonical field (ownership), echoes that arrive without the header,
staleness and the delta against the state syncwright holds are decided for every connector
alike by the policy gate (``syncwright/policy``), after this mapping.

Event ids are deterministic (``<connection>:<replay id>:<n>``; for deliveries synthesized by the
``soql`` poll stream, the vendor event id stands in for the replay id): normalizing one delivery
again yields the same events. Every event carries ``entitykey = "account:<global id>"``, so one
customer's events apply in order.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import ValidationError

from syncwright.connectors import Delivery
from syncwright.connectors.salesforce.client import valid_id
from syncwright.connectors.salesforce.transforms import mapping_error
from syncwright.errors import BusinessRuleError
from syncwright.mapping import CompiledMapping, XrefResolver, or_shipped
from syncwright.model import Account, CanonicalModel, Deal, DealStage
from syncwright.model.event_data import (
    AccountUpsertedV1,
    DealClosedWonV1,
    DealRenewalWonV1,
    EventData,
)
from syncwright.model.events import ChangeEvent, make_event
from syncwright.xref import CrossReference

if TYPE_CHECKING:
    from syncwright.connectors.salesforce.client import SalesforceClient

__all__ = [
    "ACCOUNT_FIELD_MAP",
    "DEFAULT_RENEWAL_TYPES",
    "DEFAULT_WON_STAGES",
    "MAPPED_ENTITIES",
    "InboundOptions",
    "SalesforceReader",
    "account_from_record",
    "deal_from_records",
    "is_echo",
    "normalize",
]

log = logging.getLogger(__name__)

DEFAULT_WON_STAGES: tuple[str, ...] = ("Closed Won",)
# Opportunity.Type of a renewal. The standard picklist has none ("New Customer", "Existing
# Customer - Upgrade", ...); orgs that sell renewals add a value, most often this one.
DEFAULT_RENEWAL_TYPES: tuple[str, ...] = ("Renewal",)
DEFAULT_LEGAL_ENTITY_FIELD = "Legal_Entity__c"
# Change events of other objects are acknowledged and ignored (the poller does not even store
# them).
MAPPED_ENTITIES = frozenset({"Account", "Opportunity"})

# Account fields that feed the canonical account -> the canonical field each one feeds (a
# mapping, not ownership: ownership is syncwright/policy's). Compound fields arrive in
# ``changedFields`` as ``BillingAddress.City``; their root is what is looked up. The legal
# entity field is added per connection (its API name is an option).
ACCOUNT_FIELD_MAP: Mapping[str, str] = {
    "Name": "name",
    "BillingAddress": "bill_to",
    "BillingStreet": "bill_to",
    "BillingCity": "bill_to",
    "BillingState": "bill_to",
    "BillingStateCode": "bill_to",
    "BillingPostalCode": "bill_to",
    "BillingCountry": "bill_to",
    "BillingCountryCode": "bill_to",
    "Website": "website",
    "ParentId": "parent_account_id",
    "CurrencyIsoCode": "currency",
}

_ACCOUNT_READ_FIELDS = (
    "Id",
    "Name",
    "Website",
    "ParentId",
    "BillingStreet",
    "BillingCity",
    "BillingState",
    "BillingStateCode",
    "BillingPostalCode",
    "BillingCountry",
    "BillingCountryCode",
    "CurrencyIsoCode",
)
_OPPORTUNITY_READ_FIELDS = (
    "Id",
    "Name",
    "AccountId",
    "ContactId",
    "StageName",
    "IsWon",
    "IsClosed",
    "CloseDate",
    "Amount",
    "CurrencyIsoCode",
    "Type",
)
_LINE_READ_FIELDS = (
    "Id",
    "Name",
    "Description",
    "Product2Id",
    "PricebookEntryId",
    "Quantity",
    "UnitPrice",
    "TotalPrice",
    "Discount",
    "ServiceDate",
    "CurrencyIsoCode",
)

M = TypeVar("M", bound=CanonicalModel)


@dataclass(frozen=True)
class InboundOptions:
    """The connection options the mapping reads (see the README for each)."""

    client_name: str = "syncwright"
    default_currency: str | None = None
    default_subsidiary: str | None = None
    legal_entity_field: str = DEFAULT_LEGAL_ENTITY_FIELD
    won_stages: tuple[str, ...] = DEFAULT_WON_STAGES
    renewal_types: tuple[str, ...] = DEFAULT_RENEWAL_TYPES

    def mapped_fields(self) -> dict[str, str]:
        return {**ACCOUNT_FIELD_MAP, self.legal_entity_field: "subsidiary"}


# -- reading Salesforce (the content enricher) -----------------------------------------------


@dataclass
class SalesforceReader:
    """Reads the current Account or Opportunity (with its line items) through the client,
    asking only for fields the org has (describe), so an org without multi-currency or state
    and country picklists works as well."""

    client: SalesforceClient
    options: InboundOptions = field(default_factory=InboundOptions)
    # The connection's inbound mapping; None: the one the connector ships.
    mapping: CompiledMapping | None = None

    def _fields(self, sobject: str, wanted: Iterable[str]) -> list[str]:
        known = self.client.field_names(sobject)
        return [f for f in wanted if f in known]

    def account(self, account_id: str) -> dict[str, Any]:
        fields = self._fields("Account", (*_ACCOUNT_READ_FIELDS, self.options.legal_entity_field))
        return self.client.get("Account", _checked_id(account_id, "Account"), fields)

    def opportunity(self, opportunity_id: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        record = self.client.get(
            "Opportunity",
            _checked_id(opportunity_id, "Opportunity"),
            self._fields("Opportunity", _OPPORTUNITY_READ_FIELDS),
        )
        # The id is checked above, so it is safe inside the SOQL literal.
        # https://developer.salesforce.com/docs/atlas.en-us.soql_sosl.meta/soql_sosl/sforce_api_calls_soql_select.htm
        soql = (
            f"SELECT {', '.join(self._fields('OpportunityLineItem', _LINE_READ_FIELDS))} "  # noqa: S608
            f"FROM OpportunityLineItem WHERE OpportunityId = '{opportunity_id}' "
            "ORDER BY CreatedDate, Id"
        )
        return record, list(self.client.query(soql))


def _checked_id(record_id: str, sobject: str) -> str:
    if not valid_id(record_id):
        raise BusinessRuleError(
            f"{record_id!r} is not a Salesforce {sobject} id",
            code="salesforce.malformed_id",
            remediation="The change event or cross-reference names a value that is not a "
            "Salesforce id; check the delivery (syncwright trace), then resolve this exception.",
        )
    return record_id


# -- mapping (mappings/inbound.yaml; transforms.py holds its rules) --------------------------


def _build(model: type[M], where: str, values: Mapping[str, Any]) -> M:
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
    """The canonical account of a Salesforce Account record (as read by the client), by the
    ``account`` entity of ``mapping`` (default: the shipped ``salesforce_inbound``)."""
    values = or_shipped(mapping, "salesforce", "inbound").apply(
        "account",
        record,
        options=dataclasses.asdict(options),
        resolver=XrefResolver(xref, connection),
    )
    return _build(Account, f"Salesforce Account {record.get('Id') or ''}", values)


def deal_from_records(
    opportunity: Mapping[str, Any],
    lines: Sequence[Mapping[str, Any]],
    xref: CrossReference,
    *,
    connection: str,
    options: InboundOptions,
    mapping: CompiledMapping | None = None,
) -> Deal:
    """The canonical deal of an Opportunity and its OpportunityLineItems (as read by the
    client), by the ``deal`` entity of ``mapping``. Product ids resolve through the
    cross-reference (entity type ``product``)."""
    values = or_shipped(mapping, "salesforce", "inbound").apply(
        "deal",
        {"Opportunity": opportunity, "OpportunityLineItems": list(lines)},
        options=dataclasses.asdict(options),
        resolver=XrefResolver(xref, connection),
    )
    return _build(Deal, f"Salesforce Opportunity {opportunity.get('Id') or ''}", values)


# -- normalize ---------------------------------------------------------------------------------


def is_echo(header: Mapping[str, Any], client_name: str) -> bool:
    """True when ``changeOrigin`` names our client (``...;client=<client_name>``)."""
    origin = str(header.get("changeOrigin") or "")
    for part in origin.split(";"):
        key, sep, value = part.strip().partition("=")
        if sep and key.strip() == "client" and value.strip().rstrip("/") == client_name:
            return True
    return False


def _invalid(delivery: Delivery, problem: str) -> BusinessRuleError:
    return BusinessRuleError(
        f"Salesforce delivery {delivery.vendor_event_id} on {delivery.connection}: {problem}",
        code="salesforce.payload_invalid",
        remediation="The delivery is not a Change Data Capture event syncwright understands; "
        "check the sender, then resolve this exception.",
    )


def _roots(changed: Iterable[Any]) -> list[str]:
    # ``BillingAddress.City`` -> ``BillingAddress``
    return [str(name).split(".", 1)[0] for name in changed]


@dataclass
class _Emitter:
    delivery: Delivery
    event_key: str
    time: datetime
    events: list[ChangeEvent[Any]] = field(default_factory=list)

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
                event_id=f"{connection}:{self.event_key}:{len(self.events)}",
                time=self.time,
            )
        )


def _missing(exc: BusinessRuleError) -> bool:
    return exc.code in ("salesforce.not_found", "salesforce.entity_is_deleted")


def _account_events(
    out: _Emitter,
    header: Mapping[str, Any],
    record_ids: Sequence[str],
    reader: SalesforceReader,
    xref: CrossReference,
) -> None:
    options = reader.options
    change = header.get("changeType")
    changed_fields: tuple[str, ...] = ()
    if change == "UPDATE":
        mapped = options.mapped_fields()
        names: list[str] = []
        for root in _roots(header.get("changedFields") or ()):
            canonical = mapped.get(root)
            if canonical is not None and canonical not in names:
                names.append(canonical)
        if not names:
            return  # only fields that feed no canonical field changed (ERP id, ACV, status)
        changed_fields = tuple(names)
    elif change not in ("CREATE", "UNDELETE"):
        return  # DELETE (and GAP_* events) are not mapped by salesforce/1
    for record_id in record_ids:
        try:
            record = reader.account(record_id)
        except BusinessRuleError as exc:
            if not _missing(exc):
                raise
            log.info("salesforce account %s is gone since the event; skipped", record_id)
            continue
        account = account_from_record(
            record,
            xref,
            connection=out.delivery.connection,
            options=options,
            mapping=reader.mapping,
        )
        out.emit(
            "syncwright.account.upserted.v1",
            AccountUpsertedV1(account=account, changed_fields=changed_fields),
            subject=account.global_id,
            account_id=account.global_id,
        )


def _won_now(
    payload: Mapping[str, Any], header: Mapping[str, Any], options: InboundOptions
) -> bool:
    change = header.get("changeType")
    if change == "UPDATE":
        roots = set(_roots(header.get("changedFields") or ()))
        if not roots & {"StageName", "IsWon"}:
            return False  # won earlier; this update changed something else
    elif change not in ("CREATE", "UNDELETE"):
        return False
    return payload.get("IsWon") is True or payload.get("StageName") in options.won_stages


def _deal_events(
    out: _Emitter,
    payload: Mapping[str, Any],
    header: Mapping[str, Any],
    record_ids: Sequence[str],
    reader: SalesforceReader,
    xref: CrossReference,
) -> None:
    options = reader.options
    if not _won_now(payload, header, options):
        return
    for record_id in record_ids:
        try:
            opportunity, lines = reader.opportunity(record_id)
        except BusinessRuleError as exc:
            if not _missing(exc):
                raise
            log.info("salesforce opportunity %s is gone since the event; skipped", record_id)
            continue
        deal = deal_from_records(
            opportunity,
            lines,
            xref,
            connection=out.delivery.connection,
            options=options,
            mapping=reader.mapping,
        )
        if deal.stage is not DealStage.CLOSED_WON:
            # Re-opened since the event: the fresh record is not a won deal any more, and a
            # later event will carry its next close.
            log.info("salesforce opportunity %s is no longer won; skipped", record_id)
            continue
        if opportunity.get("Type") in options.renewal_types:
            # An existing customer's renewal: its subscription goes on (deal.renew), no new
            # customer or subscription is onboarded.
            out.emit(
                "syncwright.deal.renewal_won.v1",
                DealRenewalWonV1(deal=deal),
                subject=deal.global_id,
                account_id=deal.account_id,
            )
            continue
        out.emit(
            "syncwright.deal.closed_won.v1",
            DealClosedWonV1(deal=deal),
            subject=deal.global_id,
            account_id=deal.account_id,
        )


def _event_time(header: Mapping[str, Any], delivery: Delivery) -> datetime:
    stamp = header.get("commitTimestamp")
    if isinstance(stamp, int) and not isinstance(stamp, bool) and stamp > 0:
        return datetime.fromtimestamp(stamp / 1000, UTC)
    received = delivery.received_at
    return received if received.tzinfo else received.replace(tzinfo=UTC)


def change_header(payload: Any) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """``(payload, ChangeEventHeader)`` of a CDC event body, or None if it is not one."""
    if not isinstance(payload, dict):
        return None
    inner = payload.get("payload")
    if not isinstance(inner, dict):
        return None
    header = inner.get("ChangeEventHeader")
    if not isinstance(header, dict):
        return None
    return inner, header


def normalize(
    delivery: Delivery, xref: CrossReference, reader: SalesforceReader
) -> list[ChangeEvent[Any]]:
    """The canonical change events for one CDC event; ``[]`` for what salesforce/1 ignores.

    Raises :class:`~syncwright.errors.BusinessRuleError` (the dispatcher parks the delivery with
    its remediation) when the payload is malformed or the record cannot be mapped; errors of
    the enriching reads (:class:`~syncwright.errors.TransientError`, ...) propagate as they are.
    """
    try:
        body = json.loads(delivery.body)
    except ValueError as exc:
        raise _invalid(delivery, "the body is not JSON") from exc
    parts = change_header(body)
    if parts is None:
        raise _invalid(delivery, "no payload.ChangeEventHeader")
    payload, header = parts
    if is_echo(header, reader.options.client_name):
        return []  # our own write coming back (Sforce-Call-Options client name): no loop
    entity = header.get("entityName")
    if entity not in MAPPED_ENTITIES:
        return []
    record_ids = header.get("recordIds")
    if not isinstance(record_ids, list) or not all(isinstance(r, str) for r in record_ids):
        raise _invalid(delivery, "ChangeEventHeader.recordIds is not a list of ids")
    event = body.get("event")
    replay = event.get("replayId") if isinstance(event, dict) else None
    key = str(replay) if isinstance(replay, int) and not isinstance(replay, bool) else None
    out = _Emitter(delivery, key or delivery.vendor_event_id, _event_time(header, delivery))
    if entity == "Account":
        _account_events(out, header, record_ids, reader, xref)
    else:
        _deal_events(out, payload, header, record_ids, reader, xref)
    return out.events
