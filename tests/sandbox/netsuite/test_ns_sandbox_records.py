"""The record service: Oracle's sample bodies, eid upsert, validation errors, the money flow."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

RECORD = "/services/rest/record/v1"


def _id(response: httpx.Response) -> str:
    assert response.status_code == 204, response.text
    assert response.content == b""
    return response.headers["Location"].rsplit("/", 1)[1]


def _error(response: httpx.Response, status: int = 400) -> dict[str, Any]:
    """The single error detail of a NetSuite error body, after checking the envelope."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"type", "title", "status", "o:errorDetails"}
    assert body["status"] == status
    assert body["type"].startswith("https://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html")
    (detail,) = body["o:errorDetails"]
    assert detail["detail"]
    return detail


def _customer(http: httpx.Client, **fields: Any) -> str:
    body = {"companyName": "Acme Ltd", "subsidiary": {"id": "2"}, **fields}
    return _id(http.post(RECORD + "/customer", json=body))


def _tutorial_json_blocks(tutorials: Any, file_suffix: str) -> list[Any]:
    for tutorial in tutorials["tutorials"]:
        if tutorial["file"].endswith(file_suffix):
            return [b["json"] for b in tutorial["blocks"] if "json" in b]
    raise AssertionError(file_suffix)


# -- Oracle's own samples ---------------------------------------------------------------------


def test_tutorial_sales_order_bodies_are_accepted(http, vendor_tutorials) -> None:
    bodies = _tutorial_json_blocks(vendor_tutorials, "case-1-create-your-sales-order.md")
    assert len(bodies) == 2
    ids = [_id(http.post(RECORD + "/salesOrder", json=body)) for body in bodies]

    order = http.get(f"{RECORD}/salesOrder/{ids[0]}").json()
    assert order["links"] == [
        {"rel": "self", "href": f"{http.base_url}{RECORD}/salesOrder/{ids[0]}"}
    ]
    assert order["id"] == ids[0]
    assert order["entity"]["id"] == "110"
    assert order["entity"]["refName"] == "Anonymous Customer"
    assert order["entity"]["links"][0]["href"].endswith("/customer/110")
    assert order["currency"] == {
        "links": [{"rel": "self", "href": f"{http.base_url}{RECORD}/currency/1"}],
        "id": "1",
        "refName": "USA",
    }
    assert order["subsidiary"]["refName"] == "Parent Company"
    assert order["total"] == 39.95  # as in the tutorial's GET sample
    # Sublists are collapsed to a link unless expanded, as in the tutorial's GET sample.
    assert order["item"] == {
        "links": [{"rel": "self", "href": f"{http.base_url}{RECORD}/salesOrder/{ids[0]}/item"}]
    }

    second = http.get(f"{RECORD}/salesorder/{ids[1]}?expandSubResources=true").json()
    assert second["tranDate"] == "2020-06-15"  # "2020-6-15" in the tutorial
    assert second["otherRefNum"] == "11037"  # sent as "otherrefnum": names fold case
    assert second["memo"] == "This is a test memo!"
    (line,) = second["item"]["items"]
    assert line["item"]["id"] == "98"
    assert line["description"] == "Test Item"  # sent as "Description"
    assert second["customForm"] == "68"  # fields the sandbox does not model are kept


