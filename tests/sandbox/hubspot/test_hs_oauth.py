"""A public app's OAuth through the SDK: a refresh token swapped for an access token that the
CRM API accepts until it expires."""

from __future__ import annotations

import json

import pytest
from hubspot import HubSpot
from hubspot.crm.companies.exceptions import ApiException
from hubspot.oauth.exceptions import ApiException as OAuthApiException

from syncwright.sandbox.hubspot import (
    DEFAULT_CLIENT_SECRET,
    DEFAULT_OAUTH_CLIENT_ID,
    DEFAULT_REFRESH_TOKEN,
)
from tests.sandbox.hubspot.conftest import HubSpotEnv


def test_refresh_token_grant_and_expiry(hubspot: HubSpotEnv) -> None:
    oauth = HubSpot(host=hubspot.url).oauth.tokens_api
    tokens = oauth.create(
        grant_type="refresh_token",
        client_id=DEFAULT_OAUTH_CLIENT_ID,
        client_secret=DEFAULT_CLIENT_SECRET,
        refresh_token=DEFAULT_REFRESH_TOKEN,
    )
    assert tokens.token_type == "bearer" and tokens.expires_in == 1800
    assert tokens.refresh_token == DEFAULT_REFRESH_TOKEN
    app = hubspot.sdk(token=tokens.access_token)
    assert app.crm.companies.basic_api.get_page().results == []

    hubspot.emulator.oauth.expire_all()
    with pytest.raises(ApiException) as expired:
        app.crm.companies.basic_api.get_page()
    assert expired.value.status == 401
    assert json.loads(expired.value.body)["category"] == "EXPIRED_AUTHENTICATION"

    with pytest.raises(OAuthApiException) as bad:
        oauth.create(
            grant_type="refresh_token",
            client_id=DEFAULT_OAUTH_CLIENT_ID,
            client_secret=DEFAULT_CLIENT_SECRET,
            refresh_token="revoked",
        )
    assert bad.value.status == 400
    assert json.loads(bad.value.body)["status"] == "BAD_REFRESH_TOKEN"
