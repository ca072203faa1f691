"""NetSuite customers are updated partially: after the first full upsert, a re-sync PATCHes
only the body fields that changed since syncwright wrote them, and nothing at all when nothing
changed. Proven by what the emulator says it received (``GET /_sandbox/writes``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import httpx

from syncwright.connectors.netsuite.outbound import upsert_customer

if TYPE_CHECKING:
    from tests.connectors.netsuite.conftest import NsWorld


def _writes(world: NsWorld, external_id: str) -> list[Any]:
    """(method, body) of each customer write for ``external_id`` the emulator received."""
    answer = httpx.get(f"{world.emulator.url}/_sandbox/writes", trust_env=False, timeout=10)
    answer.raise_for_status()
    return [
        (w["method"], w["body"])
        for w in answer.json()["writes"]
        if w["record"] == "customer"
        and (w.get("external_id") == external_id or w["id"] == f"eid:{external_id}")
    ]


def test_resyncs_patch_only_what_changed(ns_world: NsWorld) -> None:
    account = ns_world.account("acct_partial")
    ctx = ns_world.ctx

    first = upsert_customer(ctx("erp.upsert_customer"), "netsuite", account)
    native_id = first["native_id"]
    assert first["write"] == "upsert"
    (put,) = _writes(ns_world, "acct_partial")
    assert put[0] == "PUT" and put[1]["companyName"] == "Client acct_partial Ltd"
    assert set(first["sent_fields"]) == set(put[1])

    # Unchanged re-sync: nothing is sent.
    again = upsert_customer(ctx("erp.upsert_customer"), "netsuite", account)
    assert (again["write"], again["sent_fields"], again["native_id"]) == (
        "unchanged",
        [],
        native_id,
    )
    assert len(_writes(ns_world, "acct_partial")) == 1

    # A new billing email: exactly that field is PATCHed.
    changed = {**account, "billing_email": "billing@acct_partial.test"}
    patched = upsert_customer(ctx("erp.upsert_customer"), "netsuite", changed)
    assert patched["write"] == "patch" and patched["sent_fields"] == ["email"]
    assert _writes(ns_world, "acct_partial")[1:] == [
        ("PATCH", {"email": "billing@acct_partial.test"})
    ]
    record = ns_world.state.find_by_external_id("customer", "acct_partial")
    assert record["email"] == "billing@acct_partial.test"
    assert record["companyName"] == "Client acct_partial Ltd"  # untouched, still there

    # A field edited in NetSuite by someone else survives a re-sync that did not change it.
    ns_world.state.update("customer", native_id, {"companyName": "Edited In NetSuite"})
    upsert_customer(ctx("erp.upsert_customer"), "netsuite", changed)
    assert len(_writes(ns_world, "acct_partial")) == 2
    edited = ns_world.state.find_by_external_id("customer", "acct_partial")
    assert edited["companyName"] == "Edited In NetSuite"


def test_a_customer_deleted_in_netsuite_is_upserted_again(ns_world: NsWorld) -> None:
    account = ns_world.account("acct_gone")
    first = upsert_customer(ns_world.ctx("erp.upsert_customer"), "netsuite", account)
    ns_world.state.delete("customer", first["native_id"])
    renamed = {**account, "legal_name": "Gone But Back Ltd"}

    back = upsert_customer(ns_world.ctx("erp.upsert_customer"), "netsuite", renamed)

    assert back["write"] == "upsert"  # the PATCH found no record; the full body went instead
    record = ns_world.state.find_by_external_id("customer", "acct_gone")
    assert record["companyName"] == "Gone But Back Ltd" and record["subsidiary"] == "2"
    assert back["native_id"] == str(record["id"]) != first["native_id"]
    # From then on, PATCHes by external id reach the new record.
    again = upsert_customer(
        ns_world.ctx("erp.upsert_customer"), "netsuite", {**renamed, "legal_name": "Back Ltd"}
    )
    assert again["write"] == "patch" and again["sent_fields"] == ["companyName"]
    assert ns_world.state.find_by_external_id("customer", "acct_gone")["companyName"] == "Back Ltd"
