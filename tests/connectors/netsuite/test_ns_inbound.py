"""NetSuite as a source: the customers stream and its mapping, on the emulator. A change
finance makes becomes ``account.erp_changed`` with exactly the ERP facts that changed; what
syncwright wrote itself (even an older write a newer CRM change has overtaken) is none."""

from __future__ import annotations

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
