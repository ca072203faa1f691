"""The Freshdesk connector against the emulator: entitlements on companies and SLA policies
(create, partial update, revoke, park before writing, uncertain writes), tickets in as cases
from a rule's webhook and from polling, and webhook authentication."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from syncwright.config import load_settings
from syncwright.connectors.freshdesk.connector import FreshdeskConnector
from syncwright.errors import (
    AuthError,
    BusinessRuleError,
    ConfigError,
    TransientError,
    UncertainOutcomeError,
)
from syncwright.runtime import Runtime
from tests.connectors.freshdesk.conftest import (
    CONNECTION,
    HOOK_SECRET,
    Freshdesk,
    RuntimeFactory,
    account,
    entitlement,
    step_context,
    write_freshdesk_config,
)
from tests.contract.conftest import delivery

JSON = dict[str, Any]


def _upsert(runtime: Runtime, connector: FreshdeskConnector, ent: JSON, acct: JSON) -> JSON:
    result: JSON = connector.action("upsert_entitlement").run(
        step_context(runtime), CONNECTION, ent, acct
    )
    return result


def _writes(freshdesk: Freshdesk) -> int:
    stats = freshdesk.emulator.stats
    return stats["method_POST"] + stats["method_PUT"]


def test_entitlement_lands_on_company_and_moves_between_policies(
    freshdesk: Freshdesk, runtime: Runtime, connector: FreshdeskConnector
) -> None:
    freshdesk.seed()
    acme = account("acct_1", "Acme")
    first = _upsert(runtime, connector, entitlement("acct_1"), acme)
    (company,) = freshdesk.companies()
    assert first["created"] is True and first["native_id"] == str(company["id"])
    assert company["name"] == "Acme"
    assert company["custom_fields"] == {"syncwright_id": "acct_1", "entitlement_tier": "premium"}
    members = freshdesk.policy_members()
    assert company["id"] in members["Premium 4h"] and company["id"] not in members["Standard 8h"]
    assert runtime.xref.native_id_for("account", "acct_1", CONNECTION) == str(company["id"])

    # A downgrade changes the field and moves the company to the other policy.
    standard = entitlement("acct_1", tier="standard", sla="Standard 8h")
    second = _upsert(runtime, connector, standard, acme)
    assert second["created"] is False and second["sla_policy"] == "Standard 8h"
    members = freshdesk.policy_members()
    assert company["id"] in members["Standard 8h"] and company["id"] not in members["Premium 4h"]
    assert freshdesk.companies()[0]["custom_fields"]["entitlement_tier"] == "standard"

    # Nothing differs: nothing is written (no update echoes back as a change).
    writes = _writes(freshdesk)
    _upsert(runtime, connector, standard, acme)
    assert _writes(freshdesk) == writes

    # Withdrawn: the revoked tier, and out of every policy.
    _upsert(runtime, connector, entitlement("acct_1", status="suspended"), acme)
    assert freshdesk.companies()[0]["custom_fields"]["entitlement_tier"] == "none"
    assert all(company["id"] not in ids for ids in freshdesk.policy_members().values())


def test_compensation_revokes_only_what_the_step_wrote(
    freshdesk: Freshdesk, runtime: Runtime, connector: FreshdeskConnector
) -> None:
    freshdesk.seed()
    action = connector.action("upsert_entitlement")
    args = (entitlement("acct_2"), account("acct_2"))
    result = _upsert(runtime, connector, *args)
    assert action.compensate is not None
    # A later change owns the company: the compensation leaves it alone.
    with freshdesk.api() as api:
        api.put(
            f"/companies/{result['native_id']}",
            json={"custom_fields": {"entitlement_tier": "enterprise"}},
        ).raise_for_status()
    action.compensate(step_context(runtime), result, CONNECTION, *args)
    assert freshdesk.companies()[0]["custom_fields"]["entitlement_tier"] == "enterprise"
    result = _upsert(runtime, connector, *args)
    action.compensate(step_context(runtime), result, CONNECTION, *args)
    (company,) = freshdesk.companies()
    assert company["custom_fields"]["entitlement_tier"] == "none"
    assert all(company["id"] not in ids for ids in freshdesk.policy_members().values())


def test_unknown_sla_policy_parks_before_anything_is_written(
    freshdesk: Freshdesk, runtime: Runtime, connector: FreshdeskConnector
) -> None:
    freshdesk.seed()
    writes = _writes(freshdesk)
    with pytest.raises(BusinessRuleError) as parked:
        _upsert(runtime, connector, entitlement("acct_3", sla="Gold 1h"), account("acct_3"))
    assert parked.value.code == "freshdesk.unknown_sla_policy"
    assert "Gold 1h" in parked.value.remediation and "SLA Policies" in parked.value.remediation
    assert _writes(freshdesk) == writes and freshdesk.companies() == []


def test_lost_create_response_is_probed_then_retried_without_a_duplicate(
    freshdesk: Freshdesk, make_runtime: RuntimeFactory
) -> None:
    freshdesk.seed()
    runtime = make_runtime(timeout_seconds=1.5)
    connector = runtime.connection(CONNECTION)
    assert isinstance(connector, FreshdeskConnector)
    args = (entitlement("acct_4"), account("acct_4"))
    freshdesk.faults(lost_response_rate=1.0, stall_seconds=3.0, only_methods=["POST"])
    with pytest.raises(UncertainOutcomeError):
        _upsert(runtime, connector, *args)
    freshdesk.faults(lost_response_rate=0.0)
    probe = connector.action("upsert_entitlement").probe
    assert probe is not None
    # The company exists, but it is in no SLA policy yet: not what the step wanted.
    assert probe(step_context(runtime), CONNECTION, *args) is None
    retried = _upsert(runtime, connector, *args)
    assert retried["created"] is False and len(freshdesk.companies()) == 1
    assert probe(step_context(runtime), CONNECTION, *args) is not None


def test_webhook_reads_the_ticket_and_maps_a_case(
    freshdesk: Freshdesk, runtime: Runtime, connector: FreshdeskConnector
) -> None:
    freshdesk.seed()
    result = _upsert(runtime, connector, entitlement("acct_5"), account("acct_5"))
    with freshdesk.api() as api:
        contact = api.post(
            "/contacts",
            json={"name": "Ann", "email": "ann@x.test", "company_id": int(result["native_id"])},
        ).json()
        ticket = api.post(
            "/tickets",
            json={"subject": "Down", "requester_id": contact["id"], "priority": 4, "source": 1},
        ).json()
        api.put(f"/tickets/{ticket['id']}", json={"status": 4}).raise_for_status()
    body = json.dumps({"freshdesk_webhook": {"ticket_id": ticket["id"]}}).encode()
    identity = connector.identify(json.loads(body), body)
    assert identity.event_type == "ticket.webhook"
    assert identity.vendor_event_id != connector.identify(json.loads(body), body).vendor_event_id
    (event,) = connector.normalize(
        delivery(CONNECTION, identity.vendor_event_id, identity.event_type, body)
    )
    case = event.data.support_case
    assert (case.account_id, case.subject, case.status, case.priority, case.channel) == (
        "acct_5",
        "Down",
        "solved",
        "urgent",
        "email",
    )
    assert case.solved_at is not None and event.entitykey == "account:acct_5"
    # A deleted ticket maps to nothing.
    gone = json.dumps({"freshdesk_webhook": {"ticket_id": 999}}).encode()
    assert connector.normalize(delivery(CONNECTION, "w", "ticket.webhook", gone)) == []


def test_polling_heals_a_missed_webhook_and_keeps_its_place(
    freshdesk: Freshdesk, connector: FreshdeskConnector
) -> None:
    with freshdesk.api() as api:
        ids = [
            api.post("/tickets", json={"subject": f"T{n}", "email": "a@x.test"}).json()["id"]
            for n in range(3)
        ]
    state = freshdesk.emulator.state
    for n, ticket_id in enumerate(ids):  # two share a second, as Freshdesk's stamps can
        state.tickets[ticket_id]["updated_at"] = f"2026-03-0{1 + min(n, 1)}T00:00:00Z"
    page = connector.poll("tickets", None)
    assert [e.vendor_event_id for e in page.events] == [
        f"ticket:{ids[0]}:2026-03-01T00:00:00Z",
        f"ticket:{ids[1]}:2026-03-02T00:00:00Z",
        f"ticket:{ids[2]}:2026-03-02T00:00:00Z",
    ]
    assert connector.poll("tickets", page.cursor).events == []
    # A ticket changed at the cursor's second, whose webhook never came, is still read.
    with freshdesk.api() as api:
        new = api.post("/tickets", json={"subject": "Late", "email": "a@x.test"}).json()["id"]
    state.tickets[new]["updated_at"] = "2026-03-02T00:00:00Z"
    (late,) = connector.poll("tickets", page.cursor).events
    assert late.vendor_event_id == f"ticket:{new}:2026-03-02T00:00:00Z"


def test_webhook_authentication(connector: FreshdeskConnector) -> None:
    verifier = connector.webhook_verifier()
    assert verifier is not None
    body = b'{"freshdesk_webhook": {"ticket_id": 1}}'
    verifier.verify(body, {"x-syncwright-webhook-secret": HOOK_SECRET})
    basic = base64.b64encode(f"freshdesk:{HOOK_SECRET}".encode()).decode()
    verifier.verify(body, {"Authorization": f"Basic {basic}"})
    for headers, code in (
        ({"X-Syncwright-Webhook-Secret": "guess"}, "freshdesk.webhook_secret_mismatch"),
        (
            {"Authorization": "Basic " + base64.b64encode(b"a:b").decode()},
            "freshdesk.webhook_basic_auth_mismatch",
        ),
        ({}, "freshdesk.webhook_unauthenticated"),
    ):
        with pytest.raises(AuthError) as refused:
            verifier.verify(body, headers)
        assert refused.value.code == code and HOOK_SECRET not in str(refused.value)


def test_event_time_is_the_tickets_update(
    freshdesk: Freshdesk, connector: FreshdeskConnector
) -> None:
    ticket = {
        "id": 7,
        "subject": "S",
        "status": 2,
        "priority": 2,
        "source": 2,
        "created_at": "2026-01-01T00:00:00Z",
        "updated_at": "2026-01-02T03:04:05Z",
        "tags": [],
    }
    (event,) = connector.normalize(
        delivery(CONNECTION, "p", "ticket.updated", json.dumps(ticket).encode())
    )
    assert event.time == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert event.id == f"{CONNECTION}:ticket:7:2026-01-02T03:04:05Z"


def test_malformed_options_are_named_before_anything_runs(tmp_path: Path) -> None:
    for n, (options, problem) in enumerate(
        (
            ("page_size: 500", "connections.freshdesk.options.page_size: must be at most 100"),
            ("tier_field: syncwright_id", "external_id_field and tier_field must name different"),
            ("tier_field: Tier Name", "connections.freshdesk.options.tier_field"),
        )
    ):
        directory = tmp_path / str(n)
        directory.mkdir()
        path = write_freshdesk_config(directory, base_url="http://127.0.0.1:9", options=options)
        with pytest.raises(ConfigError) as refused:
            load_settings(path)
        assert problem in "\n".join(refused.value.problems), options


def test_identity_of_deliveries_that_are_not_the_recommended_rule(
    connector: FreshdeskConnector,
) -> None:
    ticket = {"id": 5, "subject": "S", "status": 2, "updated_at": "2026-01-02T03:04:05Z"}
    body = json.dumps(ticket).encode()
    identity = connector.identify(ticket, body)
    assert (identity.vendor_event_id, identity.event_type) == (
        "ticket:5:2026-01-02T03:04:05Z",
        "ticket.updated",
    )
    other = connector.identify({"id": 5}, b'{"id": 5}')
    assert other.vendor_event_id.startswith("sha256:") and other.event_type == "unknown"


def test_throttling_is_transient_with_retry_after(
    freshdesk: Freshdesk, connector: FreshdeskConnector
) -> None:
    freshdesk.faults(rate_limit_storm={"requests": 1, "retry_after": 7})
    with pytest.raises(TransientError) as throttled:
        connector.client.list_sla_policies()
    assert throttled.value.code == "freshdesk.http_429"
    assert throttled.value.retry_after == 7


def test_an_id_with_quotes_parks_instead_of_breaking_the_search(
    connector: FreshdeskConnector,
) -> None:
    with pytest.raises(BusinessRuleError) as parked:
        connector.client.find_company("syncwright_id", "acct' OR name:'x")
    assert parked.value.code == "freshdesk.unsearchable_value" and parked.value.remediation
