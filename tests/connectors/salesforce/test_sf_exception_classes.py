"""Exception classes from what the Salesforce emulator really answers, through our Salesforce
client's error translation: too_large, duplicate and parse."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from syncwright.connectors.salesforce.client import classify_response
from syncwright.exceptions.classify import classify
from tests.connectors.salesforce._support import API_VERSION, Org


@pytest.fixture
def rest(org: Org) -> Iterator[httpx.Client]:
    token = org.state.issue_token()
    with httpx.Client(
        base_url=f"{org.url}/services/data/v{API_VERSION}",
        verify=ssl.create_default_context(cafile=org.certfile),
        trust_env=False,
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    ) as client:
        yield client


def _class_of(response: httpx.Response) -> tuple[str, str]:
    assert response.status_code >= 400, response.text
    error = classify_response(response, what="test")
    return error.code, classify(error.code, error.kind)


def _created(response: httpx.Response) -> str:
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return str(created["id"])


def test_too_many_records_in_one_request_is_too_large(rest: httpx.Client) -> None:
    records = [{"attributes": {"type": "Account"}, "Name": f"A{n}"} for n in range(201)]
    answer = rest.post("/composite/sobjects", json={"allOrNone": False, "records": records})
    assert _class_of(answer) == ("salesforce.exceeded_id_limit", "too_large")


def test_a_second_price_for_the_same_product_is_a_duplicate(rest: httpx.Client) -> None:
    product = _created(rest.post("/sobjects/Product2", json={"Name": "Pro", "IsActive": True}))
    found = rest.get("/query", params={"q": "SELECT Id FROM Pricebook2 WHERE IsStandard = true"})
    book = found.json()["records"][0]["Id"]
    entry = {"Pricebook2Id": book, "Product2Id": product, "UnitPrice": 10, "IsActive": True}
    _created(rest.post("/sobjects/PricebookEntry", json=entry))
    again = rest.post("/sobjects/PricebookEntry", json=entry)
    assert _class_of(again) == ("salesforce.duplicate_value", "duplicate")


def test_a_body_that_is_not_json_is_a_parse_error(rest: httpx.Client) -> None:
    answer = rest.post(
        "/sobjects/Account", content=b'{"Name": ', headers={"Content-Type": "application/json"}
    )
    assert _class_of(answer) == ("salesforce.json_parser_error", "parse")
