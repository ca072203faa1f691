"""SuiteQL dates as a NetSuite account answers them: the date alone in the account's format,
TO_CHAR for a sortable time, TO_TIMESTAMP / TO_DATE or the account's format to compare."""

from __future__ import annotations

import pytest

from syncwright.sandbox.netsuite import NetSuiteApiError, NetSuiteState
from syncwright.sandbox.netsuite._suiteql import run

STAMP = "YYYY-MM-DD HH24:MI:SS"


@pytest.fixture
def state() -> NetSuiteState:
    db = NetSuiteState()
    for name, modified in [
        ("Early", "2026-03-04T09:05:01Z"),
        ("Noon", "2026-12-03T12:00:00Z"),
        ("Late", "2026-12-03T18:25:15Z"),
    ]:
        rid = db.create("customer", {"companyName": name, "subsidiary": {"id": "1"}})
        record = db.raw("customer", rid)
        assert record is not None
        record["lastModifiedDate"] = modified
    return db


def _names(state: NetSuiteState, where: str) -> list[str]:
    rows = run(
        state, f"SELECT companyname FROM customer WHERE id >= 1000 AND ({where}) ORDER BY id"
    )
    return [r["companyname"] for r in rows]


def test_a_date_column_answers_the_date_alone_in_the_account_format(state: NetSuiteState) -> None:
    rows = run(state, "SELECT companyname, lastmodifieddate FROM customer WHERE id >= 1000")
    assert [r["lastmodifieddate"] for r in rows] == ["3/4/2026", "12/3/2026", "12/3/2026"]
    star = run(state, "SELECT * FROM customer WHERE companyname = 'Late'")
    assert star[0]["lastmodifieddate"] == "12/3/2026"


def test_to_char_gives_a_sortable_time_and_orders_within_a_day(state: NetSuiteState) -> None:
    rows = run(
        state,
        f"SELECT companyname, TO_CHAR(lastmodifieddate, '{STAMP}') AS modified, "
        "TO_CHAR(lastmodifieddate, 'DD.MM.YYYY') FROM customer WHERE id >= 1000 "
        f"ORDER BY TO_CHAR(lastmodifieddate, '{STAMP}') DESC",
    )
    assert [(r["companyname"], r["modified"], r["expr1"]) for r in rows] == [
        ("Late", "2026-12-03 18:25:15", "03.12.2026"),
        ("Noon", "2026-12-03 12:00:00", "03.12.2026"),
        ("Early", "2026-03-04 09:05:01", "04.03.2026"),
    ]


def test_comparisons_take_to_timestamp_or_the_account_format(state: NetSuiteState) -> None:
    later = f"lastmodifieddate >= TO_TIMESTAMP('2026-12-03 12:00:00', '{STAMP}')"
    assert _names(state, later) == ["Noon", "Late"]
    after_noon = f"lastmodifieddate > TO_DATE('2026-12-03 12:00:00', '{STAMP}')"
    assert _names(state, after_noon) == ["Late"]
    assert _names(state, "lastmodifieddate >= '12/3/2026'") == ["Noon", "Late"]
    assert _names(state, "lastmodifieddate < '12/3/2026'") == ["Early"]


@pytest.mark.parametrize(
    "where",
    [
        "lastmodifieddate >= '2026-12-03T12:00:00Z'",  # ISO is not the account's format
        "lastmodifieddate >= '2026-12-03'",
        "lastmodifieddate >= TO_TIMESTAMP('2026-12-03', 'YYYY-MM-DD HH24:MI:SS')",
        "lastmodifieddate >= TO_TIMESTAMP('2026-12-03', 'YYYY-Q')",
        "TO_CHAR(lastmodifieddate, 'WW') = '1'",
    ],
)
def test_a_text_that_is_not_a_date_in_its_format_is_refused(
    state: NetSuiteState, where: str
) -> None:
    with pytest.raises(NetSuiteApiError) as info:
        _names(state, where)
    assert info.value.code == "INVALID_PARAMETER"
