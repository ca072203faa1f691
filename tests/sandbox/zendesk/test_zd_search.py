"""The subset of Zendesk's search syntax the emulator understands."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture
def seeded(zendesk: Any) -> Any:
    with zendesk.client() as api:
        acme = api.post(
            "/api/v2/organizations.json",
            json={"organization": {"name": "Acme Corp", "tags": ["vip"], "external_id": "A-1"}},
        ).json()["organization"]
        api.post("/api/v2/organizations.json", json={"organization": {"name": "Beta Ltd"}})
        user = api.post(
            "/api/v2/users.json",
            json={
                "user": {
                    "name": "Jane Roe",
                    "email": "jane@acme.test",
                    "organization_id": acme["id"],
                }
            },
        ).json()["user"]
        for subject, status in (("Printer", "open"), ("Invoice", "solved")):
            api.post(
                "/api/v2/tickets.json",
                json={
                    "ticket": {
                        "subject": subject,
                        "comment": {"body": subject},
                        "status": status,
                        "requester_id": user["id"],
                    }
                },
            )
    return zendesk


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("type:organization tags:vip", [("organization", "Acme Corp")]),
        ("type:organization -tags:vip", [("organization", "Beta Ltd")]),
        ('type:organization name:"acme corp"', [("organization", "Acme Corp")]),
        ("type:organization name:acme*", [("organization", "Acme Corp")]),
        ("type:ticket status<solved", [("ticket", "Printer")]),
        ("type:user jane", [("user", "Jane Roe")]),
        ("invoice", [("ticket", "Invoice")]),
        ("type:organization external_id:a-1", [("organization", "Acme Corp")]),
    ],
)
def test_search_queries(seeded: Any, query: str, expected: list[tuple[str, str]]) -> None:
    with seeded.client() as api:
        body = api.get("/api/v2/search.json", params={"query": query}).json()
        count = api.get("/api/v2/search/count.json", params={"query": query}).json()
    got = [(r["result_type"], r.get("name") or r.get("subject")) for r in body["results"]]
    assert got == expected
    assert body["count"] == count["count"] == len(expected)
