"""zenpy (Zendesk's most used Python SDK) against the emulator: what it sends, the emulator
understands, and what the emulator answers, zenpy turns into its objects and exceptions."""

from __future__ import annotations

from typing import Any

import pytest
from zenpy import Zenpy
from zenpy.lib.api_objects import (
    CustomField,
    Organization,
    OrganizationField,
    Ticket,
    User,
)
from zenpy.lib.exception import APIException, RecordNotFoundException

from syncwright.sandbox.zendesk import _organizations


def _fields(zenpy: Zenpy) -> None:
    zenpy.organization_fields.create(
        OrganizationField(
            type="dropdown",
            key="entitlement_tier",
            title="Entitlement tier",
            custom_field_options=[
                {"name": "Gold", "value": "gold"},
                {"name": "Silver", "value": "silver"},
            ],
        )
    )
    zenpy.organization_fields.create(
        OrganizationField(type="text", key="sla_policy", title="SLA policy")
    )


def test_organizations_with_custom_fields_round_trip(zenpy: Zenpy, zendesk: Any) -> None:
    _fields(zenpy)
    assert [f.key for f in zenpy.organization_fields()] == ["entitlement_tier", "sla_policy"]

    created = zenpy.organizations.create(
        Organization(
            name="Acme",
            external_id="crm-001",
            tags=["VIP", "emea"],
            organization_fields={"entitlement_tier": "gold"},
        )
    )
    assert isinstance(created.id, int)
    assert created.tags == ["vip", "emea"]
    assert created.organization_fields == {"entitlement_tier": "gold", "sla_policy": None}

    org = zenpy.organizations(id=created.id)
    org.organization_fields["sla_policy"] = "24x7"
    org.notes = "key account"
    updated = zenpy.organizations.update(org)
    # Zendesk merges organization_fields: the tier sent earlier stays.
    assert updated.organization_fields == {"entitlement_tier": "gold", "sla_policy": "24x7"}
    assert updated.notes == "key account"
    assert updated.updated_at >= created.updated_at

    by_external = list(zenpy.organizations(external_id="CRM-001"))  # case-insensitive
    assert [o.id for o in by_external] == [created.id]
    found = list(zenpy.search(type="organization", external_id="crm-001"))
    assert [o.id for o in found] == [created.id]
    by_tier = list(zenpy.search(type="organization", entitlement_tier="gold"))
    assert [o.id for o in by_tier] == [created.id]

    upserted = zenpy.organizations.create_or_update(
        Organization(external_id="crm-001", name="Acme Corp")
    )
    assert (upserted.id, upserted.name) == (created.id, "Acme Corp")
    fresh = zenpy.organizations.create_or_update(Organization(external_id="crm-002", name="Beta"))
    assert fresh.id != created.id

    zenpy.organizations.delete(zenpy.organizations(id=fresh.id))
    with pytest.raises(RecordNotFoundException):
        zenpy.organizations(id=fresh.id)


def test_invalid_custom_field_value_is_record_invalid(zenpy: Zenpy, zendesk: Any) -> None:
    _fields(zenpy)
    with pytest.raises(APIException) as caught:
        zenpy.organizations.create(
            Organization(name="Acme", organization_fields={"entitlement_tier": "platinum"})
        )
    body = caught.value.response.json()
    assert caught.value.response.status_code == 422
    assert body["error"] == "RecordInvalid"
    assert body["details"]["organization_fields.entitlement_tier"][0]["error"] == "InvalidValue"


def test_duplicate_name_is_zendesk_record_invalid(zenpy: Zenpy, zendesk: Any) -> None:
    zenpy.organizations.create(Organization(name="Acme"))
    with pytest.raises(APIException) as caught:
        zenpy.organizations.create(Organization(name="ACME"))
    assert caught.value.response.status_code == 422
    assert caught.value.response.json() == {
        "error": "RecordInvalid",
        "description": "Record validation errors",
        "details": {
            "name": [{"description": "Name: has already been taken", "error": "DuplicateValue"}]
        },
    }


def test_listing_follows_cursor_pages(zenpy: Zenpy, zendesk: Any) -> None:
    with zendesk.state.lock:
        for n in range(205):
            _organizations.create_org(zendesk.state, {"name": f"Org {n:03d}"})
    names = [o.name for o in zenpy.organizations()]
    assert len(names) == 205 and names[0] == "Org 000" and names[-1] == "Org 204"
    # zenpy asked for cursor pages of 100: three requests for 205 records.
    routes = zendesk.emulator.stats.by_route
    assert routes["GET /api/v2/organizations"] == 3


