"""NetSuiteClient: record service and SuiteQL against the emulator."""

from __future__ import annotations

import httpx

from syncwright.connectors.netsuite.client import NetSuiteClient

CUSTOMER = {"companyName": "Client Co", "subsidiary": {"id": "2"}, "email": "ap@client.test"}


def test_create_get_update_delete(client: NetSuiteClient) -> None:
    cid = client.create("customer", {**CUSTOMER, "externalId": "CRM-1"})
    record = client.get("customer", cid)
    assert record["id"] == cid
    assert record["subsidiary"]["refName"] == "Syncwright UK Ltd"
    client.update("customer", cid, {"email": "new@client.test"})
    assert client.get("customer", cid)["email"] == "new@client.test"
    client.delete("customer", cid)
    assert client.get_by_external_id("customer", "CRM-1") is None


def test_get_by_external_id(client: NetSuiteClient) -> None:
    assert client.get_by_external_id("customer", "NOPE-1") is None
    cid = client.create("customer", {**CUSTOMER, "externalId": "CRM-2"})
    found = client.get_by_external_id("customer", "CRM-2")
    assert found is not None
    assert found["id"] == cid


def test_upsert_by_external_id_is_idempotent(client: NetSuiteClient, emulator) -> None:
    before = len(emulator.sandbox.state.ids("customer"))
    first = client.upsert_by_external_id("customer", "CRM-3", CUSTOMER)
    again = client.upsert_by_external_id("customer", "CRM-3", {**CUSTOMER, "phone": "+44 1"})
    assert first == again
    assert len(emulator.sandbox.state.ids("customer")) == before + 1
    assert client.get("customer", first)["phone"] == "+44 1"


def test_update_with_sublist_replace(client: NetSuiteClient) -> None:
    order = client.create(
        "salesOrder",
        {"entity": {"id": "110"}, "item": {"items": [{"item": {"id": 98}, "quantity": 1}]}},
    )
    client.update(
        "salesOrder",
        order,
        {"item": {"items": [{"item": {"id": 100}, "quantity": 3}]}},
        replace=["item"],
    )
    assert client.get("salesOrder", order)["total"] == 297.0


def test_suiteql_follows_pages(client: NetSuiteClient) -> None:
    ids = [
        client.create("customer", {**CUSTOMER, "companyName": f"Paged {n}", "externalId": f"P-{n}"})
        for n in range(7)
    ]
    rows = list(
        client.suiteql(
            "SELECT id, externalid FROM customer WHERE externalid LIKE 'P-%' ORDER BY id", limit=3
        )
    )
    assert [row["id"] for row in rows] == ids
    assert rows[0] == {"id": ids[0], "externalid": "P-0"}  # links are dropped
    assert list(client.suiteql("SELECT id FROM customer WHERE externalid = 'none'")) == []


def test_base_url_forms_and_injected_http(emulator) -> None:
    with httpx.Client() as http:
        for base in (emulator.url, emulator.url + "/", emulator.url + "/services/rest"):
            client = NetSuiteClient(base, "TSTDRV1", emulator.credentials, timeout=5, http=http)
            assert client.get("customer", "110")["companyName"] == "Anonymous Customer"
            client.close()  # does not close an injected client
        assert not http.is_closed


def test_repr_shows_no_secrets(client: NetSuiteClient, emulator) -> None:
    shown = repr(client) + repr(emulator.credentials) + str(emulator.credentials)
    assert emulator.credentials.consumer_secret not in shown
    assert emulator.credentials.token_secret not in shown
    assert "TSTDRV1" in repr(client)
