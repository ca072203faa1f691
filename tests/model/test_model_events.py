"""Change events: CloudEvents envelope, the registry of versioned types, make/parse."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from syncwright.errors import BusinessRuleError, error_from_dict
from syncwright.model import (
    EVENT_TYPES,
    ChangeEvent,
    EventData,
    Money,
    Subscription,
    SubscriptionActivatedV1,
    SubscriptionCreatedV1,
    UnknownEventTypeError,
    event_data_model,
    event_type_version,
    make_event,
    parse_event,
)

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
ACTIVATED = "syncwright.subscription.activated.v1"


def subscription() -> Subscription:
    return Subscription.model_validate(
        {
            "global_id": "sub_1",
            "account_id": "acc_1",
            "plan_id": "prod_pro",
            "status": "active",
            "currency": "USD",
            "term_start": date(2024, 1, 1),
            "billing_frequency": "annual",
            "items": [
                {
                    "global_id": "si_1",
                    "price_id": "price_1",
                    "quantity": 10,
                    "unit_amount": Money.of(1200, "USD"),
                }
            ],
        }
    )


def activated() -> ChangeEvent[SubscriptionActivatedV1]:
    return make_event(
        ACTIVATED,
        SubscriptionActivatedV1(subscription=subscription(), activated_at=NOW),
        source="/connections/stripe-prod",
        subject="sub_1",
        correlation_id="corr-1",
        entity_key="account:acc_1",
        event_id="evt-1",
        time=NOW,
    )


# -- registry ------------------------------------------------------------------------------------

REQUIRED_TYPES = {
    "syncwright.account.upserted.v1",
    "syncwright.contact.upserted.v1",
    "syncwright.subscription.created.v1",
    "syncwright.subscription.activated.v1",
    "syncwright.subscription.updated.v1",
    "syncwright.subscription.renewed.v1",
    "syncwright.subscription.cancelled.v1",
    "syncwright.invoice.finalized.v1",
    "syncwright.invoice.paid.v1",
    "syncwright.invoice.payment_failed.v1",
    "syncwright.payment.received.v1",
    "syncwright.credit_note.issued.v1",
    "syncwright.entitlement.changed.v1",
    "syncwright.order.placed.v1",
    "syncwright.deal.closed_won.v1",
    "syncwright.case.upserted.v1",
}


def test_registry_publishes_the_required_types() -> None:
    assert set(EVENT_TYPES) >= REQUIRED_TYPES


@pytest.mark.parametrize("event_type", sorted(EVENT_TYPES))
def test_registered_types_are_versioned_and_distinct(event_type: str) -> None:
    model = EVENT_TYPES[event_type]
    assert issubclass(model, EventData)
    assert event_type_version(event_type) >= 1
    # One model per type version: a shared model would make two versions evolve together.
    assert list(EVENT_TYPES.values()).count(model) == 1
    assert model.model_config.get("extra") == "forbid"


def test_registry_is_read_only() -> None:
    with pytest.raises(TypeError):
        EVENT_TYPES["syncwright.thing.happened.v1"] = EventData  # type: ignore[index]


# -- envelope ------------------------------------------------------------------------------------


def test_envelope_attributes() -> None:
    event = activated()
    dumped = event.model_dump(mode="json")
    assert dumped["specversion"] == "1.0"
    assert dumped["datacontenttype"] == "application/json"
    assert dumped["type"] == ACTIVATED
    assert dumped["id"] == "evt-1"
    assert dumped["source"] == "/connections/stripe-prod"
    assert dumped["subject"] == "sub_1"
    assert dumped["time"] == "2024-05-01T12:00:00Z"
    assert dumped["correlationid"] == "corr-1"
    assert dumped["entitykey"] == "account:acc_1"
    assert dumped["schemaversion"] == 1
    assert dumped["data"]["subscription"]["items"][0]["unit_amount"] == {
        "amount_minor": 1200,
        "currency": "USD",
    }
    # CloudEvents extension attribute names: lower-case letters and digits only.
    assert all(name.isalnum() and name.islower() for name in dumped)


def test_round_trip_through_a_dict_and_json() -> None:
    event = activated()
    wire = json.loads(json.dumps(event.model_dump(mode="json")))
    parsed = parse_event(wire)
    assert parsed == event
    assert isinstance(parsed, ChangeEvent)
    assert isinstance(parsed.data, SubscriptionActivatedV1)
    assert parsed.data.subscription.items[0].unit_amount == Money.of(1200, "USD")
    assert parse_event(json.loads(event.model_dump_json())) == event


def test_make_event_from_a_mapping_and_defaults() -> None:
    event = make_event(
        "syncwright.subscription.created.v1",
        {"subscription": subscription().model_dump()},
        source="/connections/chargebee",
        correlation_id="corr-2",
        entity_key="account:acc_1",
    )
    assert isinstance(event.data, SubscriptionCreatedV1)
    assert event.subject is None
    assert len(event.id) == 26  # a ULID
    assert event.time.tzinfo is not None
    assert event.schemaversion == 1


def test_unparametrised_envelope_still_serialises_all_data() -> None:
    event = activated()
    plain: ChangeEvent[Any] = ChangeEvent(**dict(event))
    assert plain.model_dump(mode="json") == event.model_dump(mode="json")


def test_envelope_is_frozen() -> None:
    with pytest.raises(ValidationError):
        activated().type = "syncwright.subscription.created.v1"  # type: ignore[misc]


# -- errors --------------------------------------------------------------------------------------


def test_unknown_version_names_the_registered_ones() -> None:
    wire = activated().model_dump(mode="json")
    wire["type"] = "syncwright.subscription.activated.v2"
    with pytest.raises(UnknownEventTypeError, match=r"registered: v1") as exc:
        parse_event(wire)
    assert isinstance(exc.value, BusinessRuleError)
    assert exc.value.code == "model.unknown_event_type"
    assert exc.value.remediation


def test_unknown_type() -> None:
    wire = activated().model_dump(mode="json")
    wire["type"] = "syncwright.spaceship.launched.v1"
    with pytest.raises(UnknownEventTypeError, match="unknown event type"):
        parse_event(wire)


@pytest.mark.parametrize(
    "event_type", ["subscription.activated", "syncwright.subscription.activated", "x.v1", ""]
)
def test_malformed_type(event_type: str) -> None:
    wire = activated().model_dump(mode="json")
    wire["type"] = event_type
    with pytest.raises(UnknownEventTypeError, match="not a syncwright event type"):
        parse_event(wire)


def test_missing_type() -> None:
    wire = activated().model_dump(mode="json")
    del wire["type"]
    with pytest.raises(UnknownEventTypeError, match="'type' is missing"):
        parse_event(wire)


def test_invalid_data_reports_the_path() -> None:
    wire = activated().model_dump(mode="json")
    wire["data"]["subscription"]["items"][0]["quantity"] = -1
    with pytest.raises(ValidationError) as exc:
        parse_event(wire)
    assert exc.value.errors()[0]["loc"][:4] == ("data", "subscription", "items", 0)


def test_data_of_another_type_is_refused() -> None:
    wire = activated().model_dump(mode="json")
    wire["type"] = "syncwright.subscription.created.v1"
    with pytest.raises(ValidationError, match="activated_at"):
        parse_event(wire)  # SubscriptionCreatedV1 forbids the extra field
    with pytest.raises(ValueError, match="carries SubscriptionCreatedV1"):
        make_event(
            "syncwright.subscription.created.v1",
            activated().data,
            source="s",
            correlation_id="c",
            entity_key="k",
        )


def test_schemaversion_must_match_type() -> None:
    wire = activated().model_dump(mode="json")
    wire["schemaversion"] = 2
    with pytest.raises(ValidationError, match="does not match type"):
        parse_event(wire)


@pytest.mark.parametrize(
    ("attribute", "value"),
    [
        ("specversion", "0.3"),
        ("datacontenttype", "application/xml"),
        ("time", "2024-05-01T12:00:00"),
        ("correlationid", ""),
        ("source", "has spaces"),
        ("extraattr", "x"),
    ],
)
def test_envelope_validation(attribute: str, value: Any) -> None:
    wire = activated().model_dump(mode="json")
    wire[attribute] = value
    with pytest.raises(ValidationError, match=attribute):
        parse_event(wire)


def test_plain_changeevent_validate_explains_itself() -> None:
    with pytest.raises(ValidationError, match="use parse_event"):
        ChangeEvent.model_validate(activated().model_dump(mode="json"))


def test_helpers() -> None:
    assert event_data_model(ACTIVATED) is SubscriptionActivatedV1
    assert event_type_version("syncwright.invoice.paid.v12") == 12
    with pytest.raises(ValueError, match="not a syncwright event type"):
        event_type_version("syncwright.invoice.paid")


def test_unknown_type_error_survives_a_process_boundary() -> None:
    with pytest.raises(UnknownEventTypeError) as exc:
        event_data_model("syncwright.subscription.activated.v9")
    rebuilt = error_from_dict(exc.value.to_dict())
    assert isinstance(rebuilt, BusinessRuleError)
    assert rebuilt.code == "model.unknown_event_type"
