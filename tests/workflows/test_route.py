"""The routing decision (``route.<role>``) on a real Runtime: the account's facts from the
caller, else the canonical state, else nothing known; the first matching rule; parks with the
facts and what to change. Nothing here calls a vendor."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from syncwright.config import parse_settings
from syncwright.errors import BusinessRuleError
from syncwright.model import Account, AccountUpsertedV1, make_event
from syncwright.runtime import Runtime
from syncwright.workflows._route import Route, decide_routes
from tests.contract.conftest import step_context

CONFIG = """\
database: {{url: "sqlite:///{db}"}}
connections:
  home:
    vendor: netsuite
    options: {{role: erp, account: "1", subsidiaries: {{"Parent Company": 1}}}}
  apac:
    vendor: netsuite
    options: {{role: erp, account: "2", subsidiaries: {{"Syncwright KK": 4}}}}
routing:
  erp:
    - name: japan
      when: {{billing_country: [JP]}}
      connection: apac
      subsidiary: Syncwright KK
      currencies: [JPY]
    - {{name: americas, when: {{billing_country: [US, CA]}}, connection: home}}
"""


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    db = Path(tmp_path_factory.mktemp("route")) / "route.db"
    started = Runtime(parse_settings(CONFIG.format(db=db)))
    yield started
    started.close()


def account(gid: str, country: str | None, **extra: Any) -> dict[str, Any]:
    bill_to = {"line1": "1 Main St", "city": "Capital", "country": country} if country else None
    return Account(global_id=gid, name=f"Account {gid}", bill_to=bill_to, **extra).model_dump(
        mode="json"
    )


def decide(runtime: Runtime, gid: str, given: dict[str, Any] | None, currency: str | None) -> Any:
    return decide_routes(
        step_context(runtime, "route.erp"), "erp", "upsert_sales_order", gid, given, currency
    )


def test_first_matching_rule_with_its_legal_entity(runtime: Runtime) -> None:
    japan = decide(runtime, "acct_jp", account("acct_jp", "JP"), "JPY")
    assert japan["routes"] == [
        {"connection": "apac", "rule": "japan", "subsidiary": "Syncwright KK"}
    ]
    us = decide(runtime, "acct_us", account("acct_us", "US", subsidiary="Parent Company"), "USD")
    assert us["routes"] == [{"connection": "home", "rule": "americas", "subsidiary": None}]
    # What the target receives: the rule's legal entity replaces the account's own.
    route = Route(runtime.connection("apac"), "japan", "Syncwright KK")
    sent = route.account(account("acct_jp", "JP", subsidiary="Parent Company"))
    assert sent["subsidiary"] == "Syncwright KK"


def test_facts_come_from_the_canonical_state_when_the_caller_has_no_account(
    runtime: Runtime,
) -> None:
    event = make_event(
        "syncwright.account.upserted.v1",
        AccountUpsertedV1(account=Account.model_validate(account("acct_ca", "CA"))),
        source="syncwright/home",
        correlation_id="cor-1",
        entity_key="account:acct_ca",
        time=datetime(2026, 12, 1, tzinfo=UTC),
    )
    assert runtime.policy.admit("home", event.model_dump(mode="json", by_alias=True)).event
    decided = decide(runtime, "acct_ca", None, None)
    assert decided["routes"][0]["connection"] == "home"
    assert decided["facts"]["billing_country"] == "CA"


def test_no_rule_parks_with_the_facts(runtime: Runtime) -> None:
    with pytest.raises(BusinessRuleError) as raised:
        decide(runtime, "acct_br", account("acct_br", "BR", currency="BRL"), None)
    assert raised.value.code == "routing.no_route"
    assert "billing_country=BR, currency=BRL, legal_entity=unknown" in raised.value.remediation
    with pytest.raises(BusinessRuleError) as unknown:
        decide(runtime, "acct_nowhere", None, None)  # not in the state, linked nowhere
    assert "billing_country=unknown" in unknown.value.remediation


def test_a_currency_the_entity_does_not_book_parks(runtime: Runtime) -> None:
    with pytest.raises(BusinessRuleError) as raised:
        decide(runtime, "acct_jp", account("acct_jp", "JP"), "USD")
    assert raised.value.code == "routing.currency_not_booked"
    assert "never converts" in raised.value.remediation
    assert "add USD to the `currencies` of rule 'japan'" in raised.value.remediation
