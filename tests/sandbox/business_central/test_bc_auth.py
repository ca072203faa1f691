"""msal (Microsoft's own library) gets Business Central tokens from the emulator's Entra ID:
OpenID discovery, the client-credentials grant, and Entra's error bodies."""

from __future__ import annotations

import pytest
import requests

from syncwright.sandbox.business_central import BC_SCOPE
from tests.sandbox.business_central.conftest import BcEnv


def test_msal_acquires_a_token_and_the_api_accepts_it(bc: BcEnv) -> None:
    result = bc.msal_app().acquire_token_for_client(scopes=[BC_SCOPE])
    assert result["token_type"] == "Bearer"
    assert 3000 < result["expires_in"] <= 3599
    session = bc.session()
    answer = session.get(
        f"{bc.api}/companies", headers={"Authorization": f"Bearer {result['access_token']}"}
    )
    assert answer.status_code == 200
    assert [c["name"] for c in answer.json()["value"]] == ["CRONUS UK Ltd."]
    # msal caches the token: a second call does not ask Entra again.
    again = bc.msal_app()
    issued = bc.sandbox.tokens.issued
    first = again.acquire_token_for_client(scopes=[BC_SCOPE])
    second = again.acquire_token_for_client(scopes=[BC_SCOPE])
    assert first["access_token"] == second["access_token"]
    assert bc.sandbox.tokens.issued == issued + 1


def test_wrong_secret_gets_entras_error(bc: BcEnv) -> None:
    result = bc.msal_app(secret="not-the-secret").acquire_token_for_client(scopes=[BC_SCOPE])
    assert result["error"] == "invalid_client"
    assert result["error_description"].startswith("AADSTS7000215:")
    assert result["error_codes"] == [7000215]


def test_wrong_scope_is_refused(bc: BcEnv) -> None:
    result = bc.msal_app().acquire_token_for_client(scopes=["https://graph.microsoft.com/.default"])
    assert result["error"] == "invalid_scope"


def test_unknown_tenant_fails_discovery(bc: BcEnv) -> None:
    import msal

    with pytest.raises(ValueError, match="Unable to get authority configuration"):
        msal.ConfidentialClientApplication(
            bc.client_id,
            client_credential=bc.client_secret,
            authority=f"{bc.url}/no-such-tenant",
            instance_discovery=False,
            http_client=bc.session(),
        ).acquire_token_for_client(scopes=[BC_SCOPE])


@pytest.mark.parametrize("header", [None, "Bearer nonsense", "Basic dXNlcjpwYXNz"])
def test_api_refuses_missing_or_bad_tokens(bc: BcEnv, header: str | None) -> None:
    headers = {"Authorization": header} if header else {}
    answer = bc.session().get(f"{bc.api}/companies", headers=headers)
    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "Authentication_InvalidCredentials"
    assert "Bearer" in answer.headers["WWW-Authenticate"]


def test_expired_token_is_refused_until_a_new_one(bc: BcEnv) -> None:
    session = bc.authed()
    assert session.get(f"{bc.api}/companies").status_code == 200
    bc.sandbox.tokens.expire_all()
    assert session.get(f"{bc.api}/companies").status_code == 401
    session.headers["Authorization"] = f"Bearer {bc.token()}"  # msal cache: same token, refused
    fresh = requests.Session()
    fresh.trust_env = False
    fresh.verify = bc.certfile
    token = bc.sandbox.tokens.issue(
        {
            "grant_type": "client_credentials",
            "client_id": bc.client_id,
            "client_secret": bc.client_secret,
            "scope": BC_SCOPE,
        }
    )["access_token"]
    assert (
        fresh.get(f"{bc.api}/companies", headers={"Authorization": f"Bearer {token}"}).status_code
        == 200
    )
