"""SuiteQL over REST: filters, ordering, paging, errors; and the parser on its own."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from syncwright.sandbox.netsuite import NetSuiteApiError, NetSuiteState
from syncwright.sandbox.netsuite._suiteql import run

RECORD = "/services/rest/record/v1"
SUITEQL = "/services/rest/query/v1/suiteql"
TRANSIENT = {"Prefer": "transient"}


def _query(http: httpx.Client, q: str, **params: int) -> dict[str, Any]:
    response = http.post(SUITEQL, json={"q": q}, params=params, headers=TRANSIENT)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.fixture
def customers(http: httpx.Client) -> list[str]:
    ids = []
    for n, (name, sub) in enumerate(
        [
            ("Alpha GmbH", "3"),
            ("Beta Ltd", "2"),
            ("Gamma Ltd", "2"),
            ("Delta Inc", "1"),
            ("Epsilon Ltd", "2"),
        ]
    ):
        body = {
            "companyName": name,
            "subsidiary": {"id": sub},
            "externalId": f"CRM-{n}",
            "email": f"billing@{name.split()[0].lower()}.test",
        }
        response = http.post(RECORD + "/customer", json=body)
        assert response.status_code == 204, response.text
        ids.append(response.headers["Location"].rsplit("/", 1)[1])
    return ids


def test_filters_and_columns(http, customers) -> None:
    body = _query(
        http,
        "SELECT id, companyname, externalid FROM customer "
        "WHERE subsidiary = 2 AND companyname LIKE '%Ltd' ORDER BY companyname DESC",
    )
    assert [row["companyname"] for row in body["items"]] == ["Gamma Ltd", "Epsilon Ltd", "Beta Ltd"]
    assert all(row["links"] == [] for row in body["items"])
    assert set(body["items"][0]) == {"links", "id", "companyname", "externalid"}
    assert (body["count"], body["totalResults"], body["hasMore"], body["offset"]) == (
        3,
        3,
        False,
        0,
    )

    by_eid = _query(http, "SELECT id FROM customer WHERE externalid IN ('CRM-0', 'CRM-4')")
    assert sorted(row["id"] for row in by_eid["items"]) == sorted([customers[0], customers[4]])

    star = _query(http, f"SELECT * FROM customer c WHERE c.id = {customers[3]}")["items"][0]
    assert star["companyname"] == "Delta Inc"
    assert star["subsidiary"] == "1"
    assert star["isperson"] == "F"


def test_paging_follows_limit_and_offset(http, customers) -> None:
    q = "SELECT id FROM customer WHERE externalid LIKE 'CRM-%' ORDER BY id"
    first = _query(http, q, limit=2)
    assert (first["count"], first["hasMore"], first["totalResults"]) == (2, True, 5)
    rels = {link["rel"]: link["href"] for link in first["links"]}
    assert rels["next"].endswith("suiteql?limit=2&offset=2")
    seen = [row["id"] for row in first["items"]]
    offset = 2
    while True:
        page = _query(http, q, limit=2, offset=offset)
        assert page["offset"] == offset
        seen += [row["id"] for row in page["items"]]
        if not page["hasMore"]:
            break
        offset += 2
    assert seen == customers
    misaligned = http.post(
        SUITEQL, json={"q": q}, params={"limit": 2, "offset": 3}, headers=TRANSIENT
    )
    assert misaligned.json()["o:errorDetails"][0]["o:errorQueryParam"] == "offset"


def test_transactions_table(http, customers) -> None:
    order = http.post(
        RECORD + "/salesOrder",
        json={
            "entity": {"id": customers[1]},
            "item": {"items": [{"item": {"id": 98}, "quantity": 3}]},
        },
    )
    order_id = order.headers["Location"].rsplit("/", 1)[1]
    invoice = http.post(
        RECORD + "/invoice", json={"entity": {"id": customers[1]}, "createdFrom": {"id": order_id}}
    )
    assert invoice.status_code == 204
    rows = _query(
        http,
        "SELECT id, type, foreigntotal, foreignamountunpaid, status FROM transaction "
        f"WHERE entity = {customers[1]} ORDER BY id",
    )["items"]
    assert [(r["type"], r["foreigntotal"]) for r in rows] == [
        ("SalesOrd", "119.85"),
        ("CustInvc", "119.85"),
    ]
    assert rows[1]["status"] == "A"
    lines = _query(
        http,
        f"SELECT item, quantity, netamount FROM transactionline WHERE transaction = {order_id}",
    )["items"]
    assert lines == [{"links": [], "item": "98", "quantity": "3", "netamount": "119.85"}]


@pytest.mark.parametrize(
    ("q", "code"),
    [
        ("SELECT id FROM spaceship", "INVALID_PARAMETER"),
        ("SELECT warp FROM customer", "INVALID_PARAMETER"),
        ("SELECT id FROM customer WHERE", "INVALID_PARAMETER"),
        ("DELETE FROM customer", "INVALID_PARAMETER"),
    ],
)
def test_invalid_queries(http, q: str, code: str) -> None:
    response = http.post(SUITEQL, json={"q": q}, headers=TRANSIENT)
    assert response.status_code == 400
    assert response.json()["o:errorDetails"][0]["o:errorCode"] == code


def test_prefer_transient_is_required(http) -> None:
    response = http.post(SUITEQL, json={"q": "SELECT id FROM customer"})
    assert response.status_code == 400
    detail = response.json()["o:errorDetails"][0]
    assert (detail["o:errorCode"], detail["o:errorHeader"]) == ("INVALID_HEADER", "Prefer")


# -- the parser on its own ------------------------------------------------------------------


@pytest.fixture
def state() -> NetSuiteState:
    db = NetSuiteState()
    for name, sub, email in [
        ("Acme", "1", "a@acme.test"),
        ("O'Brien & Co", "2", None),
        ("acme lower", "3", "x@y.z"),
    ]:
        db.create("customer", {"companyName": name, "subsidiary": {"id": sub}, "email": email})
    return db


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ("companyname = 'Acme'", ["Acme"]),
        ("companyname = 'O''Brien & Co'", ["O'Brien & Co"]),
        ("UPPER(companyname) LIKE 'ACME%'", ["Acme", "acme lower"]),
        ("companyname LIKE 'Acme%'", ["Acme"]),
        ("companyname NOT LIKE '%cme%'", ["O'Brien & Co"]),
        ("email IS NULL", ["O'Brien & Co"]),
        ("email IS NOT NULL AND subsidiary <> 1", ["acme lower"]),
        ("subsidiary >= 2 OR companyname = 'Acme'", ["Acme", "O'Brien & Co", "acme lower"]),
        ("NOT (subsidiary IN (1, 2))", ["acme lower"]),
        ("subsidiary NOT IN (1, 2)", ["acme lower"]),
        ("id > 110 AND id < 1002", ["Acme", "O'Brien & Co"]),
    ],
)
def test_where_clauses(state: NetSuiteState, where: str, expected: list[str]) -> None:
    rows = run(
        state, f"SELECT companyname FROM customer WHERE id >= 1000 AND ({where}) ORDER BY id"
    )
    assert [r["companyname"] for r in rows] == expected


def test_select_aliases_distinct_and_multi_key_order(state: NetSuiteState) -> None:
    rows = run(state, "select distinct subsidiary as sub from customer order by sub desc;")
    assert [r["sub"] for r in rows] == ["3", "2", "1"]
    rows = run(
        state,
        "SELECT currency cur, companyname FROM customer WHERE id >= 1000 "
        "ORDER BY currency ASC, companyname DESC",
    )
    assert [(r["cur"], r["companyname"]) for r in rows] == [
        ("1", "Acme"),
        ("2", "O'Brien & Co"),
        ("3", "acme lower"),
    ]


def test_parser_errors_are_netsuite_errors(state: NetSuiteState) -> None:
    for bad in [
        "",
        "SELECT",
        "SELECT id FROM customer x.y",
        "SELECT z.id FROM customer c",
        "SELECT id FROM customer WHERE id = 1 ORDER companyname",
        "SELECT id FROM customer WHERE id ~ 1",
    ]:
        with pytest.raises(NetSuiteApiError) as info:
            run(state, bad)
        assert info.value.code == "INVALID_PARAMETER"