def test_users_create_read_update_and_upsert(zenpy: Zenpy, zendesk: Any) -> None:
    org = zenpy.organizations.create(Organization(name="Acme"))
    user = zenpy.users.create(
        User(name="Jane Roe", email="jane@acme.test", external_id="crm-c-1", organization_id=org.id)
    )
    assert (user.role, user.active, user.organization_id) == ("end-user", True, org.id)

    read = zenpy.users(id=user.id)
    read.phone = "+15551234567"
    read.user_fields = {"plan": "gold"}
    updated = zenpy.users.update(read)
    assert (updated.phone, updated.user_fields) == ("+15551234567", {"plan": "gold"})

    upserted = zenpy.users.create_or_update(User(email="JANE@acme.test", name="Jane Doe"))
    assert (upserted.id, upserted.name) == (user.id, "Jane Doe")
    assert [u.id for u in zenpy.users(external_id="crm-c-1")] == [user.id]
    assert [u.id for u in zenpy.search(type="user", email="jane@acme.test")] == [user.id]
    assert zenpy.users.me().email == "agent@example.com"

    with pytest.raises(APIException) as caught:
        zenpy.users.create(User(name="Other", email="jane@acme.test"))
    detail = caught.value.response.json()["details"]["email"][0]
    assert detail == {
        "description": "Email: jane@acme.test is already being used by another user",
        "error": "DuplicateValue",
    }


def test_tickets_create_read_update_list(zenpy: Zenpy, zendesk: Any) -> None:
    org = zenpy.organizations.create(Organization(name="Acme"))
    user = zenpy.users.create(User(name="Jane", email="jane@acme.test", organization_id=org.id))
    audit = zenpy.tickets.create(
        Ticket(
            subject="Printer on fire",
            comment={"body": "Flames everywhere"},
            requester_id=user.id,
            priority="high",
            tags=["hardware"],
            custom_fields=[CustomField(id=27642, value="745")],
        )
    )
    ticket = audit.ticket
    # The organization defaults to the requester's, as in Zendesk.
    assert (ticket.organization_id, ticket.status, ticket.description) == (
        org.id,
        "new",
        "Flames everywhere",
    )
    assert ticket.custom_fields == [{"id": 27642, "value": "745"}]

    read = zenpy.tickets(id=ticket.id)
    read.status = "open"
    read.priority = "urgent"
    read.comment = {"body": "Extinguisher sent", "public": False}
    after = zenpy.tickets.update(read)
    assert (after.ticket.status, after.ticket.priority) == ("open", "urgent")
    changed = {e["field_name"] for e in after.audit.events if e["type"] == "Change"}
    assert changed == {"status", "priority"}

    assert [t.id for t in zenpy.tickets()] == [ticket.id]
    assert [t.id for t in zenpy.tickets.organizations(org.id)] == [ticket.id]
    assert [t.id for t in zenpy.search(type="ticket", status="open")] == [ticket.id]

    with pytest.raises(APIException) as caught:
        zenpy.tickets.create(Ticket(subject="no body", requester_id=user.id, priority="asap"))
    details = caught.value.response.json()["details"]
    assert details["priority"][0]["error"] == "InvalidValue"
    assert details["base"][0] == {
        "description": "Description: cannot be blank",
        "error": "BlankValue",
    }


def test_wrong_token_is_401_couldnt_authenticate(make_zenpy: Any) -> None:
    zenpy = make_zenpy(token="not-the-token")
    with pytest.raises(APIException) as caught:
        zenpy.users.me()
    assert caught.value.response.status_code == 401
    assert caught.value.response.json() == {"error": "Couldn't authenticate you"}


def test_oauth_bearer_token_is_accepted(make_zenpy: Any, extra_zendesk: Any) -> None:
    env = extra_zendesk(oauth_tokens=["oauth-access-token"])
    assert make_zenpy(env, oauth_token="oauth-access-token").users.me().role == "admin"
    with pytest.raises(APIException):
        make_zenpy(env, oauth_token="revoked").users.me()


def test_ticket_with_new_requester_and_closed_ticket(zenpy: Zenpy, zendesk: Any) -> None:
    audit = zenpy.tickets.create(
        Ticket(
            subject="Invoice question",
            description="Where is my invoice?",
            requester=User(name="New Customer", email="new@customer.test"),
        )
    )
    requester = zenpy.users(id=audit.ticket.requester_id)
    assert (requester.email, requester.role) == ("new@customer.test", "end-user")

    ticket = zenpy.tickets(id=audit.ticket.id)
    ticket.status = "closed"
    zenpy.tickets.update(ticket)
    ticket = zenpy.tickets(id=audit.ticket.id)
    ticket.subject = "Reopen?"
    with pytest.raises(APIException) as caught:
        zenpy.tickets.update(ticket)
    assert caught.value.response.json()["details"]["status"][0]["description"] == (
        "Status: closed prevents ticket update"
    )
