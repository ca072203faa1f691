"""Zendesk webhook deliveries -> canonical cases by the shipped inbound mapping: Zendesk's own
event samples (tests/vendor/zendesk/webhooks) map to nothing; a ticket event with the detail
properties Zendesk documents becomes a case of the organization's account."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from syncwright.connectors import Delivery
from syncwright.connectors.zendesk.inbound import normalize
from syncwright.errors import BusinessRuleError
from syncwright.mapping import shipped_mapping
from syncwright.store import Database
from syncwright.xref import CrossReference
from tests._vendor import vendor_json

MAPPING = shipped_mapping("zendesk", "inbound")


@pytest.fixture
def xref(sqlite_url: str) -> Iterator[CrossReference]:
    db = Database(sqlite_url)
    db.upgrade()
    try:
        yield CrossReference(db)
    finally:
        db.dispose()


def _delivery(payload: Any) -> Delivery:
    return Delivery(
        inbox_id=1,
        connection="desk",
        vendor_event_id=str(payload.get("id", "x")) if isinstance(payload, dict) else "x",
        event_type=str(payload.get("type", "")) if isinstance(payload, dict) else "",
        body=json.dumps(payload),
        correlation_id="cor-1",
        received_at=datetime.now(UTC),
    )


def _ticket_event(**detail: Any) -> dict[str, Any]:
    # Properties of https://developer.zendesk.com/api-reference/webhooks/event-types/ticket-events/
    base = {
        "actor_id": "8447388090494",
        "assignee_id": None,
        "brand_id": "8447346621310",
        "created_at": "2025-01-08T10:12:07Z",
        "custom_status": "8447388090494",
        "description": "We were charged twice",
        "external_id": "",
        "form_id": "8447325358462",
        "group_id": None,
        "id": "5158",
        "is_public": True,
        "organization_id": "8447388090111",
        "priority": "HIGH",
        "requester_id": "8447388090494",
        "status": "OPEN",
        "subject": "Refund the double charge",
        "submitter_id": "8447388090494",
        "tags": ["refund_request"],
        "type": "INCIDENT",
        "updated_at": "2025-01-08T10:14:00Z",
        "via": {"channel": "web_form"},
    }
    return {
        "type": "zen:event-type:ticket.tags_changed",
        "account_id": 12514403,
        "id": "01JH3Y0000TAGS",
        "time": "2025-01-08T10:14:00Z",
        "zendesk_event_version": "2022-11-06",
        "subject": "zen:ticket:5158",
        "detail": {**base, **detail},
        "event": {"tags_added": ["refund_request"], "tags_removed": []},
    }


@pytest.mark.parametrize(
    "sample", ["user.active_changed.doc-example.json", "access_log.created.doc-example.json"]
)
def test_zendesks_other_event_samples_map_to_nothing(sample: str, xref: CrossReference) -> None:
    assert MAPPING is not None
    payload = vendor_json(f"zendesk/webhooks/{sample}")
    assert normalize(_delivery(payload), xref, MAPPING) == []


def test_a_ticket_event_becomes_a_case_of_the_organizations_account(
    xref: CrossReference,
) -> None:
    assert MAPPING is not None
    xref.link("account", "acct_7", "desk", "8447388090111")  # the entitlement's organization
    [event] = normalize(_delivery(_ticket_event()), xref, MAPPING)
    case = event.data.support_case  # type: ignore[attr-defined]
    assert event.type == "syncwright.case.upserted.v1"
    assert event.entitykey == "account:acct_7" and event.correlationid == "cor-1"
    assert case.account_id == "acct_7"
    assert xref.native_id_for("case", case.global_id, "desk") == "5158"
    assert (case.status.value, case.priority.value, case.channel.value) == ("open", "high", "web")
    assert case.tags == ("refund_request",) and case.solved_at is None
    solved = normalize(_delivery(_ticket_event(status="SOLVED", priority="")), xref, MAPPING)
    again = solved[0].data.support_case  # type: ignore[attr-defined]
    assert again.global_id == case.global_id  # the same ticket, the same case
    assert again.status.value == "solved" and again.priority.value == "normal"
    assert again.solved_at is not None


def test_a_ticket_event_that_cannot_be_mapped_parks_with_guidance(xref: CrossReference) -> None:
    assert MAPPING is not None
    with pytest.raises(BusinessRuleError) as caught:
        normalize(_delivery(_ticket_event(status="ARCHIVED")), xref, MAPPING)
    assert caught.value.code == "zendesk.mapping_invalid"
    assert "Zendesk" in caught.value.remediation
