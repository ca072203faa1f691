"""Token-based authentication (OAuth 1.0a HMAC-SHA256) is checked for real."""

from __future__ import annotations

import logging
import time
from dataclasses import replace

import httpx
import pytest
import requests
from oauthlib.oauth1 import SIGNATURE_HMAC_SHA1, SIGNATURE_HMAC_SHA256
from oauthlib.oauth1 import Client as OAuth1Client
from requests_oauthlib import OAuth1

from syncwright.connectors.netsuite._oauth import TbaAuth, TbaCredentials

RECORD = "/services/rest/record/v1"
CUSTOMER_110 = RECORD + "/customer/110"


def _header(ns, *, method="GET", path=CUSTOMER_110, **overrides) -> str:
    creds = ns.credentials
    client_key = overrides.pop("client_key", creds.consumer_key)
    params = {
        "client_secret": creds.consumer_secret,
        "resource_owner_key": creds.token_id,
        "resource_owner_secret": creds.token_secret,
        "signature_method": SIGNATURE_HMAC_SHA256,
        "realm": ns.account,
    }
    params.update(overrides)
    client = OAuth1Client(client_key, **params)
    _, headers, _ = client.sign(ns.url + path, http_method=method)
    return headers["Authorization"]


def _assert_invalid_login(response: httpx.Response | requests.Response) -> None:
    assert response.status_code == 401
    body = response.json()
    assert body["title"] == "Unauthorized"
    assert body["o:errorDetails"][0]["o:errorCode"] == "INVALID_LOGIN"


def test_signed_request_is_accepted(ns, http) -> None:
    response = http.get(CUSTOMER_110)
    assert response.status_code == 200
    assert response.json()["companyName"] == "Anonymous Customer"
    assert ns.sandbox.verifier.accepted == 1


def test_requests_oauthlib_as_an_independent_client(ns) -> None:
    creds = ns.credentials
    auth = OAuth1(
        creds.consumer_key,
        client_secret=creds.consumer_secret,
        resource_owner_key=creds.token_id,
        resource_owner_secret=creds.token_secret,
        signature_method="HMAC-SHA256",
        realm=ns.account,
    )
    with requests.Session() as session:
        session.trust_env = False
        got = session.get(ns.url + CUSTOMER_110, auth=auth, timeout=5)
        assert got.status_code == 200, got.text
        created = session.post(
            ns.url + RECORD + "/customer",
            json={"companyName": "Requests Co", "subsidiary": {"id": "1"}},
            auth=auth,
            timeout=5,
        )
        assert created.status_code == 204, created.text
        assert "/customer/" in created.headers["Location"]
        # A query string is part of the signature base string; oauthlib must agree with itself.
        listed = session.get(
            ns.url + RECORD + "/customer", params={"limit": 1, "offset": 1}, auth=auth, timeout=5
        )
        assert listed.status_code == 200, listed.text


@pytest.mark.parametrize("field", ["consumer_secret", "token_secret"])
def test_wrong_secret_is_rejected(ns, field: str) -> None:
    wrong = replace(ns.credentials, **{field: "0" * 64})
    with ns.client(wrong) as client:
        _assert_invalid_login(client.get(CUSTOMER_110))
    assert ns.sandbox.verifier.failures == ["signature"]


def test_unknown_token_and_consumer_are_rejected(ns) -> None:
    for field in ("consumer_key", "token_id"):
        wrong = replace(ns.credentials, **{field: "f" * 64})
        with ns.client(wrong) as client:
            _assert_invalid_login(client.get(CUSTOMER_110))
    assert ns.sandbox.verifier.failures == ["client,signature", "resource_owner,signature"]


def test_wrong_realm_is_rejected(ns) -> None:
    with ns.client(realm="OTHER_ACCOUNT") as client:
        _assert_invalid_login(client.get(CUSTOMER_110))
    assert ns.sandbox.verifier.failures == ["realm"]


def test_replayed_nonce_is_rejected(ns) -> None:
    header = _header(ns)
    first = httpx.get(ns.url + CUSTOMER_110, headers={"Authorization": header})
    assert first.status_code == 200
    again = httpx.get(ns.url + CUSTOMER_110, headers={"Authorization": header})
    _assert_invalid_login(again)
    assert ns.sandbox.verifier.failures == ["nonce_replayed"]


def test_timestamp_outside_window_is_rejected(ns) -> None:
    stale = str(int(time.time()) - 3600)
    header = _header(ns, timestamp=stale, nonce="a1b2c3d4e5f6a7b8c9d0")
    _assert_invalid_login(httpx.get(ns.url + CUSTOMER_110, headers={"Authorization": header}))
    assert ns.sandbox.verifier.failures == ["parameters"]


def test_hmac_sha1_is_refused(ns) -> None:
    # Oracle ended HMAC-SHA1 support for TBA in 2023.1.
    header = _header(ns, signature_method=SIGNATURE_HMAC_SHA1)
    _assert_invalid_login(httpx.get(ns.url + CUSTOMER_110, headers={"Authorization": header}))


def test_signature_covers_method_and_path(ns) -> None:
    header = _header(ns, method="GET", path=RECORD + "/customer/107")
    _assert_invalid_login(httpx.get(ns.url + CUSTOMER_110, headers={"Authorization": header}))
    assert ns.sandbox.verifier.failures == ["signature"]


def test_missing_or_foreign_authorization_is_rejected(ns) -> None:
    _assert_invalid_login(httpx.get(ns.url + CUSTOMER_110))
    _assert_invalid_login(httpx.get(ns.url + CUSTOMER_110, headers={"Authorization": "Bearer abc"}))


def test_401_body_is_oracles_sample(ns, vendor_errors) -> None:
    sample = next(e for e in vendor_errors["examples"] if e["name"] == "invalid_login")
    response = httpx.get(ns.url + CUSTOMER_110)
    assert response.status_code == sample["http_status"]
    assert response.json() == sample["body"]


def test_secrets_never_reach_logs_or_repr(ns, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    with ns.client() as client:
        assert client.get(CUSTOMER_110).status_code == 200
    wrong = replace(ns.credentials, token_secret="1" * 64)
    with ns.client(wrong) as client:
        assert client.get(CUSTOMER_110).status_code == 401
    creds = ns.credentials
    shown = caplog.text + repr(creds) + str(creds) + repr(TbaAuth(creds, realm=ns.account))
    for secret in (creds.consumer_secret, creds.token_secret, "1" * 64):
        assert secret not in shown
    assert creds.consumer_key in repr(creds)


def test_credentials_validate_themselves() -> None:
    with pytest.raises(ValueError, match="token_secret"):
        TbaCredentials("ck", "cs", "ti", "")
    env = {
        "NETSUITE_CONSUMER_KEY": "ck",
        "NETSUITE_CONSUMER_SECRET": "cs",
        "NETSUITE_TOKEN_ID": "ti",
        "NETSUITE_TOKEN_SECRET": "ts",
    }
    assert TbaCredentials.from_env(env).redacted() == {"consumer_key": "ck", "token_id": "ti"}
    with pytest.raises(ValueError, match="NETSUITE_TOKEN_SECRET"):
        TbaCredentials.from_env({k: v for k, v in env.items() if k != "NETSUITE_TOKEN_SECRET"})
