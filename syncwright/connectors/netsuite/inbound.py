"""NetSuite as a source: customers polled by last-modified time through SuiteQL, turned into
``account.erp_changed`` events carrying the facts the ERP owns (legal name, tax registration,
credit hold, payment terms, financial dimensions).

Oracle: "Executing SuiteQL Queries Through REST Web Services" (section_157909186990); the
``customer`` table's ``lastmodifieddate``, ``creditholdoverride`` (AUTO / ON / OFF),
``creditlimit``, ``balance``, ``terms``, ``taxregnumber``, ``department``, ``class`` and
``location`` columns (Records Catalog), the last three named by the ``department``,
``classification`` and ``location`` tables ("Classifications in NetSuite").

One polled row is one inbox delivery whose vendor event id is ``customer:<id>:<last modified>``,
so a customer read twice (say after a crash between the inbox and the cursor) is absorbed by the
inbox and starts nothing. Normalizing lays the ERP's facts over the account's
canonical state: fields the ERP does not report keep their value, so the delta the policy gate
computes holds only what the ERP changed, and what syncwright wrote into NetSuite coming back
(echo) changes nothing.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from syncwright.connectors._base.connector import Delivery, PollBatch, PolledEvent
from syncwright.connectors._base.erp_source import ERP_ACCOUNT_FIELDS, ErpFacts, erp_changed
from syncwright.errors import BusinessRuleError, ConfigError

if TYPE_CHECKING:
    from syncwright.connectors.netsuite.connector import NetSuiteConnector

__all__ = [
    "CUSTOMER_EVENT",
    "ERP_ACCOUNT_FIELDS",
    "erp_facts",
    "normalize_customer",
    "poll_customers",
]

log = logging.getLogger("syncwright.netsuite")

CUSTOMER_EVENT = "customer.changed"
#: Canonical financial dimension -> (customer column, SuiteQL table naming its values).
DIMENSIONS = {
    "department": ("department", "department"),
    "classification": ("class", "classification"),
    "location": ("location", "location"),
}
# SuiteQL answers a date column as the date alone in the account's date format (``12/3/2026``),
# which neither sorts nor keeps the time: the poll reads and compares the last-modified time
# through Oracle's TO_CHAR / TO_TIMESTAMP with this format (in the account's time zone).
_STAMP_FORMAT = "YYYY-MM-DD HH24:MI:SS"
_MODIFIED = f"TO_CHAR(lastmodifieddate, '{_STAMP_FORMAT}')"
_COLUMNS = (
    "id, companyname, taxregnumber, creditholdoverride, creditlimit, balance, terms, "
    f"department, class, location, {_MODIFIED} AS lastmodifieddate"
)
# What a cursor may look like: it is put into a SuiteQL literal, so nothing else gets in.
# ``YYYY-MM-DD HH:MM:SS``; cursors saved before the TO_CHAR poll carry ISO ``T``/``Z``.
_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}:\d{2}(\.\d+)?Z?)?$")


def _parse_cursor(connector: NetSuiteConnector, cursor: str | None) -> tuple[str | None, set[str]]:
    """``<last modified>|<ids already read at that time>`` -> (time, ids)."""
    if cursor is None:
        return None, set()
    stamp, _, ids = cursor.partition("|")
    if not _TIMESTAMP.match(stamp) or not all(i.isdigit() for i in ids.split(",") if i):
        raise ConfigError(
            f"connection {connector.name!r}: customers cursor {cursor!r} is not <timestamp>|<ids>",
            code="netsuite.bad_cursor",
            problems=[f"sw_cursors {connector.name}/customers: reset it or delete it"],
        )
    return _stamp(stamp), {i for i in ids.split(",") if i}


def _stamp(text: str) -> str:
    """``YYYY-MM-DD HH:MM:SS`` (what TO_CHAR answers) from a cursor, ISO ones included."""
    text = text.rstrip("Z").replace("T", " ").split(".")[0]
    return text if len(text) > 10 else f"{text} 00:00:00"


def poll_customers(connector: NetSuiteConnector, cursor: str | None, page: int) -> PollBatch:
    """Customers modified since ``cursor``, oldest first.

    ``lastmodifieddate`` has whole seconds, so the query reads the cursor's second again (a
    change later in that second must not be missed) and the cursor names the customers already
    read in it, which are left out."""
    stamp, seen = _parse_cursor(connector, cursor)
    where = (
        f" WHERE lastmodifieddate >= TO_TIMESTAMP('{stamp}', '{_STAMP_FORMAT}')" if stamp else ""
    )
    # The cursor was matched against _TIMESTAMP above: no quote can get into the literal.
    query = f"SELECT {_COLUMNS} FROM customer{where} ORDER BY {_MODIFIED}, id"  # noqa: S608
    rows: list[dict[str, Any]] = []
    for row in connector.client.suiteql(query, limit=min(page + len(seen), 1000)):
        if row.get("lastmodifieddate") == stamp and str(row["id"]) in seen:
            continue
        rows.append(row)
        if len(rows) >= page:
            break
    if not rows:
        return PollBatch([], None)
    names = {"terms": _names(connector, "term")} | {
        column: _names(connector, table) for column, table in DIMENSIONS.values()
    }
    events = [
        PolledEvent(
            f"customer:{row['id']}:{row.get('lastmodifieddate')}",
            CUSTOMER_EVENT,
            json.dumps(
                {
                    **row,
                    **{
                        f"{column}name": known.get(str(row.get(column)))
                        for column, known in names.items()
                    },
                }
            ),
        )
        for row in rows
    ]
    last = str(rows[-1].get("lastmodifieddate"))
    ids = {str(r["id"]) for r in rows if r.get("lastmodifieddate") == last}
    if last == stamp:
        ids |= seen
    return PollBatch(events, f"{last}|{','.join(sorted(ids, key=int))}", has_more=len(rows) >= page)


def _names(connector: NetSuiteConnector, table: str) -> dict[str, str]:
    # Payment terms and classifications are short lists; read them with each batch (no joins
    # needed in the query). ``table`` is one of this module's constants.
    return {
        str(row["id"]): str(row["name"])
        for row in connector.client.suiteql(f"SELECT id, name FROM {table}")  # noqa: S608
        if row.get("name")
    }


def _dimensions(row: Mapping[str, Any]) -> dict[str, str]:
    """The customer's financial dimensions by name (``<column>name``, added by the poll)."""
    return {
        name: str(row[f"{column}name"])
        for name, (column, _table) in DIMENSIONS.items()
        if row.get(f"{column}name")
    }


