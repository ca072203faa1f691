"""Webhook batches and polled deals -> canonical events, through a real Runtime and the emulator."""

from __future__ import annotations

import json

import pytest
from hubspot import HubSpot
from hubspot.crm.companies import SimplePublicObjectInput

from syncwright.connectors.hubspot.signature import sign_v3
from syncwright.errors import AuthError, BusinessRuleError
from syncwright.sandbox.hubspot import DEFAULT_CLIENT_SECRET
from tests.connectors.hubspot import _seed
from tests.connectors.hubspot.conftest import CONNECTION, World, delivery_of, event


def test_a_won_deal_becomes_closed_won_with_its_lines(hs_world: World, hs: HubSpot) -> None:
    seeded = _seed.won_deal(hs, seats=12)
    batch = [event("deal.propertyChange", seeded.deal, "dealstage", "closedwon")]
    [won] = hs_world.connector.normalize(delivery_of(batch))
    assert won.type == "syncwright.deal.closed_won.v1"
    deal = won.data.deal
    xref = hs_world.runtime.xref
    assert deal.global_id == xref.global_id_for("deal", CONNECTION, seeded.deal)
    assert deal.account_id == xref.global_id_for("account", CONNECTION, seeded.company)
    assert won.entitykey == f"account:{deal.account_id}"
    assert deal.currency == "USD" and deal.stage.value == "closed_won"
    assert [(line.quantity, line.unit_amount.amount_minor) for line in deal.lines] == [
        (1, 49_000),
        (12, 2_500),
    ]
    products = [xref.native_id_for("product", line.product_id, CONNECTION) for line in deal.lines]
    assert products == seeded.products
    # Deterministic: the same delivery maps to the same events.
    [again] = hs_world.connector.normalize(delivery_of(batch))
    assert again.id == won.id


def test_company_events_map_only_properties_that_feed_the_account(
    hs_world: World, hs: HubSpot
) -> None:
    company = _seed.company(hs, legal_entity="EU-1")
    [created] = hs_world.connector.normalize(delivery_of([event("company.creation", company)]))
    account = created.data.account
    assert created.type == "syncwright.account.upserted.v1"
    assert account.name == "Acme Inc" and account.subsidiary == "EU-1"
    assert account.bill_to is not None and account.bill_to.country == "US"

    hs.crm.companies.basic_api.update(
        company, SimplePublicObjectInput(properties={"city": "Oakland"})
    )
    [moved] = hs_world.connector.normalize(
        delivery_of([event("company.propertyChange", company, "city", "Oakland")], event_id="b2")
    )
    assert moved.data.changed_fields == ("bill_to",)
    assert moved.data.account.bill_to.city == "Oakland"
    # The billing properties syncwright writes (our own echo) start nothing.
    echo = [event("company.propertyChange", company, "syncwright_acv", "1200")]
    assert hs_world.connector.normalize(delivery_of(echo, event_id="b3")) == []


def test_open_deals_and_unknown_objects_map_to_nothing(hs_world: World, hs: HubSpot) -> None:
    seeded = _seed.won_deal(hs, stage="qualifiedtobuy")
    batch = [
        event("deal.creation", seeded.deal),
        event("deal.propertyChange", seeded.deal, "dealstage", "qualifiedtobuy"),
        event("contact.creation", 42),
    ]
    assert hs_world.connector.normalize(delivery_of(batch)) == []


def test_bad_records_and_payloads_park_with_remediation(hs_world: World, hs: HubSpot) -> None:
    company = _seed.company(hs, country="Germany")
    with pytest.raises(BusinessRuleError) as country:
        hs_world.connector.normalize(delivery_of([event("company.creation", company)]))
    assert country.value.code == "hubspot.country_unmapped" and country.value.remediation
    with pytest.raises(BusinessRuleError) as malformed:
        hs_world.connector.normalize(delivery_of([{"objectId": "x"}]))
    assert malformed.value.code == "hubspot.payload_invalid"


def test_identity_survives_a_retried_batch(hs_world: World) -> None:
    batch = [event("company.creation", 7), event("deal.creation", 8)]
    first = hs_world.connector.identify(batch, json.dumps(batch).encode())
    retried = [{**e, "attemptNumber": 1} for e in batch]
    again = hs_world.connector.identify(retried, json.dumps(retried).encode())
    assert first == again and first.event_type == "batch"
    single = hs_world.connector.identify(batch[:1], b"")
    assert single.event_type == "company.creation" and single != first


