"""SalesforceClient against the HTTPS emulator: OAuth grants and re-authentication, the call
options header, SOQL paging, writes, and error classification into syncwright.errors."""

from __future__ import annotations

import logging
from typing import Any

import httpx
import pytest
from simple_salesforce import Salesforce

from syncwright.connectors.salesforce.client import SalesforceClient, SalesforceCredentials
from syncwright.errors import AuthError, BusinessRuleError, TransientError, UncertainOutcomeError
from syncwright.sandbox import FaultPlan
from syncwright.sandbox.salesforce import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET
from tests.connectors.salesforce._support import Org, header

MISSING_ACCOUNT = "001000000000001AAA"


def test_password_grant_and_call_options_mark_our_writes(org: Org, sf: Salesforce) -> None:
    account = sf.Account.create({"Name": "Acme"})["id"]
    start = org.mark()
    with org.client() as client:
        client.update("Account", account, {"Website": "https://acme.test"})
        assert client.get("Account", account, ["Name", "Website"])["Website"] == (
            "https://acme.test"
        )
        assert client.instance_url == org.url
        assert client.api_usage is not None and client.api_usage[0] >= 2
    (event,) = org.cdc(start)
    assert header(event)["changeOrigin"].endswith(";client=syncwright")


def test_client_credentials_grant_and_custom_client_name(org: Org, sf: Salesforce) -> None:
    account = sf.Account.create({"Name": "Acme"})["id"]
    start = org.mark()
    creds = SalesforceCredentials(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET)
    assert creds.grant_type == "client_credentials"
    with org.client(credentials=creds, client_name="sw-prod") as client:
        client.update("Account", account, {"Name": "Acme SA"})
    assert header(org.cdc(start)[0])["changeOrigin"].endswith(";client=sw-prod")


def test_expired_session_is_renewed_once(org: Org, sf: Salesforce) -> None:
    account = sf.Account.create({"Name": "Acme"})["id"]
    with org.client() as client:
        client.get("Account", account, ["Name"])
        logins = org.state.request_counts.get("oauth2/token", 0)
        org.state.revoke_tokens()
        assert client.get("Account", account, ["Name"])["Name"] == "Acme"
        assert org.state.request_counts["oauth2/token"] == logins + 1


def test_session_refused_again_after_reauth_is_an_auth_error(org: Org) -> None:
    # Every data request finds its session revoked: the one re-login does not help.
    def revoke(request: httpx.Request) -> None:
        if request.url.path.startswith("/services/data"):
            org.state.revoke_tokens()

    import ssl

    http = httpx.Client(
        verify=ssl.create_default_context(cafile=org.certfile),
        event_hooks={"request": [revoke]},
    )
    creds = SalesforceCredentials(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET)
    with SalesforceClient(org.url, creds, http=http) as client, pytest.raises(AuthError) as err:
        client.get("Account", MISSING_ACCOUNT, ["Name"])
    http.close()
    assert err.value.code == "salesforce.invalid_session_id"


def test_bad_credentials_are_an_auth_error_without_secrets(org: Org) -> None:
    creds = SalesforceCredentials(DEFAULT_CLIENT_ID, "not-the-secret", "someone", "pw-XYZ")
    with org.client(credentials=creds) as client, pytest.raises(AuthError) as err:
        client.get("Account", MISSING_ACCOUNT)
    assert err.value.code == "salesforce.oauth.invalid_client"
    assert "not-the-secret" not in str(err.value) and "pw-XYZ" not in str(err.value)
    assert "not-the-secret" not in repr(creds) and "not-the-secret" not in repr(client)