def test_tutorial_update_bodies_apply(http, vendor_tutorials) -> None:
    order_id = _id(
        http.post(
            RECORD + "/salesOrder",
            json={"entity": {"id": "110"}, "item": {"items": [{"item": {"id": 98}}]}},
        )
    )
    assert (
        http.patch(f"{RECORD}/salesOrder/{order_id}", json={"orderStatus": "B"}).status_code == 204
    )
    add_line = _tutorial_json_blocks(vendor_tutorials, "case-4-update-sales-order.md")[1]
    assert http.patch(f"{RECORD}/salesOrder/{order_id}", json=add_line).status_code == 204
    lines = http.get(f"{RECORD}/salesOrder/{order_id}/item").json()["items"]
    assert [(line["line"], line["quantity"]) for line in lines] == [(1, 1.0), (2, 2.0)]
    order = http.get(f"{RECORD}/salesOrder/{order_id}").json()
    assert order["orderStatus"] == "B"
    assert order["total"] == pytest.approx(3 * 39.95)

    replaced = {
        "item": {"items": [{"item": {"id": 100}, "rate": 40}, {"item": {"id": 98}, "rate": 50}]}
    }
    response = http.patch(f"{RECORD}/salesOrder/{order_id}?replace=item", json=replaced)
    assert response.status_code == 204
    assert http.get(f"{RECORD}/salesOrder/{order_id}").json()["total"] == 90.0


def test_oracle_invalid_sublist_reference_sample(http, vendor_errors) -> None:
    sample = next(
        e for e in vendor_errors["examples"] if e["name"] == "invalid_body_sublist_reference"
    )
    response = http.post(RECORD + "/salesOrder", json=sample["request"]["body"])
    assert response.status_code == sample["http_status"]
    assert response.json() == sample["body"]


# -- external ids and upsert ------------------------------------------------------------------


def test_eid_upsert_is_idempotent(ns, http) -> None:
    before = len(ns.sandbox.state.ids("customer"))
    body = {"companyName": "Upsert Co", "subsidiary": {"id": "1"}, "email": "a@upsert.test"}
    first = _id(http.put(RECORD + "/customer/eid:CRM-001", json=body))
    second = _id(http.put(RECORD + "/customer/eid:CRM-001", json=body))
    assert first == second
    assert len(ns.sandbox.state.ids("customer")) == before + 1

    third = _id(http.put(RECORD + "/customer/eid:CRM-001", json={"email": "b@upsert.test"}))
    assert third == first
    record = http.get(RECORD + "/customer/eid:CRM-001").json()
    assert record["id"] == first
    assert record["externalId"] == "CRM-001"
    assert record["email"] == "b@upsert.test"
    assert record["companyName"] == "Upsert Co"

    assert (
        http.patch(RECORD + "/customer/eid:CRM-001", json={"phone": "+44 20 1234"}).status_code
        == 204
    )
    assert http.get(f"{RECORD}/customer/{first}").json()["phone"] == "+44 20 1234"


def test_eid_upsert_replaces_the_sublists_it_names(ns, http) -> None:
    """PUT merges sublist lines into an existing record, as PATCH does, unless ``replace``
    names the sublist: then repeating the upsert leaves the same lines (one request, safe to
    repeat). Counted by kind in the stats."""
    body = {"entity": {"id": "110"}, "item": {"items": [{"item": {"id": 98}, "rate": 10}]}}
    url = RECORD + "/salesOrder/eid:SO-REPLACE"
    before = ns.sandbox.stats()["requests_by_kind"].get("PUT salesOrder/eid", 0)
    order = _id(http.put(url + "?replace=item", json=body))
    assert _id(http.put(url + "?replace=item", json=body)) == order
    lines = http.get(f"{RECORD}/salesOrder/{order}/item").json()["items"]
    assert [(line["line"], line["rate"]) for line in lines] == [(1, 10.0)]
    assert _id(http.put(url, json=body)) == order  # no replace: the line is added again
    assert len(http.get(f"{RECORD}/salesOrder/{order}/item").json()["items"]) == 2
    assert ns.sandbox.stats()["requests_by_kind"]["PUT salesOrder/eid"] == before + 3
    assert ns.sandbox.writes.entries()[-2]["replace"] == ["item"]


def test_put_needs_an_external_id(http) -> None:
    detail = _error(http.put(RECORD + "/customer/110", json={"email": "x@y.z"}))
    assert detail["o:errorCode"] == "INVALID_REQUEST"


