"""Canonical change events in a CloudEvents 1.0 envelope, and the registry of published types.

Why CloudEvents: it is the one vendor-neutral envelope with a spec
(https://github.com/cloudevents/spec/blob/v1.0.2/cloudevents/spec.md), so events can leave
syncwright (a bus, a webhook to a customer's own system) without a private format. Our additions
are extension attributes, which the spec requires to be lower-case alphanumerics:

- ``correlationid``: one id per business event, shared by every system it touches (ledger, trace);
- ``entitykey``: the routing key; events with the same key are applied in order;
- ``schemaversion``: the integer version of ``data``, equal to the ``.vN`` suffix of ``type``.

Types read ``syncwright.<entity>.<action>.v<N>``. A version, once published, never changes
incompatibly (guarded by :mod:`syncwright.model.compat`); a breaking change is a new version.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Annotated, Any, Generic, Literal, Self, TypeVar, cast, overload

from pydantic import Field, SerializeAsAny, StringConstraints, model_validator
from ulid import ULID

from syncwright.errors import BusinessRuleError
from syncwright.model._base import CanonicalModel, NonEmptyStr, Timestamp
from syncwright.model.event_data import (
    AccountErpChangedV1,
    AccountUpsertedV1,
    CaseUpsertedV1,
    ContactUpsertedV1,
    CreditNoteIssuedV1,
    DealClosedWonV1,
    DealRenewalWonV1,
    EntitlementChangedV1,
    EventData,
    InvoiceFinalizedV1,
    InvoicePaidV1,
    InvoicePaymentFailedV1,
    OrderPlacedV1,
    PaymentReceivedV1,
    PaymentRefundedV1,
    SubscriptionActivatedV1,
    SubscriptionCancelledV1,
    SubscriptionCreatedV1,
    SubscriptionRenewedV1,
    SubscriptionUpdatedV1,
)

__all__ = [
    "EVENT_TYPES",
    "EVENT_TYPE_PATTERN",
    "ChangeEvent",
    "UnknownEventTypeError",
    "event_data_model",
    "event_type_version",
    "make_event",
    "parse_event",
]

EVENT_TYPE_PATTERN = r"^syncwright\.[a-z][a-z_]*\.[a-z][a-z_]*\.v[1-9][0-9]*$"
_EVENT_TYPE = re.compile(EVENT_TYPE_PATTERN)

# Every published event type version and the model of its ``data``. Read-only at runtime: the
# registry is the published contract, and adding to it means adding a schema snapshot too
# (``python -m syncwright.model.compat publish``), which a runtime mutation would skip.
EVENT_TYPES: Mapping[str, type[EventData]] = MappingProxyType(
    {
        "syncwright.account.upserted.v1": AccountUpsertedV1,
        "syncwright.contact.upserted.v1": ContactUpsertedV1,
        "syncwright.subscription.created.v1": SubscriptionCreatedV1,
        "syncwright.subscription.activated.v1": SubscriptionActivatedV1,
        "syncwright.subscription.updated.v1": SubscriptionUpdatedV1,
        "syncwright.subscription.renewed.v1": SubscriptionRenewedV1,
        "syncwright.subscription.cancelled.v1": SubscriptionCancelledV1,
        "syncwright.invoice.finalized.v1": InvoiceFinalizedV1,
        "syncwright.invoice.paid.v1": InvoicePaidV1,
        "syncwright.invoice.payment_failed.v1": InvoicePaymentFailedV1,
        "syncwright.payment.received.v1": PaymentReceivedV1,
        "syncwright.credit_note.issued.v1": CreditNoteIssuedV1,
        "syncwright.payment.refunded.v1": PaymentRefundedV1,
        "syncwright.deal.renewal_won.v1": DealRenewalWonV1,
        "syncwright.entitlement.changed.v1": EntitlementChangedV1,
        "syncwright.order.placed.v1": OrderPlacedV1,
        "syncwright.deal.closed_won.v1": DealClosedWonV1,
        "syncwright.case.upserted.v1": CaseUpsertedV1,
        "syncwright.account.erp_changed.v1": AccountErpChangedV1,
    }
)


class UnknownEventTypeError(BusinessRuleError):
    """An event's ``type`` is not a registered type version.

    A business-rule error (park, don't retry blindly): it usually means a newer producer emitted
    a version this runtime does not know yet, which only a deploy fixes.
    """

    default_code = "model.unknown_event_type"

    def __init__(self, message: str) -> None:
        super().__init__(
            message,
            remediation=(
                "Deploy a syncwright version that registers this event type, or fix the producer "
                "to emit a registered version; then retry the parked event."
            ),
        )

    @property
    def kind(self) -> str:
        # Rebuilt as a BusinessRuleError by errors.error_from_dict (see CurrencyMismatchError).
        return BusinessRuleError.__name__


def event_type_version(event_type: str) -> int:
    """The ``N`` of a ``...vN`` event type."""
    if not _EVENT_TYPE.match(event_type):
        raise ValueError(
            f"{event_type!r} is not a syncwright event type "
            "(expected syncwright.<entity>.<action>.v<N>)"
        )
    return int(event_type.rsplit(".v", 1)[1])


def event_data_model(event_type: str) -> type[EventData]:
    """The registered ``data`` model of ``event_type``, or :class:`UnknownEventTypeError`."""
    model = EVENT_TYPES.get(event_type)
    if model is not None:
        return model
    if not isinstance(event_type, str) or not _EVENT_TYPE.match(event_type):
        raise UnknownEventTypeError(
            f"{event_type!r} is not a syncwright event type "
            "(expected syncwright.<entity>.<action>.v<N>)"
        )
    base = event_type.rsplit(".v", 1)[0]
    known = sorted(t for t in EVENT_TYPES if t.rsplit(".v", 1)[0] == base)
    if known:
        versions = ", ".join("v" + t.rsplit(".v", 1)[1] for t in known)
        raise UnknownEventTypeError(
            f"unknown version of event type {base}: {event_type!r} is not registered "
            f"(registered: {versions})"
        )
    raise UnknownEventTypeError(
        f"unknown event type {event_type!r}; registered types: {', '.join(sorted(EVENT_TYPES))}"
    )


DataT = TypeVar("DataT", bound=EventData)


class ChangeEvent(CanonicalModel, Generic[DataT]):
    """A canonical change event: CloudEvents 1.0 attributes plus syncwright's extensions.

    Build one with :func:`make_event` and read one with :func:`parse_event`; both pick the
    ``data`` model from :data:`EVENT_TYPES`, so ``data`` is always the registered class. The
    JSON form is ``event.model_dump(mode="json")`` (CloudEvents structured JSON format).
    """

    specversion: Literal["1.0"] = "1.0"
    # Unique per source; consumers deduplicate on (source, id) as the spec prescribes.
    id: NonEmptyStr
    # A URI-reference naming the producer, e.g. ``/connections/stripe-prod``.
    source: Annotated[str, StringConstraints(min_length=1, pattern=r"^\S+$")]
    type: Annotated[str, StringConstraints(pattern=EVENT_TYPE_PATTERN)]
    # The entity's global id, so consumers can filter without parsing ``data``.
    subject: str | None = None
    time: Timestamp
    datacontenttype: Literal["application/json"] = "application/json"
    # SerializeAsAny: where the envelope is used unparametrised (``ChangeEvent``), ``data`` is
    # still dumped with all fields of its registered class, not just those of ``EventData``.
    data: SerializeAsAny[DataT]
    correlationid: NonEmptyStr
    entitykey: NonEmptyStr
    schemaversion: Annotated[int, Field(ge=1)]

    @model_validator(mode="before")
    @classmethod
    def _needs_data_model(cls, value: Any) -> Any:
        # Unparametrised, the envelope cannot know which model a ``data`` dict should become
        # (pydantic would try bare EventData and report every field as "extra"); say what to do.
        if (
            not cls.__pydantic_generic_metadata__["args"]
            and isinstance(value, Mapping)
            and isinstance(value.get("data"), Mapping)
        ):
            raise ValueError(
                "ChangeEvent cannot choose a data model for a dict: use parse_event(raw), "
                "or ChangeEvent[TheDataModel].model_validate(raw)"
            )
        return value

    @model_validator(mode="after")
    def _matches_registry(self) -> Self:
        model = event_data_model(self.type)
        # Exact class, not isinstance: a subclass could carry fields the snapshot never saw.
        if self.data.__class__ is not model:
            raise ValueError(
                f"data of {self.type} must be a {model.__name__}, got "
                f"{self.data.__class__.__name__}; build events with make_event() or parse_event()"
            )
        version = event_type_version(self.type)
        if self.schemaversion != version:
            raise ValueError(
                f"schemaversion {self.schemaversion} does not match type {self.type} (v{version})"
            )
        return self


@functools.cache
def _envelope(model: type[DataT]) -> type[ChangeEvent[DataT]]:
    # Held here for good: pydantic's own cache of parametrised generics is weak, and rebuilding
    # the class (a new pydantic schema) after a garbage collection cost ~3 % of a worker's CPU.
    return cast("type[ChangeEvent[DataT]]", ChangeEvent.__class_getitem__(model))


@overload
def make_event(
    event_type: str,
    data: DataT,
    /,
    *,
    source: str,
    correlation_id: str,
    entity_key: str,
    subject: str | None = None,
    event_id: str | None = None,
    time: datetime | None = None,
) -> ChangeEvent[DataT]: ...


@overload
def make_event(
    event_type: str,
    data: Mapping[str, Any],
    /,
    *,
    source: str,
    correlation_id: str,
    entity_key: str,
    subject: str | None = None,
    event_id: str | None = None,
    time: datetime | None = None,
) -> ChangeEvent[EventData]: ...


def make_event(
    event_type: str,
    data: EventData | Mapping[str, Any],
    /,
    *,
    source: str,
    correlation_id: str,
    entity_key: str,
    subject: str | None = None,
    event_id: str | None = None,
    time: datetime | None = None,
) -> ChangeEvent[Any]:
    """Build a validated change event of a registered type.

    ``data`` is the registered model instance or a mapping validated into it. ``event_id``
    defaults to a new ULID (time-ordered, so ids sort like the events); pass a deterministic id
    when the event is derived from a vendor delivery, so re-normalising it yields the same id
    and the inbox deduplicates it. ``time`` defaults to now (UTC).
    """
    model = event_data_model(event_type)
    if isinstance(data, EventData):
        if data.__class__ is not model:
            raise ValueError(
                f"{event_type} carries {model.__name__}, got {data.__class__.__name__}"
            )
        payload: EventData = data
    else:
        payload = model.model_validate(data)
    return _envelope(model)(
        id=event_id if event_id is not None else str(ULID()),
        source=source,
        type=event_type,
        subject=subject,
        time=time if time is not None else datetime.now(UTC),
        data=payload,
        correlationid=correlation_id,
        entitykey=entity_key,
        schemaversion=event_type_version(event_type),
    )


def parse_event(raw: Mapping[str, Any]) -> ChangeEvent[EventData]:
    """Validate a CloudEvents JSON dict into a :class:`ChangeEvent` with its registered data.

    Raises :class:`UnknownEventTypeError` for a type/version that is not registered, and
    ``pydantic.ValidationError`` (with field paths such as ``data.subscription.currency``) for
    anything else wrong.
    """
    if not isinstance(raw, Mapping):
        raise TypeError(f"parse_event takes a mapping, got {type(raw).__name__}")
    event_type = raw.get("type")
    if not isinstance(event_type, str):
        raise UnknownEventTypeError(
            f"not a change event: 'type' is missing or not a string ({event_type!r})"
        )
    model = event_data_model(event_type)
    return _envelope(model).model_validate(dict(raw))
