"""Injected faults: 5xx before applying, timeouts, lost responses, latency."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import pytest
import requests
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceGeneralError

if TYPE_CHECKING:
    from tests.sandbox.salesforce.conftest import SalesforceEnv


def _plan(env: SalesforceEnv, **plan: object) -> None:
    response = env.session().put(f"{env.url}/_sandbox/faults", json=plan)
    response.raise_for_status()


def _count(env: SalesforceEnv) -> int:
    return env.state.stats()["records"]["Account"]


def test_5xx_is_answered_before_the_write(env: SalesforceEnv, sf: Salesforce) -> None:
    _plan(env, error_5xx_rate=1.0)
    with pytest.raises(SalesforceGeneralError) as exc:
        sf.Account.create({"Name": "Never"})
    assert exc.value.status == 500
    assert exc.value.content[0]["errorCode"] == "UNKNOWN_EXCEPTION"
    assert _count(env) == 0
    # Reads are not in only_methods by default.
    assert sf.query("SELECT COUNT() FROM Account")["totalSize"] == 0
    assert env.faults.injected["error_5xx"] == 1


def test_lost_response_applies_the_write(env: SalesforceEnv) -> None:
    _plan(env, lost_response_rate=1.0, stall_seconds=1.0)
    with pytest.raises(requests.exceptions.ReadTimeout):
        env.session().post(
            env.api("/sobjects/Account"),
            json={"Name": "Committed but unknown", "ERP_Id__c": "LOST-1"},
            headers=env.headers(),
            timeout=0.3,
        )
    env.wait_for(lambda: _count(env) == 1)
    _plan(env)
    # The client probes by external id before retrying: the record is there.
    probe = env.session().get(env.api("/sobjects/Account/ERP_Id__c/LOST-1"), headers=env.headers())
    assert probe.status_code == 200


def test_timeout_does_not_apply_the_write(env: SalesforceEnv) -> None:
    _plan(env, timeout_rate=1.0, stall_seconds=0.6)
    with pytest.raises(requests.exceptions.ReadTimeout):
        env.session().post(
            env.api("/sobjects/Account"),
            json={"Name": "Timed out"},
            headers=env.headers(),
            timeout=0.2,
        )
    time.sleep(0.6)
    assert _count(env) == 0
    slow = env.session().post(
        env.api("/sobjects/Account"), json={"Name": "Patient"}, headers=env.headers(), timeout=5
    )
    assert slow.status_code == 503
    assert slow.json()[0]["errorCode"] == "SERVER_UNAVAILABLE"
    assert _count(env) == 0


def test_latency(env: SalesforceEnv, sf: Salesforce) -> None:
    _plan(env, latency_ms=150, only_methods=["GET"])
    started = time.monotonic()
    sf.query("SELECT Id FROM Account")
    assert time.monotonic() - started >= 0.15
    assert env.session().get(f"{env.url}/_sandbox/faults").json()["latency_ms"] == 150


def test_stats_and_reset(env: SalesforceEnv, sf: Salesforce) -> None:
    sf.Account.create({"Name": "x"})
    stats = env.session().get(f"{env.url}/_sandbox/stats").json()
    assert stats["records"]["Account"] == 1
    assert stats["apiUsage"] == {"used": 1, "max": 100_000}
    assert stats["events"]["latestReplayId"] >= 1
    assert env.session().post(f"{env.url}/_sandbox/reset").json() == {"ok": True}
    assert sf.query("SELECT COUNT() FROM Account")["totalSize"] == 0
    # Exactly one standard price book survives a reset, as in every org.
    books = sf.query("SELECT Name, IsStandard FROM Pricebook2")["records"]
    assert [(b["Name"], b["IsStandard"]) for b in books] == [("Standard Price Book", True)]