def test_duplicate_external_id_on_post(http) -> None:
    _customer(http, externalId="DUP-1")
    detail = _error(
        http.post(
            RECORD + "/customer",
            json={"companyName": "Other", "subsidiary": {"id": "2"}, "externalId": "DUP-1"},
        )
    )
    assert detail["o:errorCode"] == "USER_ERROR"
    assert detail["o:errorPath"] == "externalId"


# -- validation -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "code", "path"),
    [
        ({"companyName": "No Sub"}, "USER_ERROR", "subsidiary"),
        (
            {"companyName": "Bad Sub", "subsidiary": {"id": "99"}},
            "INVALID_KEY_OR_REF",
            "subsidiary",
        ),
        (
            {"companyName": "Bad Cur", "subsidiary": {"id": "1"}, "currency": {"id": "77"}},
            "INVALID_KEY_OR_REF",
            "currency",
        ),
        (
            {"companyName": "Bad Tax", "subsidiary": {"id": "2"}, "taxItem": {"id": "4242"}},
            "INVALID_KEY_OR_REF",
            "taxItem",
        ),
        ({"subsidiary": {"id": "2"}}, "USER_ERROR", "companyName"),
        (
            {"companyName": "Dates", "subsidiary": {"id": "2"}, "isPerson": "maybe"},
            "INVALID_CONTENT",
            "isPerson",
        ),
    ],
)
def test_customer_validation(http, body: dict[str, Any], code: str, path: str) -> None:
    detail = _error(http.post(RECORD + "/customer", json=body))
    assert (detail["o:errorCode"], detail["o:errorPath"]) == (code, path)


def test_transaction_reference_validation(http) -> None:
    gb = _customer(http)
    cases = [
        (
            {"entity": {"id": "4040"}, "item": {"items": [{"item": {"id": 98}}]}},
            "INVALID_KEY_OR_REF",
            "entity",
        ),
        ({"item": {"items": [{"item": {"id": 98}}]}}, "USER_ERROR", "entity"),
        ({"entity": {"id": gb}}, "USER_ERROR", "item"),
        (
            {"entity": {"id": gb}, "item": {"items": [{"quantity": 1}]}},
            "USER_ERROR",
            "item.items[0].item",
        ),
        (
            {
                "entity": {"id": gb},
                "item": {"items": [{"item": {"id": 98}, "taxCode": {"id": "999"}}]},
            },
            "INVALID_CONTENT",
            "item.items[0].taxCode",
        ),
        # a German tax code on a UK subsidiary's order
        (
            {
                "entity": {"id": gb},
                "item": {"items": [{"item": {"id": 98}, "taxCode": {"id": "7"}}]},
            },
            "USER_ERROR",
            "item.items[0].taxCode",
        ),
        (
            {
                "entity": {"id": gb},
                "currency": {"id": "3"},
                "item": {"items": [{"item": {"id": 98}}]},
            },
            "USER_ERROR",
            "currency",
        ),
        (
            {
                "entity": {"id": gb},
                "subsidiary": {"id": "1"},
                "item": {"items": [{"item": {"id": 98}}]},
            },
            "USER_ERROR",
            "subsidiary",
        ),
    ]
    for body, code, path in cases:
        detail = _error(http.post(RECORD + "/salesOrder", json=body))
        assert (detail["o:errorCode"], detail["o:errorPath"]) == (code, path), body


def test_a_refused_write_leaves_no_trace(ns, http) -> None:
    before = ns.sandbox.state.counts()
    http.post(
        RECORD + "/salesOrder",
        json={"entity": {"id": "110"}, "item": {"items": [{"item": {"id": 9999}}]}},
    )
    assert ns.sandbox.state.counts() == before


def test_not_found_bodies(http) -> None:
    detail = _error(http.get(RECORD + "/customer/424242"), 404)
    assert detail["o:errorCode"] == "NONEXISTENT_ID"
    assert _error(http.get(RECORD + "/customer/eid:nobody"), 404)["o:errorCode"] == "NONEXISTENT_ID"
    assert _error(http.get(RECORD + "/spaceship/1"), 404)["o:errorCode"] == "INVALID_RCRD_TYPE"
    assert (
        _error(http.patch(RECORD + "/customer/424242", json={}), 404)["o:errorCode"]
        == "NONEXISTENT_ID"
    )


