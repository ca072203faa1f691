"""Accounting periods: whether a date's period takes accounts-receivable postings (not closed,
not locked for A/R or for all), read with SuiteQL. The dependency watcher asks this while a
posting waits for its period to reopen.

https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/section_N1463004.html
(Accounting Periods; record ``accountingPeriod``)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from syncwright.connectors.netsuite.client import NetSuiteClient

# A date column answers in the account's date format (``11/1/2026``, or ``1/11/2026`` in a
# D/M/YYYY account): TO_CHAR gives ISO whatever the format.
_PERIODS = (
    "SELECT id, periodname, TO_CHAR(startdate, 'YYYY-MM-DD') AS startdate, "
    "TO_CHAR(enddate, 'YYYY-MM-DD') AS enddate, isquarter, isyear, closed, arlocked, alllocked "
    "FROM accountingperiod"
)


def _day(value: Any) -> dt.date | None:
    """A SuiteQL date: ISO (``2026-11-01``, what the query's TO_CHAR answers) or the
    ``M/D/YYYY`` format."""
    text = str(value or "").strip()[:10]
    for pattern in ("%Y-%m-%d", "%m/%d/%Y", "%d/%m/%Y"):
        try:
            return dt.datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    return None


def _flag(row: Mapping[str, Any], name: str) -> bool:
    return str(row.get(name) or "F").upper() in ("T", "TRUE")


def period_open(client: NetSuiteClient, date: str | None) -> bool:
    """Whether a posting dated ``date`` (ISO; empty: today) can be posted now. A date no
    period covers is open, as NetSuite treats an account without Accounting Periods."""
    when = _day(date) if date else dt.datetime.now(dt.UTC).date()
    if when is None:
        return False
    for row in client.suiteql(_PERIODS):
        if _flag(row, "isquarter") or _flag(row, "isyear"):
            continue
        start, end = _day(row.get("startdate")), _day(row.get("enddate"))
        if start is None or end is None or not start <= when <= end:
            continue
        return not (_flag(row, "closed") or _flag(row, "arlocked") or _flag(row, "alllocked"))
    return True
