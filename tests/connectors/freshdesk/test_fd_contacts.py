"""``upsert_contact`` against the Freshdesk emulator: a CRM contact becomes a Freshdesk contact
of its account's company, once; a change updates it; nothing differing sends nothing."""

from __future__ import annotations

from typing import Any

from syncwright.connectors.freshdesk.connector import FreshdeskConnector
from syncwright.runtime import Runtime
from tests.connectors.freshdesk.conftest import (
    CONNECTION,
    Freshdesk,
    account,
    entitlement,
    step_context,
)

JSON = dict[str, Any]
CONTACT: JSON = {
    "global_id": "cont_1",
    "account_id": "acct_1",
    "first_name": "Pat",
    "last_name": "Lee",
    "email": "pat.lee@acme.example",
    "phone": "+1 555 0100",
    "title": "Controller",
    "roles": ["billing"],
}


def _contacts(freshdesk: Freshdesk, **filters: str) -> list[JSON]:
    with freshdesk.api() as api:
        found: list[JSON] = api.get("/contacts", params=filters).json()
    return found


def test_a_contact_joins_its_accounts_company_once(
    freshdesk: Freshdesk, runtime: Runtime, connector: FreshdeskConnector
) -> None:
    freshdesk.seed()
    connector.action("upsert_entitlement").run(
        step_context(runtime), CONNECTION, entitlement("acct_1"), account("acct_1", "Acme")
    )
    (company,) = [c for c in freshdesk.companies() if c["name"] == "Acme"]
    action = connector.action("upsert_contact")
    first = action.run(step_context(runtime), CONNECTION, CONTACT)
    (held,) = _contacts(freshdesk, unique_external_id="cont_1")
    assert held["name"] == "Pat Lee" and held["email"] == "pat.lee@acme.example"
    assert held["company_id"] == company["id"] and held["job_title"] == "Controller"
    assert first["native_id"] == str(held["id"]) and first["organization"] == str(company["id"])
    assert first["ledger"]["entity_type"] == "contact"
    assert runtime.xref.native_id_for("contact", "cont_1", CONNECTION) == str(held["id"])

    # The same contact again: nothing differs, nothing is sent; the probe finds it.
    writes = freshdesk.emulator.stats["method_POST"] + freshdesk.emulator.stats["method_PUT"]
    again = action.run(step_context(runtime), CONNECTION, CONTACT)
    assert again["written"] == {}
    assert freshdesk.emulator.stats["method_POST"] + freshdesk.emulator.stats["method_PUT"] == (
        writes
    )
    assert action.probe is not None
    assert action.probe(step_context(runtime), CONNECTION, CONTACT) is not None

    # A change updates the one contact.
    changed = {**CONTACT, "phone": "+1 555 0199"}
    assert action.probe(step_context(runtime), CONNECTION, changed) is None
    result = action.run(step_context(runtime), CONNECTION, changed)
    assert result["written"] == {"phone": "+1 555 0199"}
    (held,) = _contacts(freshdesk, unique_external_id="cont_1")
    assert held["phone"] == "+1 555 0199"
    assert len(_contacts(freshdesk, email="pat.lee@acme.example")) == 1


def test_a_contact_of_an_account_without_company_is_written_without_one(
    freshdesk: Freshdesk, runtime: Runtime, connector: FreshdeskConnector
) -> None:
    freshdesk.seed()
    loner = {**CONTACT, "global_id": "cont_2", "account_id": "acct_9", "email": "x@y.example"}
    result = connector.action("upsert_contact").run(step_context(runtime), CONNECTION, loner)
    (held,) = _contacts(freshdesk, unique_external_id="cont_2")
    assert result["organization"] is None and held["company_id"] is None
