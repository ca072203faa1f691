"""SOQL subset, query/queryAll paging, polling on SystemModstamp."""

from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING, Any

import pytest
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceMalformedRequest

from syncwright.sandbox.salesforce import SalesforceState

if TYPE_CHECKING:
    from tests.sandbox.salesforce.conftest import SalesforceEnv

NEXT_URL = re.compile(r"^/services/data/v59\.0/query/01g[0-9A-Za-z]{15}-(\d+)$")


def _bulk_create(sf: Salesforce, count: int, prefix: str = "Bulk") -> None:
    """Create accounts 200 at a time through sObject Collections."""
    for start in range(0, count, 200):
        records = [
            {"attributes": {"type": "Account"}, "Name": f"{prefix} {i:05d}", "NumberOfEmployees": i}
            for i in range(start, min(count, start + 200))
        ]
        results = sf.restful(
            "composite/sobjects", method="POST", json={"allOrNone": True, "records": records}
        )
        assert all(r["success"] for r in results)


def test_where_order_limit(sf: Salesforce) -> None:
    for name, size, status in [
        ("Alpha", 10, "Active"),
        ("Beta", 50, "Trial"),
        ("Gamma", 5, None),
        ("Delta", 80, "Active"),
    ]:
        body: dict[str, Any] = {"Name": name, "NumberOfEmployees": size}
        if status:
            body["Subscription_Status__c"] = status
        sf.Account.create(body)

    def names(soql: str) -> list[str]:
        return [r["Name"] for r in sf.query(soql)["records"]]

    assert names("SELECT Name FROM Account WHERE NumberOfEmployees > 9 ORDER BY Name") == [
        "Alpha",
        "Beta",
        "Delta",
    ]
    assert names(
        "SELECT Name FROM Account WHERE Subscription_Status__c = 'active' "
        "AND NumberOfEmployees >= 10 ORDER BY NumberOfEmployees DESC"
    ) == ["Delta", "Alpha"]
    assert names(
        "select name from account where Name IN ('Beta', 'Gamma') order by name desc limit 1"
    ) == ["Gamma"]
    assert names("SELECT Name FROM Account WHERE Subscription_Status__c = null") == ["Gamma"]
    assert names(
        "SELECT Name FROM Account WHERE (Name LIKE 'a%' OR Name LIKE '%ta') "
        "AND NOT Name = 'Delta' ORDER BY Name"
    ) == ["Alpha", "Beta"]
    assert names(
        "SELECT Name FROM Account ORDER BY Subscription_Status__c NULLS LAST, Name LIMIT 2 OFFSET 1"
    ) == ["Delta", "Beta"]
    record = sf.query("SELECT Id, Name, NumberOfEmployees FROM Account WHERE Name = 'Beta'")
    assert record["totalSize"] == 1 and record["done"] is True
    first = record["records"][0]
    assert list(first) == ["attributes", "Id", "Name", "NumberOfEmployees"]
    assert first["attributes"]["type"] == "Account"
    assert sf.query("SELECT COUNT() FROM Account WHERE NumberOfEmployees < 60") == {
        "totalSize": 3,
        "done": True,
        "records": [],
    }


def test_query_all_pages_over_2000_records(sf: Salesforce) -> None:
    _bulk_create(sf, 2100)
    first = sf.query("SELECT Id, Name FROM Account ORDER BY Name")
    assert first["totalSize"] == 2100 and first["done"] is False
    assert len(first["records"]) == 2000
    match = NEXT_URL.match(first["nextRecordsUrl"])
    assert match and match.group(1) == "2000"
    everything = sf.query_all("SELECT Id, Name FROM Account ORDER BY Name")
    assert everything["totalSize"] == 2100
    names = [r["Name"] for r in everything["records"]]
    assert names == sorted(names) and len(set(names)) == 2100


def test_batch_size_header(env: SalesforceEnv, sf: Salesforce) -> None:
    _bulk_create(sf, 450)
    options = {"Sforce-Query-Options": "batchSize=200"}
    first = sf.query("SELECT Id FROM Account", headers=options)
    assert len(first["records"]) == 200 and not first["done"]
    second = sf.query_more(first["nextRecordsUrl"], identifier_is_url=True)
    third = sf.query_more(second["nextRecordsUrl"], identifier_is_url=True)
    assert len(second["records"]) == 200 and len(third["records"]) == 50
    assert third["done"] is True and "nextRecordsUrl" not in third
    ids = [r["Id"] for page in (first, second, third) for r in page["records"]]
    assert len(set(ids)) == 450
    # Salesforce treats the size as a hint within 200..2000.
    tiny = sf.query("SELECT Id FROM Account", headers={"Sforce-Query-Options": "batchSize=5"})
    assert len(tiny["records"]) == 200
    assert len(sf.query_all("SELECT Id FROM Account", headers=options)["records"]) == 450


