"""The emulator's bodies against Zendesk's own OpenAPI document (tests/vendor/zendesk).

Every key the emulator sends must be a property of the vendor schema, with the vendor's type;
the only exceptions are listed here, each one a place where Zendesk itself sends something the
OAS does not describe.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

# Zendesk sends null for these unset attributes although the OAS does not mark them nullable
# (compare the JSON examples on developer.zendesk.com: a new ticket has "type": null,
# "priority": null, "assignee_id": null; an end user has "last_login_at": null).
TICKET_NULLS = (
    "*ticket*.type",
    "*ticket*.priority",
    "*ticket*.assignee_id",
    "*ticket*.group_id",
    "*ticket*.problem_id",
    "*ticket*.external_id",
    "*ticket*.recipient",
    "*ticket*.forum_topic_id",
    "*ticket*.satisfaction_rating",
)
USER_NULLS = ("*user*.last_login_at", "*user*.signature", "*user*.default_group_id")
# Unset custom organization fields are null (checkbox ones would be booleans).
ORG_NULLS = ("*organization*.organization_fields.*",)
# "fields" duplicates "custom_fields" in real ticket JSON but is missing from the OAS.
TICKET_EXTRA = ("*ticket*.fields",)


def _seed(api: httpx.Client) -> dict[str, Any]:
    for field in (
        {
            "type": "dropdown",
            "key": "entitlement_tier",
            "title": "Entitlement tier",
            "custom_field_options": [{"name": "Gold", "value": "gold"}],
        },
        {"type": "text", "key": "sla_policy", "title": "SLA policy"},
    ):
        api.post("/api/v2/organization_fields.json", json={"organization_field": field})
    org = api.post(
        "/api/v2/organizations.json",
        json={
            "organization": {
                "name": "Acme",
                "external_id": "crm-1",
                "organization_fields": {"entitlement_tier": "gold"},
            }
        },
    ).json()["organization"]
    user = api.post(
        "/api/v2/users.json",
        json={"user": {"name": "Jane", "email": "jane@acme.test", "organization_id": org["id"]}},
    ).json()["user"]
    return {"org": org, "user": user}


def test_organization_bodies_match_oas(zendesk: Any, oas: Any) -> None:
    with zendesk.client() as api:
        seeded = _seed(api)
        org_id = seeded["org"]["id"]
        oas.assert_valid(
            "OrganizationResponse",
            api.get(f"/api/v2/organizations/{org_id}").json(),
            null_ok=ORG_NULLS,
        )
        for query in ("", "?page[size]=1", "?per_page=1"):
            body = api.get(f"/api/v2/organizations.json{query}").json()
            # Cursor pages add Zendesk's "meta"/"links" (OAS "Pagination") to the list body.
            oas.assert_valid(
                "OrganizationsResponse", body, null_ok=ORG_NULLS, extra_ok=("meta", "links")
            )
        oas.assert_valid(
            "Pagination",
            {
                k: v
                for k, v in api.get("/api/v2/organizations.json?page[size]=1").json().items()
                if k in ("meta", "links")
            },
        )
        fields = api.get("/api/v2/organization_fields.json").json()
        oas.assert_valid("OrganizationFieldsResponse", fields)
        assert seeded["org"]["organization_fields"] == {
            "entitlement_tier": "gold",
            "sla_policy": None,
        }


def test_user_bodies_match_oas(zendesk: Any, oas: Any) -> None:
    with zendesk.client() as api:
        user = _seed(api)["user"]
        oas.assert_valid(
            "UserResponse", api.get(f"/api/v2/users/{user['id']}.json").json(), null_ok=USER_NULLS
        )
        oas.assert_valid(
            "UsersResponse",
            api.get("/api/v2/users.json").json(),
            null_ok=USER_NULLS,
            extra_ok=("count", "next_page", "previous_page"),
        )
        oas.assert_valid(
            "UserResponse", api.get("/api/v2/users/me.json").json(), null_ok=USER_NULLS
        )


def test_ticket_bodies_match_oas(zendesk: Any, oas: Any) -> None:
    with zendesk.client() as api:
        user = _seed(api)["user"]
        created = api.post(
            "/api/v2/tickets.json",
            json={
                "ticket": {
                    "subject": "Help",
                    "comment": {"body": "It broke"},
                    "requester_id": user["id"],
                    "tags": ["a"],
                    "custom_fields": [{"id": 1, "value": "x"}],
                }
            },
        )
        assert created.status_code == 201
        assert created.headers["Location"].endswith(
            f"/api/v2/tickets/{created.json()['ticket']['id']}.json"
        )
        # Create and update answer ticket + audit: the OAS "TicketUpdateResponse".
        audit_events = ("audit.events",)  # real audits carry per-event keys the OAS omits
        oas.assert_valid(
            "TicketUpdateResponse",
            created.json(),
            null_ok=TICKET_NULLS,
            extra_ok=TICKET_EXTRA,
            loose=audit_events,
        )
        ticket_id = created.json()["ticket"]["id"]
        updated = api.put(
            f"/api/v2/tickets/{ticket_id}.json",
            json={"ticket": {"status": "pending", "priority": "low"}},
        )
        oas.assert_valid(
            "TicketUpdateResponse",
            updated.json(),
            null_ok=TICKET_NULLS,
            extra_ok=TICKET_EXTRA,
            loose=audit_events,
        )
        oas.assert_valid(
            "TicketResponse",
            api.get(f"/api/v2/tickets/{ticket_id}").json(),
            null_ok=TICKET_NULLS,
            extra_ok=TICKET_EXTRA,
        )
        oas.assert_valid(
            "TicketsResponse",
            api.get("/api/v2/tickets.json").json(),
            null_ok=TICKET_NULLS,
            extra_ok=(*TICKET_EXTRA, "meta", "links", "count", "next_page", "previous_page"),
        )


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "expected"),
    [
        (
            "GET",
            "/api/v2/organizations/424242.json",
            None,
            404,
            {"error": "RecordNotFound", "description": "Not found"},
        ),
        (
            "GET",
            "/api/v2/tickets/999.json",
            None,
            404,
            {"error": "RecordNotFound", "description": "Not found"},
        ),
        (
            "GET",
            "/api/v2/no_such_thing.json",
            None,
            404,
            {"error": "InvalidEndpoint", "description": "Not found"},
        ),
        (
            "POST",
            "/api/v2/organizations.json",
            {"organization": {"notes": "x"}},
            422,
            {
                "error": "RecordInvalid",
                "description": "Record validation errors",
                "details": {
                    "name": [{"description": "Name: cannot be blank", "error": "BlankValue"}]
                },
            },
        ),
    ],
)
def test_error_bodies_are_zendesks(
    zendesk: Any, method: str, path: str, body: Any, status: int, expected: Any
) -> None:
    with zendesk.client() as api:
        response = api.request(method, path, json=body)
    assert response.status_code == status
    assert response.json() == expected


def test_webhook_errors_use_the_oas_errors_shape(zendesk: Any, oas: Any) -> None:
    with zendesk.client() as api:
        response = api.post("/api/v2/webhooks", json={"webhook": {"name": "x"}})
        missing = api.get("/api/v2/webhooks/01NOPE")
    assert (response.status_code, missing.status_code) == (400, 404)
    oas.assert_valid("Errors", response.json(), extra_ok=("errors[].source",))
    oas.assert_valid("Errors", missing.json())


def test_checker_catches_a_wrong_type(oas: Any) -> None:
    problems = oas.problems("OrganizationResponse", {"organization": {"name": 5, "bogus": 1}})
    assert any("organization.name" in p for p in problems)
    assert any("organization.bogus" in p for p in problems)