def test_tokens_never_reach_the_log(org: Org, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with org.client() as client:
        client.update("Account", org.state.insert("Account", {"Name": "A"}), {"Name": "B"})
        token = client._token
    assert token and token not in caplog.text
    assert DEFAULT_CLIENT_SECRET not in caplog.text


def test_soql_follows_next_records_url(org: Org) -> None:
    for n in range(450):
        org.state.insert("Account", {"Name": f"Account {n:03d}"})
    with org.client() as client:
        before = org.state.request_counts.get("GET query", 0)
        names = [r["Name"] for r in client.query("SELECT Name FROM Account", batch_size=200)]
        assert org.state.request_counts["GET query"] - before == 3  # 200 + 200 + 50
        assert len(names) == 450 and len(set(names)) == 450
        assert list(client.query("SELECT Id FROM Account WHERE Name = 'none'")) == []


def test_upsert_by_external_id_creates_then_updates(org: Org) -> None:
    with org.client() as client:
        created = client.upsert("Account", "ERP_Id__c", "C-100", {"Name": "Acme"})
        again = client.upsert("Account", "ERP_Id__c", "C-100", {"Name": "Acme SA"})
        assert created["created"] is True and again["created"] is False
        assert created["id"] == again["id"]
        assert client.get("Account", created["id"], ["Name"])["Name"] == "Acme SA"


def _raises(call: Any, kind: type[Exception]) -> Any:
    with pytest.raises(kind) as err:
        call()
    return err.value


def test_business_errors_carry_codes_and_remediation(org: Org) -> None:
    account = org.state.insert("Account", {"Name": "Acme"})
    with org.client() as client:
        unknown = _raises(lambda: client.get("Account", account, ["Nope__c"]), BusinessRuleError)
        assert unknown.code == "salesforce.invalid_field" and "Object Manager" in (
            unknown.remediation
        )
        write = _raises(
            lambda: client.update("Account", account, {"Nope__c": 1}), BusinessRuleError
        )
        assert write.code == "salesforce.invalid_field"
        missing = _raises(lambda: client.get("Account", MISSING_ACCOUNT), BusinessRuleError)
        assert missing.code == "salesforce.not_found"
        required = _raises(
            lambda: client.upsert("Account", "ERP_Id__c", "C-1", {"Website": "x"}),
            BusinessRuleError,
        )
        assert required.code == "salesforce.required_field_missing"
        assert "Name" in required.message
        malformed = _raises(lambda: client.get("Account", "001'; DROP"), BusinessRuleError)
        assert malformed.code == "salesforce.malformed_id"


def test_request_limit_exceeded_is_transient(org: Org) -> None:
    account = org.state.insert("Account", {"Name": "Acme"})
    with org.client() as client:
        client.get("Account", account, ["Name"])
        used = org.state.api_used
        org.state.reset_api_usage(used, used)  # the daily allocation is now used up
        error = _raises(lambda: client.get("Account", account, ["Name"]), TransientError)
        assert error.code == "salesforce.request_limit_exceeded"
        assert client.api_usage == (used, used)
        org.state.reset_api_usage(0, 100_000)
        assert client.get("Account", account, ["Name"])["Name"] == "Acme"


def test_server_errors_and_read_timeouts_are_transient(org: Org) -> None:
    account = org.state.insert("Account", {"Name": "Acme"})
    with org.client(timeout=0.5) as client:
        client.authenticate()
        org.faults.configure(FaultPlan(error_5xx_rate=1.0, only_methods=frozenset({"GET"})))
        error = _raises(lambda: client.get("Account", account), TransientError)
        assert error.code == "salesforce.unknown_exception"
        org.faults.configure(
            FaultPlan(timeout_rate=1.0, stall_seconds=1.0, only_methods=frozenset({"GET"}))
        )
        error = _raises(lambda: client.get("Account", account), TransientError)
        assert error.code == "salesforce.timeout"


def test_a_lost_write_answer_is_an_uncertain_outcome(org: Org) -> None:
    account = org.state.insert("Account", {"Name": "Acme"})
    with org.client(timeout=0.5) as client:
        client.authenticate()
        org.faults.configure(
            FaultPlan(lost_response_rate=1.0, stall_seconds=1.0, only_methods=frozenset({"PATCH"}))
        )
        error = _raises(
            lambda: client.update("Account", account, {"Name": "Applied"}), UncertainOutcomeError
        )
        assert error.code == "salesforce.write_outcome_unknown"
        org.faults.configure(FaultPlan())
        # The write landed although its answer was lost: that is what the probe finds out.
        assert client.get("Account", account, ["Name"])["Name"] == "Applied"


def test_unreachable_is_transient(org: Org) -> None:
    creds = SalesforceCredentials(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET)
    with SalesforceClient("https://127.0.0.1:9", creds, timeout=1) as client:
        error = _raises(lambda: client.get("Account", MISSING_ACCOUNT), TransientError)
        assert error.code == "salesforce.network"