def test_malformed_json_body(http) -> None:
    response = http.post(
        RECORD + "/customer", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert _error(response)["o:errorCode"] == "INVALID_CONTENT"


# -- lists and paging -------------------------------------------------------------------------


def test_list_pages_with_links(http) -> None:
    for n in range(3):
        _customer(http, companyName=f"Paged {n}")
    total = http.get(RECORD + "/customer").json()["totalResults"]
    page = http.get(RECORD + "/customer", params={"limit": 2, "offset": 2}).json()
    assert page["count"] == 2
    assert page["offset"] == 2
    assert page["totalResults"] == total == 5
    assert page["hasMore"] is True
    rels = {link["rel"]: link["href"] for link in page["links"]}
    assert rels["next"].endswith("/customer?limit=2&offset=4")
    assert rels["self"].endswith("/customer?limit=2&offset=2")
    assert all(set(item) == {"links", "id"} for item in page["items"])
    last = http.get(RECORD + "/customer", params={"limit": 2, "offset": 4}).json()
    assert (last["count"], last["hasMore"]) == (1, False)
    assert (
        _error(http.get(RECORD + "/customer", params={"limit": 5000}))["o:errorQueryParam"]
        == "limit"
    )


# -- invoices, payments, credit memos --------------------------------------------------------


def test_invoice_payment_and_credit_memo_flow(http) -> None:
    customer = _customer(http, externalId="ACME-GB")
    order = _id(
        http.post(
            RECORD + "/salesOrder",
            json={
                "entity": {"id": customer},
                "startDate": "2026-02-01",
                "endDate": "2027-01-31",
                "item": {"items": [{"item": {"id": 100}, "quantity": 2, "taxCode": {"id": "5"}}]},
            },
        )
    )
    invoice = _id(
        http.post(
            RECORD + "/invoice",
            json={
                "entity": {"id": customer},
                "createdFrom": {"id": order},
                "tranDate": "2026-02-01",
                "terms": {"id": "3"},
            },
        )
    )
    inv = http.get(f"{RECORD}/invoice/{invoice}").json()
    assert (inv["subtotal"], inv["taxTotal"], inv["total"]) == (198.0, 39.6, 237.6)
    assert inv["amountRemaining"] == 237.6
    assert inv["status"] == {"id": "A", "refName": "Open"}
    assert inv["dueDate"] == "2026-03-03"
    assert inv["createdFrom"]["id"] == order
    assert inv["currency"]["refName"] == "British pound"

    overpay = http.post(
        RECORD + "/customerPayment",
        json={
            "customer": {"id": customer},
            "payment": 500,
            "apply": {"items": [{"doc": {"id": invoice}, "amount": 300}]},
        },
    )
    assert _error(overpay)["o:errorPath"] == "apply.items[0].amount"

    payment = _id(
        http.post(
            RECORD + "/customerPayment",
            json={
                "customer": {"id": customer},
                "payment": 200,
                "apply": {"items": [{"doc": {"id": invoice}, "amount": 200}]},
            },
        )
    )
    inv = http.get(f"{RECORD}/invoice/{invoice}").json()
    assert (inv["amountPaid"], inv["amountRemaining"]) == (200.0, 37.6)

    memo = _id(
        http.post(
            RECORD + "/creditMemo",
            json={
                "entity": {"id": customer},
                "item": {
                    "items": [
                        {"item": {"id": 102}, "quantity": 2, "rate": 15.67, "taxCode": {"id": "5"}}
                    ]
                },
                "apply": {"items": [{"doc": {"id": invoice}}]},
            },
        )
    )
    credit = http.get(f"{RECORD}/creditMemo/{memo}?expandSubResources=true").json()
    assert credit["total"] == 37.61
    assert credit["apply"]["items"][0]["amount"] == 37.6  # no more than is due
    assert credit["unapplied"] == 0.01
    inv = http.get(f"{RECORD}/invoice/{invoice}").json()
    assert inv["amountRemaining"] == 0.0
    assert inv["status"] == {"id": "B", "refName": "Paid In Full"}

    # dependents block deletes; deleting the payment reopens the invoice
    assert _error(http.delete(f"{RECORD}/invoice/{invoice}"))["o:errorCode"] == "USER_ERROR"
    assert http.delete(f"{RECORD}/customerPayment/{payment}").status_code == 204
    inv = http.get(f"{RECORD}/invoice/{invoice}").json()
    assert (inv["amountRemaining"], inv["status"]["id"]) == (200.0, "A")


def test_payment_must_match_customer_and_cover_applications(http) -> None:
    a = _customer(http, companyName="A")
    b = _customer(http, companyName="B")
    invoice = _id(
        http.post(
            RECORD + "/invoice",
            json={"entity": {"id": a}, "item": {"items": [{"item": {"id": 98}}]}},
        )
    )
    wrong_customer = http.post(
        RECORD + "/customerPayment",
        json={
            "customer": {"id": b},
            "payment": 10,
            "apply": {"items": [{"doc": {"id": invoice}, "amount": 10}]},
        },
    )
    assert _error(wrong_customer)["o:errorPath"] == "apply.items[0].doc"
    too_little = http.post(
        RECORD + "/customerPayment",
        json={
            "customer": {"id": a},
            "payment": 10,
            "apply": {"items": [{"doc": {"id": invoice}, "amount": 20}]},
        },
    )
    assert _error(too_little)["o:errorCode"] == "USER_ERROR"
    missing_doc = http.post(
        RECORD + "/customerPayment",
        json={"customer": {"id": a}, "payment": 10, "apply": {"items": [{"doc": {"id": "31337"}}]}},
    )
    assert _error(missing_doc)["o:errorCode"] == "INVALID_CONTENT"
    assert (
        _error(http.post(RECORD + "/customerPayment", json={"customer": {"id": a}}))["o:errorPath"]
        == "payment"
    )


def test_list_filter_q(http) -> None:
    for name, eid in [("Pipe Co", "RED|PO|1337"), ("Piper Ltd", "P-2"), ("Other", "P-3")]:
        _customer(http, companyName=name, externalId=eid, email=f"ap@{eid.lower()}.test")

    def ids(q: str) -> list[str]:
        page = http.get(RECORD + "/customer", params={"q": q}).json()
        return [item["id"] for item in page["items"]]

    # Oracle's documented workaround for external ids containing a pipe
    (pipe,) = ids('externalId IS "RED|PO|1337"')
    assert http.get(f"{RECORD}/customer/{pipe}").json()["companyName"] == "Pipe Co"
    assert len(ids("companyName START_WITH pip")) == 2
    assert len(ids('companyName START_WITH pip AND externalId IS_NOT "P-2"')) == 1
    assert len(ids('externalId IS "P-3" OR externalId IS "P-2"')) == 2
    assert len(ids("externalId ANY_OF [P-2, P-3]")) == 2
    assert ids("id EQUAL 110") == ["110"]
    assert len(ids("phone EMPTY")) == 5
    page = http.get(
        RECORD + "/customer", params={"q": "companyName CONTAIN pipe", "limit": 1}
    ).json()
    assert page["totalResults"] == 2
    assert "q=companyName+CONTAIN+pipe&limit=1&offset=1" in page["links"][0]["href"]
    for bad in ["warp IS 1", "companyName LIKE x", "companyName IS", "email IS a XOR id IS 1"]:
        response = http.get(RECORD + "/customer", params={"q": bad})
        assert _error(response)["o:errorQueryParam"] == "q", bad
    assert len(ids("externalId ANY_OF_NOT [P-2, P-3]")) == 3
    assert len(ids("companyName START_WITH_NOT pip")) == 3
