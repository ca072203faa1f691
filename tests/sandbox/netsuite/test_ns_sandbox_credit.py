"""Customer credit fields: creditLimit, creditHoldOverride (a list field) and the read-only
balance that follows invoices, payments and credit memos."""

from __future__ import annotations

from typing import Any

import httpx

RECORD = "/services/rest/record/v1"
SUITEQL = "/services/rest/query/v1/suiteql"


def _id(response: httpx.Response) -> str:
    assert response.status_code == 204, response.text
    return response.headers["Location"].rsplit("/", 1)[1]


def _customer(http: httpx.Client, customer_id: str) -> dict[str, Any]:
    response = http.get(f"{RECORD}/customer/{customer_id}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _invoice(http: httpx.Client, customer_id: str, amount: float) -> str:
    body = {
        "entity": {"id": customer_id},
        "item": {"items": [{"item": {"id": "98"}, "amount": amount}]},
    }
    return _id(http.post(RECORD + "/invoice", json=body))


def test_credit_fields_round_trip_and_hold_is_a_list_field(http: httpx.Client) -> None:
    cid = _id(
        http.put(
            f"{RECORD}/customer/eid:ACC-1",
            json={
                "companyName": "Acme Ltd",
                "subsidiary": {"id": "2"},
                "creditLimit": 5000,
                "creditHoldOverride": {"id": "ON"},
            },
        )
    )
    customer = _customer(http, cid)
    assert customer["creditLimit"] == 5000.0
    assert customer["creditHoldOverride"] == {"id": "ON", "refName": "On"}
    assert customer["balance"] == 0.0
    assert customer["isInactive"] is False

    # A bare id is accepted too; balance is read-only and ignored on write.
    assert (
        http.patch(
            f"{RECORD}/customer/{cid}", json={"creditHoldOverride": "OFF", "balance": 9}
        ).status_code
        == 204
    )
    customer = _customer(http, cid)
    assert customer["creditHoldOverride"] == {"id": "OFF", "refName": "Off"}
    assert customer["balance"] == 0.0


def test_bad_credit_values_are_refused(http: httpx.Client) -> None:
    bad_hold = http.post(
        RECORD + "/customer",
        json={"companyName": "X", "subsidiary": {"id": "1"}, "creditHoldOverride": "MAYBE"},
    )
    assert bad_hold.status_code == 400
    detail = bad_hold.json()["o:errorDetails"][0]
    assert detail["o:errorCode"] == "INVALID_CONTENT"
    assert detail["o:errorPath"] == "creditHoldOverride"

    negative = http.post(
        RECORD + "/customer",
        json={"companyName": "Y", "subsidiary": {"id": "1"}, "creditLimit": -1},
    )
    assert negative.status_code == 400
    assert negative.json()["o:errorDetails"][0]["o:errorPath"] == "creditLimit"


def test_balance_follows_invoices_payments_and_credit_memos(http: httpx.Client) -> None:
    cid = _id(
        http.post(RECORD + "/customer", json={"companyName": "Acme", "subsidiary": {"id": "2"}})
    )
    first = _invoice(http, cid, 150)
    _invoice(http, cid, 50)
    assert _customer(http, cid)["balance"] == 200.0

    payment = _id(
        http.post(
            RECORD + "/customerPayment",
            json={
                "customer": {"id": cid},
                "payment": 180,
                "apply": {"items": [{"doc": {"id": first}, "amount": 150}]},
            },
        )
    )
    # 50 still owed on the second invoice, 30 of the payment unapplied (customer credit).
    assert _customer(http, cid)["balance"] == 20.0

    memo = _id(
        http.post(
            RECORD + "/creditMemo",
            json={"entity": {"id": cid}, "item": {"items": [{"item": {"id": "98"}, "amount": 10}]}},
        )
    )
    assert _customer(http, cid)["balance"] == 10.0

    assert http.delete(f"{RECORD}/creditMemo/{memo}").status_code == 204
    assert http.delete(f"{RECORD}/customerPayment/{payment}").status_code == 204
    assert _customer(http, cid)["balance"] == 200.0

    # Other customers are untouched; seeded ones start at zero.
    assert _customer(http, "110")["balance"] == 0.0


def test_suiteql_reads_credit_columns(http: httpx.Client) -> None:
    cid = _id(
        http.post(
            RECORD + "/customer",
            json={
                "companyName": "Acme",
                "subsidiary": {"id": "2"},
                "creditLimit": 100,
                "creditHoldOverride": "AUTO",
            },
        )
    )
    _invoice(http, cid, 150)
    response = http.post(
        SUITEQL,
        json={
            "q": "SELECT id, balance, creditlimit, creditholdoverride FROM customer "
            f"WHERE id = '{cid}'"
        },
        headers={"Prefer": "transient"},
    )
    assert response.status_code == 200, response.text
    (row,) = response.json()["items"]
    assert {k: row[k] for k in ("balance", "creditlimit", "creditholdoverride")} == {
        "balance": "150.00",
        "creditlimit": "100.00",
        "creditholdoverride": "AUTO",
    }


def test_customer_refund_pays_out_a_credit_memo(http: httpx.Client) -> None:
    cid = _id(
        http.post(RECORD + "/customer", json={"companyName": "Refunded", "subsidiary": {"id": "2"}})
    )
    memo = _id(
        http.post(
            RECORD + "/creditMemo",
            json={"entity": {"id": cid}, "item": {"items": [{"item": {"id": "98"}, "amount": 40}]}},
        )
    )
    assert _customer(http, cid)["balance"] == -40.0  # credit the customer holds

    def refund(amount: float) -> httpx.Response:
        line = {"doc": {"id": memo}, "amount": amount}
        return http.post(
            RECORD + "/customerRefund", json={"customer": {"id": cid}, "apply": {"items": [line]}}
        )

    too_much = refund(41)
    assert too_much.status_code == 400
    assert "exceeds its unapplied credit" in too_much.json()["o:errorDetails"][0]["detail"]
    first = _id(refund(25))
    credit = http.get(f"{RECORD}/creditMemo/{memo}").json()
    assert credit["unapplied"] == 15.0
    assert _customer(http, cid)["balance"] == -15.0
    assert http.get(f"{RECORD}/customerRefund/{first}").json()["total"] == 25.0
    assert refund(16).status_code == 400  # only 15 left
    rows = http.post(
        SUITEQL,
        json={"q": f"SELECT type, foreigntotal FROM transaction WHERE entity = {cid}"},
        headers={"Prefer": "transient"},
    ).json()["items"]
    assert sorted((r["type"], r["foreigntotal"]) for r in rows) == [
        ("CustCred", "40.00"),
        ("CustRfnd", "25.00"),
    ]
    # A credit memo a refund pays out of cannot be deleted; the refund can, giving it back.
    assert http.delete(f"{RECORD}/creditMemo/{memo}").status_code == 400
    assert http.delete(f"{RECORD}/customerRefund/{first}").status_code == 204
    assert http.get(f"{RECORD}/creditMemo/{memo}").json()["unapplied"] == 40.0
