"""HubSpot's error body, bearer auth, rate limits (per 10 seconds, daily, search) and faults,
as the official SDK sees them."""

from __future__ import annotations

import json

import httpx
import pytest
from hubspot import HubSpot
from hubspot.crm.companies import (
    PublicObjectSearchRequest,
    SimplePublicObjectInputForCreate,
)
from hubspot.crm.companies.exceptions import ApiException
from hubspot.crm.deals import SimplePublicObjectInputForCreate as DealCreate
from hubspot.crm.deals.exceptions import ApiException as DealApiException
from urllib3.util.retry import Retry

from syncwright.sandbox import ServerThread
from syncwright.sandbox.hubspot import DEFAULT_ACCESS_TOKEN, create_app
from syncwright.sandbox.hubspot._ratelimit import RateLimiter
from tests.sandbox.hubspot.conftest import HubSpotEnv

CREATE = SimplePublicObjectInputForCreate(properties={"name": "Acme"})


def _body(exc: ApiException) -> dict[str, object]:
    parsed: dict[str, object] = json.loads(exc.body)
    return parsed


def test_a_wrong_token_is_refused_with_hubspots_body(hubspot: HubSpotEnv) -> None:
    with pytest.raises(ApiException) as raised:
        hubspot.sdk(token="pat-na1-wrong").crm.companies.basic_api.create(CREATE)
    body = _body(raised.value)
    assert raised.value.status == 401
    assert body["status"] == "error" and body["category"] == "INVALID_AUTHENTICATION"
    assert body["correlationId"] and "OAuth 2.0" in str(body["message"])
    assert hubspot.emulator.state.all("companies") == []


def test_invalid_properties_are_validation_errors(sdk: HubSpot) -> None:
    with pytest.raises(ApiException) as raised:
        sdk.crm.companies.basic_api.create(
            SimplePublicObjectInputForCreate(properties={"name": "Acme", "colour": "red"})
        )
    body = _body(raised.value)
    assert raised.value.status == 400 and body["category"] == "VALIDATION_ERROR"
    assert body["errors"] == [
        {
            "message": 'Property "colour" does not exist',
            "code": "PROPERTY_DOESNT_EXIST",
            "context": {"propertyName": ["colour"]},
        }
    ]
    with pytest.raises(DealApiException) as stage:
        sdk.crm.deals.basic_api.create(DealCreate(properties={"dealstage": "won-ish"}))
    assert stage.value.status == 400 and "INVALID_OPTION" in stage.value.body


def test_burst_limit_answers_429_with_the_rate_limit_headers() -> None:
    app = create_app(per_interval=3, interval_seconds=3600)
    with ServerThread(app) as server:
        headers = {"Authorization": f"Bearer {DEFAULT_ACCESS_TOKEN}"}
        with httpx.Client(base_url=server.url, headers=headers, trust_env=False) as http:
            answers = [http.get("/crm/v3/objects/companies") for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert answers[0].headers["X-HubSpot-RateLimit-Max"] == "3"
    assert answers[0].headers["X-HubSpot-RateLimit-Remaining"] == "2"
    assert answers[0].headers["X-HubSpot-RateLimit-Interval-Milliseconds"] == "3600000"
    assert answers[2].headers["X-HubSpot-RateLimit-Remaining"] == "0"
    limited = answers[3].json()
    assert limited["errorType"] == "RATE_LIMIT" and limited["policyName"] == "TEN_SECONDLY_ROLLING"
    assert limited["category"] == "RATE_LIMITS"
    assert answers[3].headers["X-HubSpot-RateLimit-Daily-Remaining"] == str(650_000 - 3)


def test_daily_limit_and_search_limit(hubspot: HubSpotEnv, sdk: HubSpot) -> None:
    with hubspot.admin() as admin:
        admin.post("/_sandbox/rate-limit", json={"daily_used": 650_000}).raise_for_status()
    with pytest.raises(ApiException) as daily:
        sdk.crm.companies.basic_api.get_page()
    assert daily.value.status == 429 and _body(daily.value)["policyName"] == "DAILY"
    hubspot.emulator.limiter.reset()

    with hubspot.admin() as admin:
        admin.post("/_sandbox/rate-limit", json={"storm": 1, "policy": "SECONDLY"})
    with pytest.raises(ApiException) as search:
        sdk.crm.companies.search_api.do_search(PublicObjectSearchRequest(limit=1))
    assert search.value.status == 429 and _body(search.value)["policyName"] == "SECONDLY"


def test_search_has_its_own_per_second_limit_and_no_rate_limit_headers() -> None:
    limiter = RateLimiter(per_interval=100, search_per_second=2, clock=lambda: 1000.0)
    decisions = [limiter.take(search=True) for _ in range(3)]
    assert [d.policy for d in decisions] == [None, None, "SECONDLY"]
    assert all(d.headers == {} for d in decisions)
    # Searches do not use up the burst allowance of the other endpoints.
    assert limiter.take().policy is None


def test_the_sdks_retry_rides_out_a_429_storm_and_a_5xx(hubspot: HubSpotEnv) -> None:
    sdk = hubspot.sdk(
        retry=Retry(total=4, backoff_factor=0, status_forcelist=(429, 500), allowed_methods=None)
    )
    with hubspot.admin() as admin:
        admin.post("/_sandbox/rate-limit", json={"storm": 2}).raise_for_status()
    created = sdk.crm.companies.basic_api.create(CREATE)
    assert created.properties["name"] == "Acme"
    assert hubspot.emulator.limiter.rejected == 2

    with hubspot.admin() as admin:
        admin.post(
            "/_sandbox/faults", json={"error_5xx_rate": 1.0, "only_methods": ["GET"]}
        ).raise_for_status()
    with pytest.raises(ApiException) as raised:
        hubspot.sdk().crm.companies.basic_api.get_by_id(created.id)
    assert raised.value.status == 500 and _body(raised.value)["category"] == "INTERNAL_ERROR"
    with hubspot.admin() as admin:
        admin.post("/_sandbox/faults", json={}).raise_for_status()
    assert len(hubspot.emulator.state.all("companies")) == 1
