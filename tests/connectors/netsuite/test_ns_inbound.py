"""NetSuite as a source: the customers stream and its mapping, on the emulator. A change
finance makes becomes ``account.erp_changed`` with exactly the ERP facts that changed; what
syncwright wrote itself (even an older write a newer CRM change has overtaken) is none."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from syncwright.connectors import Delivery
from syncwright.connectors.netsuite.outbound import upsert_customer
from syncwright.policy.entities import field_digests
from tests.connectors._state import set_account_state
from tests.contract.conftest import delivery

if TYPE_CHECKING:
    from tests.connectors.netsuite.conftest import NsWorld


def _write_and_link(ns: NsWorld, gid: str) -> tuple[dict[str, Any], str]:
    """Upsert the account as a workflow would, remember the write, seed the canonical state."""
    account = ns.account(gid)
    result = upsert_customer(ns.ctx("netsuite.upsert_account"), "netsuite", account)
    ledger = result["ledger"]
    ns.runtime.policy_store.remember_writes("netsuite", "account", gid, ledger["fields"])
    _set_state(ns, account)
    return account, str(result["native_id"])


def _set_state(ns: NsWorld, account: dict[str, Any]) -> None:
    set_account_state(ns.runtime, account)


def _polled(ns: NsWorld, native_id: str) -> Delivery:
    events = ns.connector.poll("customers", None).events
    (row,) = [e for e in events if e.vendor_event_id.startswith(f"customer:{native_id}:")]
    return delivery("netsuite", row.vendor_event_id, row.event_type, row.body.encode())


def test_finance_changes_become_one_event_with_the_changed_facts(ns_world: NsWorld) -> None:
    _, native_id = _write_and_link(ns_world, "acct_hold")
    assert ns_world.connector.normalize(_polled(ns_world, native_id)) == []  # our own write

    ns_world.connector.client.update(
        "customer", native_id, {"creditHoldOverride": "ON", "terms": {"id": "2"}}
    )
    (event,) = ns_world.connector.normalize(_polled(ns_world, native_id))
    data = event.data
    assert event.type == "syncwright.account.erp_changed.v1"
    assert event.entitykey == "account:acct_hold"
    assert data.changed_fields == ("credit_status", "payment_terms")
    assert data.account.credit_status == "hold" and data.account.payment_terms == "Net 15"
    assert data.account.legal_name == "Client acct_hold Ltd"  # untouched facts keep their value


def test_an_overtaken_write_of_ours_is_not_a_legal_name(ns_world: NsWorld) -> None:
    account, native_id = _write_and_link(ns_world, "acct_race")
    # The CRM renamed the account since; our write of the new name has not reached NetSuite.
    _set_state(ns_world, {**account, "name": "Renamed Corp", "legal_name": "Renamed Corp Ltd"})
    assert ns_world.connector.normalize(_polled(ns_world, native_id)) == []
    # A legal name finance types in is one.
    ns_world.connector.client.update("customer", native_id, {"companyName": "Renamed Holdings"})
    (event,) = ns_world.connector.normalize(_polled(ns_world, native_id))
    assert event.data.changed_fields == ("legal_name",)
    assert event.data.account.legal_name == "Renamed Holdings"
    assert field_digests(event.data.account.model_dump(mode="json"))  # a well-formed account


def test_unlinked_customers_are_not_mapped(ns_world: NsWorld) -> None:
    native_id = ns_world.connector.client.create(
        "customer", {"companyName": "Walk-in Ltd", "subsidiary": {"id": "1"}}
    )
    assert ns_world.connector.normalize(_polled(ns_world, native_id)) == []


def test_the_poll_cursor_is_a_to_char_time_that_works_on_the_account_date_format(
    ns_world: NsWorld,
) -> None:
    """The emulator answers ``lastmodifieddate`` as NetSuite does (``12/3/2026``: no time, not
    sortable); the poll reads it through TO_CHAR and compares through TO_TIMESTAMP, so a
    customer changed later on the same day is read once, and nothing else comes back."""
    client = ns_world.connector.client
    first = client.create("customer", {"companyName": "Cursor One", "subsidiary": {"id": "1"}})
    second = client.create("customer", {"companyName": "Cursor Two", "subsidiary": {"id": "1"}})
    for native_id in (first, second):  # the day before, so the change below is later
        with ns_world.state.lock:
            record = ns_world.state.raw("customer", native_id)
            assert record is not None
            day = dt.date.fromisoformat(record["lastModifiedDate"][:10]) - dt.timedelta(days=1)
            record["lastModifiedDate"] = f"{day.isoformat()}T23:59:59Z"
    shown = {
        r["id"]: r["lastmodifieddate"]
        for r in client.suiteql("SELECT id, lastmodifieddate FROM customer")
    }
    assert "/" in shown[first] and ":" not in shown[first]  # the account's date format
    batch = ns_world.connector.poll("customers", None)
    while batch.has_more:
        batch = ns_world.connector.poll("customers", batch.cursor)
    cursor = batch.cursor
    assert cursor is not None
    stamp, _, ids = cursor.partition("|")
    assert len(stamp) == 19 and stamp[10] == " " and second in ids.split(",")
    assert ns_world.connector.poll("customers", cursor).events == []  # nothing new

    client.update("customer", first, {"companyName": "Cursor One Renamed"})
    events = ns_world.connector.poll("customers", cursor).events
    assert [e.vendor_event_id.split(":")[1] for e in events] == [first]
    # A cursor saved before (ISO) still reads the change.
    iso = f"{stamp.replace(' ', 'T')}Z|{ids}"
    assert [
        e.vendor_event_id.split(":")[1] for e in ns_world.connector.poll("customers", iso).events
    ] == [first]


def test_financial_dimensions_are_read_by_name(ns_world: NsWorld) -> None:
    _, native_id = _write_and_link(ns_world, "acct_dims")
    ns_world.connector.client.update(
        "customer", native_id, {"department": {"id": "1"}, "class": {"id": "2"}}
    )
    (event,) = ns_world.connector.normalize(_polled(ns_world, native_id))
    assert event.data.changed_fields == ("financial_dimensions",)
    dimensions = event.data.account.financial_dimensions
    assert dimensions is not None
    assert (dimensions.department, dimensions.classification, dimensions.location) == (
        "Sales",
        "Mid-Market",
        None,
    )
