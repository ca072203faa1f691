"""Accounting periods: receivables postings (invoice, customer payment, credit memo) land in the
period of their date and are refused while it is closed or locked for A/R; quarters and years
do not decide; the periods are readable with SuiteQL."""

from __future__ import annotations

from typing import Any

import httpx

RECORD = "/services/rest/record/v1"
SUITEQL = "/services/rest/query/v1/suiteql"


def _id(response: httpx.Response) -> str:
    assert response.status_code == 204, response.text
    return response.headers["Location"].rsplit("/", 1)[1]


def _period(http: httpx.Client, name: str, start: str, end: str, **flags: bool) -> str:
    body = {"periodName": name, "startDate": start, "endDate": end, **flags}
    return _id(http.post(RECORD + "/accountingPeriod", json=body))


def _refused(response: httpx.Response, period: str) -> None:
    assert response.status_code == 400, response.text
    detail = response.json()["o:errorDetails"][0]
    assert detail["o:errorCode"] == "USER_ERROR" and detail["o:errorPath"] == "tranDate"
    assert f"accounting period {period} is closed" in detail["detail"]


def test_postings_in_a_closed_period_are_refused_until_it_reopens(http: httpx.Client) -> None:
    customer = _id(
        http.put(f"{RECORD}/customer/eid:ACC-P", json={"companyName": "P", "subsidiary": "1"})
    )
    # A closed quarter does not decide; the month periods do.
    _period(http, "Q1 2026", "2026-01-01", "2026-03-31", isQuarter=True, closed=True)
    january = _period(http, "Jan 2026", "2026-01-01", "2026-01-31", closed=True)
    february = _period(http, "Feb 2026", "2026-02-01", "2026-02-28", arLocked=True)
    march = _period(http, "Mar 2026", "2026-03-01", "2026-03-31")

    line = {"items": [{"item": {"id": "98"}, "amount": 100}]}
    invoice = {"entity": {"id": customer}, "item": line}
    _refused(http.post(RECORD + "/invoice", json={**invoice, "tranDate": "2026-01-15"}), "Jan 2026")
    _refused(http.post(RECORD + "/invoice", json={**invoice, "tranDate": "2026-02-15"}), "Feb 2026")
    booked = _id(http.post(RECORD + "/invoice", json={**invoice, "tranDate": "2026-03-15"}))
    record: dict[str, Any] = http.get(f"{RECORD}/invoice/{booked}").json()
    assert record["postingPeriod"]["id"] == march

    payment = {
        "customer": {"id": customer},
        "payment": 100,
        "tranDate": "2026-02-20",
        "apply": {"items": [{"doc": {"id": booked}, "apply": True, "amount": 100}]},
    }
    _refused(http.post(RECORD + "/customerPayment", json=payment), "Feb 2026")
    memo = {"entity": {"id": customer}, "createdFrom": {"id": booked}, "tranDate": "2026-01-02"}
    _refused(http.post(RECORD + "/creditMemo", json=memo), "Jan 2026")

    # Finance reopens February: the payment posts there.
    assert (
        http.patch(f"{RECORD}/accountingPeriod/{february}", json={"arLocked": False}).status_code
        == 204
    )
    paid = _id(http.post(RECORD + "/customerPayment", json=payment))
    assert http.get(f"{RECORD}/customerPayment/{paid}").json()["postingPeriod"]["id"] == february

    rows = http.post(
        SUITEQL,
        json={"q": "SELECT id, periodname, closed FROM accountingperiod WHERE isquarter = 'F'"},
        headers={"Prefer": "transient"},
    ).json()["items"]
    assert {(r["periodname"], r["closed"]) for r in rows} == {
        ("Jan 2026", "T"),
        ("Feb 2026", "F"),
        ("Mar 2026", "F"),
    }
    assert january in {r["id"] for r in rows}