def _credit_status(row: Mapping[str, Any]) -> str:
    """``ON``: on hold; ``OFF``: never held; ``AUTO``: held when the balance is over the limit."""
    override = str(row.get("creditholdoverride") or "AUTO").upper()
    if override == "ON":
        return "hold"
    limit = row.get("creditlimit")
    over = limit not in (None, "") and Decimal(row.get("balance") or 0) > Decimal(str(limit))
    return "hold" if override == "AUTO" and over else "good"


def erp_facts(row: Mapping[str, Any]) -> ErpFacts:
    """The facts NetSuite's customer ``row`` reports (``termsname`` and the dimensions'
    ``<column>name``: names added by the poll)."""
    return ErpFacts(
        company_name=str(row.get("companyname") or "").strip() or None,
        tax_number=str(row.get("taxregnumber") or "").strip() or None,
        credit_status=_credit_status(row),
        payment_terms=row.get("termsname") or None,
        financial_dimensions=_dimensions(row),
    )


def _modified_at(text: str, fallback: datetime) -> datetime:
    """A polled ``lastmodifieddate`` (``YYYY-MM-DD HH:MM:SS``) as an aware time; the account's
    time zone is taken as UTC (the time only dates the event, the cursor compares in NetSuite)."""
    if not _TIMESTAMP.match(text):
        return fallback.astimezone(UTC)
    parsed = datetime.fromisoformat(_stamp(text))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def normalize_customer(connector: NetSuiteConnector, delivery: Delivery) -> list[Any]:
    """One polled customer row -> ``account.erp_changed`` with the ERP facts that differ from the
    canonical state (none: no event). Customers syncwright never linked are not mapped."""
    if delivery.event_type != CUSTOMER_EVENT:
        return []
    try:
        row = delivery.json()
        native_id = str(row["id"])
    except (ValueError, TypeError, KeyError) as exc:
        raise BusinessRuleError(
            f"netsuite delivery {delivery.vendor_event_id} is not a customer row",
            code="netsuite.malformed_row",
            remediation="The delivery is not a SuiteQL customer row with an id; it was not "
            "written by syncwright's poller. Resolve this exception; nothing else is needed.",
        ) from exc
    services = connector.services
    global_id = services.xref.global_id_for("account", connector.name, native_id)
    if global_id is None:
        log.info("netsuite customer %s is not linked to an account; skipped", native_id)
        return []
    return erp_changed(
        services,
        delivery,
        global_id,
        erp_facts(row),
        when=_modified_at(str(row.get("lastmodifieddate") or ""), delivery.received_at),
        event_id=f"{connector.name}:{delivery.vendor_event_id}",
    )
