"""python-freshdesk (the SDK) drives the emulator through every resource and operation the
connector uses -- companies with custom fields, company search, contacts, tickets listed by
``updated_since``, SLA policies -- plus Freshdesk's error bodies, 401, 404 and 429. Record
shapes are compared with the SDK's own recorded samples (tests/vendor/freshdesk)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from freshdesk.v2.errors import (
    FreshdeskBadRequest,
    FreshdeskError,
    FreshdeskNotFound,
    FreshdeskRateLimited,
    FreshdeskUnauthorized,
)

from tests._vendor import vendor_json
from tests.sandbox.freshdesk.conftest import FreshdeskEnv

SAMPLES = "freshdesk/python-freshdesk.v2-sample-responses.json"
FACTS = "freshdesk/errors-and-rate-limits.facts.json"


def _sample(name: str) -> Any:
    return vendor_json(SAMPLES)[name]


def test_company_lifecycle_with_custom_fields(freshdesk: FreshdeskEnv) -> None:
    freshdesk.seed_fields()
    api = freshdesk.sdk()
    created = api.companies.create_company(
        name="Acme", custom_fields={"syncwright_id": "acct_1", "entitlement_tier": "premium"}
    )
    # Every key of Freshdesk's recorded company is there, in the same types.
    sample = _sample("company.json")
    with freshdesk.http() as http:
        raw = http.get(f"/companies/{created.id}").json()
    assert set(sample) <= set(raw)
    both = [k for k in sample if sample[k] is not None and raw.get(k) is not None]
    assert {k: type(raw[k]) for k in both} == {k: type(sample[k]) for k in both}
    assert len(both) >= 6, both
    assert created.custom_fields == {"syncwright_id": "acct_1", "entitlement_tier": "premium"}

    updated = api.companies.update_company(created.id, custom_fields={"entitlement_tier": "none"})
    # Fields not sent keep their values.
    assert updated.custom_fields == {"syncwright_id": "acct_1", "entitlement_tier": "none"}
    assert api.companies.get_company(created.id).custom_fields["entitlement_tier"] == "none"

    found = api.companies.filter_companies("syncwright_id:'acct_1'")
    assert [c.id for c in found] == [created.id]
    assert api.companies.filter_companies("syncwright_id:'acct_2'") == []

    api.companies.create_company(name="Beta")
    assert [c.name for c in api.companies.list_companies()] == ["Acme", "Beta"]
    api.companies.delete_company(created.id)
    with pytest.raises(FreshdeskNotFound):
        api.companies.get_company(created.id)


def test_list_pages_carry_a_next_link(freshdesk: FreshdeskEnv) -> None:
    api = freshdesk.sdk()
    for n in range(5):
        api.companies.create_company(name=f"Company {n}")
    with freshdesk.http() as http:
        first = http.get("/companies", params={"per_page": 2})
        assert [c["name"] for c in first.json()] == ["Company 0", "Company 1"]
        assert 'rel="next"' in first.headers["link"] and "page=2" in first.headers["link"]
        last = http.get("/companies", params={"per_page": 2, "page": 3})
        assert len(last.json()) == 1 and "link" not in last.headers
        too_big = http.get("/companies", params={"per_page": 101})
        assert too_big.status_code == 400
        assert too_big.json()["errors"][0]["field"] == "per_page"
    # The SDK pages through on its own (per_page=1 forces five requests).
    assert len(api.companies.list_companies(per_page=1)) == 5
    assert [c.name for c in api.companies.list_companies(page=2, per_page=2)] == [
        "Company 2",
        "Company 3",
    ]


def test_contacts_and_tickets(freshdesk: FreshdeskEnv) -> None:
    api = freshdesk.sdk()
    company = api.companies.create_company(name="Acme")
    contact = api.contacts.create_contact(
        name="Rachel", email="rachel@acme.test", company_id=company.id
    )
    assert api.contacts.get_contact(contact.id).email == "rachel@acme.test"
    assert api.contacts.update_contact(contact.id, job_title="CTO").job_title == "CTO"
    assert [c.id for c in api.contacts.list_contacts()] == [contact.id]

    ticket = api.tickets.create_ticket(
        "Printer on fire", requester_id=contact.id, description="It burns", priority=4, tags=["x"]
    )
    assert (ticket.status, ticket.priority, ticket.company_id) == ("open", "urgent", company.id)
    sample = _sample("ticket_1.json")
    with freshdesk.http() as http:
        raw = http.get(f"/tickets/{ticket.id}", params={"include": "stats"}).json()
    # requester/conversations/company are embedded only on request; priority_name is not kept.
    embedded = {"requester", "conversations", "company", "priority_name"}
    missing = set(sample) - set(raw) - embedded
    assert missing == set(), missing
    assert set(sample["stats"]) >= set(raw["stats"])

    resolved = api.tickets.update_ticket(ticket.id, status=4)
    assert resolved.status == "resolved"
    again = api.tickets.get_ticket(ticket.id, "stats")
    assert again.stats["resolved_at"] == again.updated_at.strftime("%Y-%m-%dT%H:%M:%SZ")

    # A ticket from an unknown email makes its contact, as Freshdesk does.
    other = api.tickets.create_ticket("Hello", email="new@else.test", description="hi")
    assert api.contacts.get_contact(other.requester_id).email == "new@else.test"


def test_tickets_listed_by_updated_since_in_update_order(freshdesk: FreshdeskEnv) -> None:
    api = freshdesk.sdk()
    state = freshdesk.emulator.state
    first = api.tickets.create_ticket("one", email="a@x.test", description="1")
    second = api.tickets.create_ticket("two", email="a@x.test", description="2")
    state.tickets[first.id]["updated_at"] = "2026-01-01T00:00:00Z"
    state.tickets[second.id]["updated_at"] = "2026-02-01T00:00:00Z"
    listed = api.tickets.list_tickets(
        filter_name=None, updated_since="2026-01-15T00:00:00Z", order_by="updated_at"
    )
    assert [t.id for t in listed] == [second.id]
    # Without updated_since Freshdesk lists only tickets created in the last 30 days.
    state.tickets[first.id]["created_at"] = "2020-01-01T00:00:00Z"
    assert [t.id for t in api.tickets.list_tickets(filter_name=None)] == [second.id]
    with freshdesk.http() as http:
        asc = http.get(
            "/tickets",
            params={
                "updated_since": "2026-01-01T00:00:00Z",
                "order_by": "updated_at",
                "order_type": "asc",
            },
        ).json()
        assert [t["id"] for t in asc] == [first.id, second.id]
        assert "stats" not in asc[0]  # embedded only with include=stats
        bad = http.get("/tickets", params={"order_type": "sideways"})
        assert bad.status_code == 400 and bad.json()["errors"][0]["code"] == "invalid_value"


def test_sla_policies_apply_to_companies(freshdesk: FreshdeskEnv) -> None:
    api = freshdesk.sdk()
    acme = api.companies.create_company(name="Acme")
    (default,) = api._get("sla_policies")
    assert default["is_default"] is True
    target = {
        "priority_4": {
            "respond_within": 900,
            "resolve_within": 3600,
            "business_hours": False,
            "escalation_enabled": True,
        }
    }

    premium = api._post(
        "sla_policies",
        data=json.dumps(
            {"name": "Premium", "applicable_to": {"company_ids": [acme.id]}, "sla_target": target}
        ),
    )
    assert premium["applicable_to"] == {"company_ids": [acme.id]}
    cleared = api._put(
        f"sla_policies/{premium['id']}", data=json.dumps({"applicable_to": {"company_ids": []}})
    )
    assert cleared["applicable_to"] == {}
    with pytest.raises(FreshdeskBadRequest, match="company_ids"):
        api._put(
            f"sla_policies/{premium['id']}",
            data=json.dumps({"applicable_to": {"company_ids": [999]}}),
        )
    with pytest.raises(FreshdeskBadRequest, match="default SLA policy"):
        api._put(
            f"sla_policies/{default['id']}",
            data=json.dumps({"applicable_to": {"company_ids": [acme.id]}}),
        )
    assert [p["name"] for p in api._get("sla_policies")] == ["Default SLA Policy", "Premium"]


def test_error_bodies_are_freshdesks(freshdesk: FreshdeskEnv) -> None:
    facts = vendor_json(FACTS)
    missing_name = facts["observed_bodies"][0]
    with freshdesk.http() as http:
        answer = http.post("/companies", json={"description": "no name"})
        assert (answer.status_code, answer.json()) == (missing_name["status"], missing_name["body"])
        unknown = http.post("/companies", json={"name": "A", "custom_fields": {"nope": "x"}})
        assert unknown.json()["errors"] == [
            {
                "field": "custom_fields.nope",
                "message": "Unexpected/invalid field in request",
                "code": "invalid_field",
            }
        ]
        assert set(unknown.json()) == set(facts["error_envelope"]["shape"])
        http.post("/companies", json={"name": "Dup"})
        duplicate = http.post("/companies", json={"name": "dup"})
        assert duplicate.status_code == 409
        assert duplicate.json()["errors"][0]["code"] == "duplicate_value"
        gone = http.get("/tickets/12345")
        assert (gone.status_code, gone.content) == (404, b"")
    with pytest.raises(FreshdeskBadRequest, match="Validation failed"):
        freshdesk.sdk().companies.create_company(description="no name")
    with pytest.raises(FreshdeskUnauthorized):
        freshdesk.sdk(api_key="wrong").companies.list_companies()


def test_dropdown_values_are_checked(freshdesk: FreshdeskEnv) -> None:
    freshdesk.seed_fields()
    with pytest.raises(FreshdeskBadRequest, match="invalid_value"):
        freshdesk.sdk().companies.create_company(
            name="Acme", custom_fields={"entitlement_tier": "platinum"}
        )


def test_rate_limit_headers_and_429(extra_freshdesk: Callable[..., FreshdeskEnv]) -> None:
    tiny = extra_freshdesk(requests_per_minute=2)
    with tiny.http() as http:
        first = http.get("/companies")
        assert first.headers["x-ratelimit-total"] == "2"
        assert first.headers["x-ratelimit-remaining"] == "1"
        assert first.headers["x-ratelimit-used-currentrequest"] == "1"
        # Failed calls count too.
        assert http.get("/companies", auth=("wrong", "X")).status_code == 401
        limited = http.get("/companies")
        assert limited.status_code == 429
        assert int(limited.headers["retry-after"]) >= 1
        assert limited.headers["x-ratelimit-remaining"] == "0"
    with pytest.raises(FreshdeskRateLimited, match="Rate Limit"):
        tiny.sdk().companies.list_companies()


def test_storm_and_injected_faults(freshdesk: FreshdeskEnv) -> None:
    api = freshdesk.sdk()
    with freshdesk.admin() as admin:
        admin.put("/faults", json={"rate_limit_storm": {"requests": 1, "retry_after": 7}})
    with freshdesk.http() as http:
        stormed = http.get("/companies")
        assert (stormed.status_code, stormed.headers["retry-after"]) == (429, "7")
    with freshdesk.admin() as admin:
        admin.put("/faults", json={"error_5xx_rate": 1.0, "only_methods": ["POST"]})
    with pytest.raises(FreshdeskError):
        api.companies.create_company(name="Never")
    assert freshdesk.emulator.state.companies == {}
    assert api.companies.list_companies() == []  # GETs untouched
