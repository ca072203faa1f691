"""Daily API allocation: Sforce-Limit-Info, /limits, REQUEST_LIMIT_EXCEEDED."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceRefusedRequest

if TYPE_CHECKING:
    from tests.sandbox.salesforce.conftest import SalesforceEnv


def test_every_response_carries_sforce_limit_info(env: SalesforceEnv, sf: Salesforce) -> None:
    session = env.session()
    headers = env.headers()
    first = session.get(env.api("/limits"), headers=headers)
    second = session.get(env.api("/sobjects/Account/001000000000000AAA"), headers=headers)
    assert first.headers["Sforce-Limit-Info"] == "api-usage=1/100000"
    assert second.status_code == 404
    assert second.headers["Sforce-Limit-Info"] == "api-usage=2/100000"
    accounts = sf.Account
    accounts.create({"Name": "Counted"})
    # simple-salesforce parses the header into api_usage.
    usage = accounts.api_usage["api-usage"]
    assert (usage.used, usage.total) == (3, 100_000)


def test_limits_resource(sf: Salesforce) -> None:
    limits = sf.limits()
    assert limits["DailyApiRequests"]["Max"] == 100_000
    assert limits["DailyApiRequests"]["Remaining"] == 100_000 - 1


def test_request_limit_exceeded(env: SalesforceEnv, sf: Salesforce) -> None:
    admin = env.session()
    admin.post(f"{env.url}/_sandbox/limits", json={"used": 0, "max": 3}).raise_for_status()
    sf.Account.create({"Name": "1"})
    sf.Account.create({"Name": "2"})
    sf.query("SELECT Id FROM Account")
    with pytest.raises(SalesforceRefusedRequest) as exc:
        sf.Account.create({"Name": "over"})
    assert exc.value.status == 403
    assert exc.value.content == [
        {"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}
    ]
    raw = env.session().get(env.api("/limits"), headers=env.headers())
    assert raw.status_code == 403
    assert raw.headers["Sforce-Limit-Info"] == "api-usage=3/3"
    # Nothing past the limit was applied; resetting the counter opens the door again.
    assert env.state.stats()["records"]["Account"] == 2
    admin.post(f"{env.url}/_sandbox/limits/reset").raise_for_status()
    assert sf.query("SELECT COUNT() FROM Account")["totalSize"] == 2