def test_query_all_includes_deleted_records(sf: Salesforce) -> None:
    keep = sf.Account.create({"Name": "Keep"})["id"]
    drop = sf.Account.create({"Name": "Drop"})["id"]
    sf.Account.delete(drop)
    assert [r["Id"] for r in sf.query("SELECT Id FROM Account")["records"]] == [keep]
    everything = sf.query_all("SELECT Id, IsDeleted FROM Account", include_deleted=True)
    assert {r["Id"]: r["IsDeleted"] for r in everything["records"]} == {keep: False, drop: True}


def test_polling_on_system_modstamp(sf: Salesforce, env: SalesforceEnv) -> None:
    env.clock.set(dt.datetime(2026, 1, 1, 9, 0, tzinfo=dt.UTC))
    old = sf.Account.create({"Name": "Old"})["id"]
    env.clock.set(dt.datetime(2026, 1, 1, 10, 0, tzinfo=dt.UTC))
    new = sf.Account.create({"Name": "New"})["id"]
    watermark = "2026-01-01T09:30:00Z"
    soql = f"SELECT Id, SystemModstamp FROM Account WHERE SystemModstamp > {watermark}"
    changed = sf.query(soql)["records"]
    assert [r["Id"] for r in changed] == [new]
    assert changed[0]["SystemModstamp"] == "2026-01-01T10:00:00.000+0000"
    env.clock.set(dt.datetime(2026, 1, 1, 11, 0, tzinfo=dt.UTC))
    sf.Account.update(old, {"Phone": "555"})
    ids = [
        r["Id"]
        for r in sf.query(
            "SELECT Id FROM Account WHERE SystemModstamp >= 2026-01-01T10:00:00+00:00 "
            "ORDER BY SystemModstamp"
        )["records"]
    ]
    assert ids == [new, old]
    assert sf.query("SELECT COUNT() FROM Account WHERE CreatedDate = YESTERDAY")["totalSize"] == 0


@pytest.mark.parametrize(
    ("soql", "code", "fragment"),
    [
        ("SELECT Id, Colour FROM Account", "INVALID_FIELD", "No such column 'Colour'"),
        ("SELECT Id FROM Widget", "INVALID_TYPE", "sObject type 'Widget' is not supported"),
        ("SELECT Id FROM Account WHERE SystemModstamp > '2026-01-01'", "INVALID_FIELD", "dateTime"),
        (
            "SELECT Id FROM Account WHERE Name = 'a' AND Name = 'b' OR Name = 'c'",
            "MALFORMED_QUERY",
            "OR",
        ),
        ("SELECT Id FROM Account WHERE", "MALFORMED_QUERY", "unexpected"),
        ("SELECT Account.Name FROM Contact", "INVALID_FIELD", "Relationship"),
        ("SELECT Id, Id FROM Account", "MALFORMED_QUERY", "duplicate field"),
    ],
)
def test_query_errors(sf: Salesforce, soql: str, code: str, fragment: str) -> None:
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.query(soql)
    error = exc.value.content[0]
    assert error["errorCode"] == code
    assert fragment in error["message"]


def test_invalid_field_error_points_at_the_column(sf: Salesforce) -> None:
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.query("SELECT Id, Colour FROM Account")
    message = exc.value.content[0]["message"]
    assert "ERROR at Row:1:Column:12" in message


def test_invalid_query_locator(env: SalesforceEnv) -> None:
    response = env.session().get(env.api("/query/01g000000000000AAA-2000"), headers=env.headers())
    assert response.status_code == 400
    assert response.json()[0]["errorCode"] == "INVALID_QUERY_LOCATOR"


def test_soql_text_semantics_without_a_server() -> None:
    state = SalesforceState()
    state.insert("Account", {"Name": "O'Brien & Co", "Description": "x"})
    state.insert("Account", {"Name": "obrien"})
    from syncwright.sandbox.salesforce._query import execute

    def run(soql: str) -> list[str]:
        result = execute(state, soql, include_deleted=False, batch=2000, version="59.0")
        return [r["Name"] for r in result["records"]]

    assert run("SELECT Name FROM Account WHERE Name = 'o\\'brien & co'") == ["O'Brien & Co"]
    assert run("SELECT Name FROM Account WHERE Name LIKE 'o_brien%'") == ["O'Brien & Co"]
    assert run("SELECT Name FROM Account WHERE Name != 'OBRIEN'") == ["O'Brien & Co"]
    assert run("SELECT Name FROM Account WHERE Name NOT IN ('obrien')") == ["O'Brien & Co"]
    assert run("SELECT Name FROM Account WHERE CreatedDate = TODAY ORDER BY Name DESC") == [
        "obrien",
        "O'Brien & Co",
    ]
    assert run("SELECT Name FROM Account WHERE CreatedDate < LAST_N_DAYS:3") == []
