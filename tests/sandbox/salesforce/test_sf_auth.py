"""OAuth token endpoint, bearer sessions, TLS."""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import TYPE_CHECKING, Any

import pytest
import requests
from requests.adapters import HTTPAdapter
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceExpiredSession

from syncwright.sandbox.salesforce import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_PASSWORD,
    DEFAULT_USERNAME,
)

if TYPE_CHECKING:
    from tests.sandbox.salesforce.conftest import SalesforceEnv

PASSWORD_GRANT = {
    "grant_type": "password",
    "client_id": DEFAULT_CLIENT_ID,
    "client_secret": DEFAULT_CLIENT_SECRET,
    "username": DEFAULT_USERNAME,
    "password": DEFAULT_PASSWORD,
}


def test_password_grant_returns_a_signed_token(env: SalesforceEnv) -> None:
    response = env.session().post(f"{env.url}/services/oauth2/token", data=PASSWORD_GRANT)
    assert response.status_code == 200
    body = response.json()
    assert set(body) >= {
        "access_token",
        "instance_url",
        "id",
        "token_type",
        "issued_at",
        "signature",
    }
    assert body["instance_url"] == env.url
    assert body["token_type"] == "Bearer"
    assert body["access_token"].startswith("00D")
    # signature = Base64(HMAC-SHA256(client_secret, id + issued_at))
    expected = hmac.new(
        DEFAULT_CLIENT_SECRET.encode(), (body["id"] + body["issued_at"]).encode(), hashlib.sha256
    ).digest()
    assert base64.b64decode(body["signature"]) == expected


def test_client_credentials_grant_with_basic_auth(env: SalesforceEnv) -> None:
    response = env.session().post(
        f"{env.url}/services/oauth2/token",
        data={"grant_type": "client_credentials"},
        auth=(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET),
    )
    assert response.status_code == 200
    token = response.json()["access_token"]
    limits = env.session().get(env.api("/limits"), headers={"Authorization": f"Bearer {token}"})
    assert limits.status_code == 200


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"password": "wrong"}, "invalid_grant"),
        ({"username": "someone@else"}, "invalid_grant"),
        ({"client_id": "nope"}, "invalid_client_id"),
        ({"client_secret": "nope"}, "invalid_client"),
        ({"grant_type": "authorization_code"}, "unsupported_grant_type"),
    ],
)
def test_token_errors(env: SalesforceEnv, change: dict[str, str], error: str) -> None:
    response = env.session().post(
        f"{env.url}/services/oauth2/token", data={**PASSWORD_GRANT, **change}
    )
    assert response.status_code == 400
    assert response.json()["error"] == error
    assert "error_description" in response.json()


def test_bad_token_gets_invalid_session_id(env: SalesforceEnv) -> None:
    session = env.session()
    for headers in ({}, {"Authorization": "Bearer not-a-token"}, {"Authorization": "Basic x"}):
        response = session.get(env.api("/sobjects/Account"), headers=headers)
        assert response.status_code == 401
        assert response.json() == [
            {"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}
        ]
    sf = Salesforce(instance_url=env.url, session_id="00Dbogus!token", session=session)
    with pytest.raises(SalesforceExpiredSession):
        sf.query("SELECT Id FROM Account")


def test_oauth_scheme_is_accepted_too(env: SalesforceEnv) -> None:
    response = env.session().get(
        env.api("/limits"), headers={"Authorization": f"OAuth {env.token()}"}
    )
    assert response.status_code == 200


class _LoginRedirect(HTTPAdapter):
    """Sends simple-salesforce's login.salesforce.com calls to the emulator (base URL only)."""

    def __init__(self, target: str) -> None:
        super().__init__()
        self.target = target

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> Any:
        assert request.url is not None
        request.url = request.url.replace("https://login.salesforce.com", self.target)
        return super().send(request, *args, **kwargs)


def test_simple_salesforce_login_and_refresh_on_expired_session(env: SalesforceEnv) -> None:
    session = env.session()
    session.mount("https://login.salesforce.com", _LoginRedirect(env.url))
    sf = Salesforce(
        username=DEFAULT_USERNAME,
        password=DEFAULT_PASSWORD,
        consumer_key=DEFAULT_CLIENT_ID,
        consumer_secret=DEFAULT_CLIENT_SECRET,
        session=session,
    )
    assert sf.sf_instance == env.url.removeprefix("https://")
    sf.Account.create({"Name": "Logged In"})
    first = sf.session_id
    # Expire every session, as a timeout would: simple-salesforce logs in again on 401.
    assert env.state.revoke_tokens() >= 1
    result = sf.query("SELECT Name FROM Account")
    assert result["records"][0]["Name"] == "Logged In"
    assert sf.session_id != first


def test_https_only_with_the_test_certificate(env: SalesforceEnv) -> None:
    untrusting = requests.Session()
    untrusting.trust_env = False
    with pytest.raises(requests.exceptions.SSLError):
        untrusting.get(f"{env.url}/services/data", timeout=5)
    assert env.session().get(f"{env.url}/services/data", timeout=5).status_code == 200
