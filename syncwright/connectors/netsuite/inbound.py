"""NetSuite as a source: customers polled by last-modified time through SuiteQL, turned into
``account.erp_changed`` events carrying the facts the ERP owns (legal name, tax registration,
credit hold, payment terms).

Oracle: "Executing SuiteQL Queries Through REST Web Services" (section_157909186990); the
``customer`` table's ``lastmodifieddate``, ``creditholdoverride`` (AUTO / ON / OFF),
``creditlimit``, ``balance``, ``terms`` and ``taxregnumber`` columns (Records Catalog).

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
_COLUMNS = (
    "id, companyname, taxregnumber, creditholdoverride, creditlimit, balance, terms, "
    "lastmodifieddate"
)
# What a cursor may look like: it is put into a SuiteQL literal, so nothing else gets in.
_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}:\d{2}(\.\d+)?Z?)?$")


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
    return stamp, {i for i in ids.split(",") if i}


def poll_customers(connector: NetSuiteConnector, cursor: str | None, page: int) -> PollBatch:
    """Customers modified since ``cursor``, oldest first.

    ``lastmodifieddate`` has whole seconds, so the query reads the cursor's second again (a
    change later in that second must not be missed) and the cursor names the customers already
    read in it, which are left out."""
    stamp, seen = _parse_cursor(connector, cursor)
    where = f" WHERE lastmodifieddate >= '{stamp}'" if stamp else ""
    # The cursor was matched against _TIMESTAMP above: no quote can get into the literal.
    query = f"SELECT {_COLUMNS} FROM customer{where} ORDER BY lastmodifieddate, id"  # noqa: S608
    rows: list[dict[str, Any]] = []
    for row in connector.client.suiteql(query, limit=min(page + len(seen), 1000)):
        if row.get("lastmodifieddate") == stamp and str(row["id"]) in seen:
            continue
        rows.append(row)
        if len(rows) >= page:
            break
    if not rows:
        return PollBatch([], None)
    terms = _term_names(connector)
    events = [
        PolledEvent(
            f"customer:{row['id']}:{row.get('lastmodifieddate')}",
            CUSTOMER_EVENT,
            json.dumps({**row, "termsname": terms.get(str(row.get("terms")))}),
        )
        for row in rows
    ]
    last = str(rows[-1].get("lastmodifieddate"))
    ids = {str(r["id"]) for r in rows if r.get("lastmodifieddate") == last}
    if last == stamp:
        ids |= seen
    return PollBatch(events, f"{last}|{','.join(sorted(ids, key=int))}", has_more=len(rows) >= page)


def _term_names(connector: NetSuiteConnector) -> dict[str, str]:
    # The payment terms list is short; read it with each batch (no joins needed in the query).
    return {
        str(row["id"]): str(row["name"])
        for row in connector.client.suiteql("SELECT id, name FROM term")
        if row.get("name")
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
    """The facts NetSuite's customer ``row`` reports (``termsname``: the terms' name, added by
    the poll)."""
    return ErpFacts(
        company_name=str(row.get("companyname") or "").strip() or None,
        tax_number=str(row.get("taxregnumber") or "").strip() or None,
        credit_status=_credit_status(row),
        payment_terms=row.get("termsname") or None,
    )


def _modified_at(text: str, fallback: datetime) -> datetime:
    """A ``lastmodifieddate`` as an aware time (seeded records carry a date only)."""
    if not _TIMESTAMP.match(text):
        return fallback.astimezone(UTC)
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
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
