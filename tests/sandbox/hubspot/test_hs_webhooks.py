"""Webhooks as HubSpot sends them: the app's subscriptions set through the Webhooks API (SDK,
developer API key), events batched into one JSON array, signed v3 and v1, retried with a
growing ``attemptNumber``. Signatures are checked with the SDK's own validator and against the
test vectors HubSpot publishes for v1 and v2."""

from __future__ import annotations

import json

from hubspot import HubSpot
from hubspot.crm.companies import SimplePublicObjectInput, SimplePublicObjectInputForCreate
from hubspot.utils.signature import Signature
from hubspot.webhooks import SettingsChangeRequest, SubscriptionCreateRequest

from syncwright.sandbox.hubspot import (
    DEFAULT_APP_ID,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_DEVELOPER_API_KEY,
    sign_v1,
    sign_v2,
)
from tests._vendor import vendor_path
from tests.sandbox.hubspot.conftest import HubSpotEnv, Receiver

# https://developers.hubspot.com/docs/faq/v1-request-validation and .../v2-request-validation
DOC_SECRET = "yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy"
DOC_V1_BODY = (
    '[{"eventId":1,"subscriptionId":12345,"portalId":62515,"occurredAt":1564113600000,'
    '"subscriptionType":"contact.creation","attemptNumber":0,"objectId":123,"changeSource":"CRM",'
    '"changeFlag":"NEW","appId":54321}]'
)
DOC_V1_HASH = "232db2615f3d666fe21a8ec971ac7b5402d33b9a925784df3ca654d05f4817de"
DOC_V2_HASH = "eee2dddcc73c94d699f5e395f4b9d454a069a6855fbfa152e91e88823087200e"


def test_signing_matches_hubspots_published_examples() -> None:
    assert sign_v1(DOC_SECRET, DOC_V1_BODY.encode()) == DOC_V1_HASH
    assert sign_v2(DOC_SECRET, "GET", "https://www.example.com/webhook_uri", b"") == DOC_V2_HASH


def _subscribe(hubspot: HubSpotEnv, receiver: Receiver) -> None:
    developer = HubSpot(api_key=DEFAULT_DEVELOPER_API_KEY, host=hubspot.url)
    developer.webhooks.settings_api.configure(
        DEFAULT_APP_ID, SettingsChangeRequest(target_url=receiver.url, throttling={})
    )
    for event_type, prop in (
        ("company.creation", None),
        ("company.propertyChange", "city"),
        ("deal.propertyChange", "dealstage"),
    ):
        developer.webhooks.subscriptions_api.create(
            DEFAULT_APP_ID,
            SubscriptionCreateRequest(event_type=event_type, property_name=prop, active=True),
        )
    listed = developer.webhooks.subscriptions_api.get_all(DEFAULT_APP_ID).results
    assert [s.event_type for s in listed] == [
        "company.creation",
        "company.propertyChange",
        "deal.propertyChange",
    ]


def test_events_arrive_batched_and_signed(
    hubspot: HubSpotEnv, sdk: HubSpot, receiver: Receiver
) -> None:
    receiver.received.clear()
    _subscribe(hubspot, receiver)
    hubspot.emulator.webhooks.paused = True  # let the events of both writes gather in one batch
    company = sdk.crm.companies.basic_api.create(
        SimplePublicObjectInputForCreate(properties={"name": "Acme", "city": "Berlin"})
    ).id
    sdk.crm.companies.basic_api.update(company, SimplePublicObjectInput(properties={"name": "A"}))
    hubspot.emulator.webhooks.paused = False
    [delivery] = receiver.wait_for(1)
    events = json.loads(delivery.body)
    assert [(e["subscriptionType"], e.get("propertyName")) for e in events] == [
        ("company.creation", None),
        ("company.propertyChange", "city"),  # name changes have no subscription
    ]
    first = events[0]
    assert first["objectId"] == int(company) and first["portalId"] == 62515
    assert first["appId"] == DEFAULT_APP_ID and first["attemptNumber"] == 0
    assert events[1]["propertyValue"] == "Berlin" and events[1]["changeSource"] == "API"

    headers = delivery.headers
    assert Signature.is_valid(
        signature=headers["x-hubspot-signature-v3"],
        client_secret=DEFAULT_CLIENT_SECRET,
        request_body=delivery.body.decode(),
        http_uri=receiver.url,
        http_method="POST",
        signature_version="v3",
        timestamp=headers["x-hubspot-request-timestamp"],
    )
    assert headers["x-hubspot-signature-version"] == "v1"
    assert Signature.is_valid(
        signature=headers["x-hubspot-signature"],
        client_secret=DEFAULT_CLIENT_SECRET,
        request_body=delivery.body.decode(),
        signature_version="v1",
    )
    assert not Signature.is_valid(
        signature=headers["x-hubspot-signature-v3"],
        client_secret="another-secret",
        request_body=delivery.body.decode(),
        http_uri=receiver.url,
        signature_version="v3",
        timestamp=headers["x-hubspot-request-timestamp"],
    )

    # Every field the emulator sends is one HubSpot documents for webhook events.
    documented = vendor_path("hubspot/webhook-payload.fields.txt").read_text()
    for event in events:
        for name in event:
            assert f"  {name} " in documented or f"{name}:" in documented, name


def test_a_failed_delivery_is_retried_with_the_next_attempt_number(
    hubspot: HubSpotEnv, sdk: HubSpot, receiver: Receiver
) -> None:
    receiver.received.clear()
    receiver.script[:] = [500]
    _subscribe(hubspot, receiver)
    sdk.crm.companies.basic_api.create(SimplePublicObjectInputForCreate(properties={"name": "R"}))
    first, second = receiver.wait_for(2)[:2]
    assert [e["attemptNumber"] for e in json.loads(first.body)] == [0]
    assert [e["attemptNumber"] for e in json.loads(second.body)] == [1]
    assert json.loads(first.body)[0]["eventId"] == json.loads(second.body)[0]["eventId"]
    assert hubspot.emulator.webhooks.wait_idle(5.0)
    assert hubspot.emulator.webhooks.stats.failed_attempts == 1