def test_the_verifier_checks_v3_over_the_configured_or_host_uri(hs_world: World) -> None:
    import time

    body = b'[{"objectId":1}]'
    stamp = str(int(time.time() * 1000))
    uri = "https://sync.example.com/hooks/hubspot"
    headers = {
        "X-HubSpot-Signature-v3": sign_v3(DEFAULT_CLIENT_SECRET, "POST", uri, body, stamp),
        "X-HubSpot-Request-Timestamp": stamp,
        "host": "sync.example.com",
    }
    verifier = hs_world.connector.webhook_verifier()
    assert verifier is not None
    verifier.verify(body, headers)  # no webhook_url: rebuilt from Host
    with pytest.raises(AuthError) as elsewhere:
        verifier.verify(body, {**headers, "host": "evil.example.com"})
    assert elsewhere.value.code == "hubspot.signature.mismatch"
    old = str(int(time.time() * 1000) - 301_000)
    stale = {
        **headers,
        "X-HubSpot-Request-Timestamp": old,
        "X-HubSpot-Signature-v3": sign_v3(DEFAULT_CLIENT_SECRET, "POST", uri, body, old),
    }
    with pytest.raises(AuthError) as replayed:
        verifier.verify(body, stale)
    assert replayed.value.code == "hubspot.signature.stale"


def test_polling_finds_won_deals_once_and_resumes_after_the_cursor(
    hs_world: World, hs: HubSpot
) -> None:
    connector = hs_world.connector
    first = _seed.won_deal(hs)
    _seed.won_deal(hs, stage="closedlost")
    batch = connector.poll("deals", None)
    assert [e.vendor_event_id for e in batch.events] == [f"poll:deal:{first.deal}:won"]
    assert batch.cursor is not None and not batch.has_more
    [won] = connector.normalize(delivery_of(json.loads(batch.events[0].body)))
    assert won.type == "syncwright.deal.closed_won.v1"
    assert connector.poll("deals", batch.cursor).events == []
    second = _seed.won_deal(hs)
    later = connector.poll("deals", batch.cursor)
    assert [e.vendor_event_id for e in later.events] == [f"poll:deal:{second.deal}:won"]


def test_the_poller_heals_a_missed_webhook_into_the_inbox(hs_world: World, hs: HubSpot) -> None:
    """No webhook reached syncwright (the app had no target): the real Poller finds the won
    deal, stores it once, and keeps its cursor."""
    from syncwright.intake.poller import Poller

    seeded = _seed.won_deal(hs)
    poller = Poller(hs_world.runtime)
    first = poller.poll_once(CONNECTION, "deals")
    assert (first.read, first.accepted) == (1, 1)
    again = poller.poll_once(CONNECTION, "deals")
    assert again.read == 0  # the stored cursor is past it
    [row] = hs_world.runtime.inbox.pending()
    assert row.vendor_event_id == f"poll:deal:{seeded.deal}:won" and row.connection == CONNECTION


def test_contacts_map_with_their_primary_company(hs_world: World, hs: HubSpot) -> None:
    from hubspot.crm.companies import SimplePublicObjectInputForCreate

    company = _seed.company(hs)
    person = hs.crm.contacts.basic_api.create(
        SimplePublicObjectInputForCreate(
            properties={"email": "Ada@Acme.example", "firstname": "Ada", "jobtitle": "CFO"},
            associations=[{"to": {"id": company}, "types": [_seed.PRIMARY_CONTACT_COMPANY]}],
        )
    ).id
    batch = [
        event("contact.propertyChange", person, "jobtitle", "CFO"),
        event("contact.propertyChange", person, "hs_lead_status", "NEW"),  # feeds no field
    ]
    [upserted] = hs_world.connector.normalize(delivery_of(batch))
    contact = upserted.data.contact
    account = hs_world.runtime.xref.global_id_for("account", CONNECTION, company)
    assert upserted.type == "syncwright.contact.upserted.v1"
    assert contact.email == "ada@acme.example" and contact.title == "CFO"
    assert contact.account_id == account and upserted.entitykey == f"account:{account}"
    assert upserted.data.changed_fields == ("title",)
    unnamed = hs.crm.contacts.basic_api.create(
        SimplePublicObjectInputForCreate(properties={"phone": "+1 555"})
    ).id
    with pytest.raises(BusinessRuleError) as nameless:
        hs_world.connector.normalize(
            delivery_of([event("contact.creation", unnamed)], event_id="c")
        )
    assert nameless.value.code == "hubspot.mapping_invalid"
