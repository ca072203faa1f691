"""``upsert_entitlement`` and its probe and compensation against the Zendesk emulator, through a
real Runtime (SQLite cross-reference) and real step contexts."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from syncwright.config import load_settings
from syncwright.connectors.zendesk.connector import ZendeskConnector
from syncwright.connectors.zendesk.signature import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    sign_zendesk_payload,
)
from syncwright.errors import (
    AuthError,
    BusinessRuleError,
    ConfigError,
    TransientError,
    UncertainOutcomeError,
)
from syncwright.runtime import Runtime
from syncwright.runtime_hooks import LedgerHooks
from syncwright.store.tables import audit
from tests.connectors.zendesk.conftest import (
    CONNECTION,
    RuntimeFactory,
    Zendesk,
    account,
    entitlement,
    step_context,
    write_zendesk_config,
)


def _run(runtime: Runtime, *args: object, **ctx: Any) -> dict[str, Any]:
    action = runtime.connection(CONNECTION).action("upsert_entitlement")
    result: dict[str, Any] = action.run(step_context(runtime, **ctx), CONNECTION, *args)
    return result


def test_upsert_twice_makes_one_organization_with_the_fields(
    zendesk: Zendesk, runtime: Runtime
) -> None:
    zendesk.seed_fields()
    acct, ent = account("acct_1", "Acme Corp"), entitlement("acct_1")

    first = _run(runtime, ent, acct)
    second = _run(runtime, ent, acct)

    orgs = zendesk.organizations()
    assert len(orgs) == 1
    org = orgs[0]
    assert org["external_id"] == "acct_1" and org["name"] == "Acme Corp"
    assert org["organization_fields"] == {"entitlement_tier": "premium", "sla_policy": "Premium 4h"}
    assert first["created"] is True and second["created"] is False
    assert first["native_id"] == second["native_id"] == str(org["id"])
    assert runtime.xref.native_id_for("account", "acct_1", CONNECTION) == str(org["id"])
    ledger = first["ledger"]
    assert isinstance(ledger, dict)
    assert ledger["entity_type"] == "entitlement" and ledger["global_id"] == "ent_acct_1"
    assert ledger["native_ids"] == {CONNECTION: str(org["id"])}
    assert ledger["mapping_version"] == "zendesk_outbound@1"

    # An upgrade updates the same organization; an expired entitlement revokes the tier.
    _run(runtime, entitlement("acct_1", tier="enterprise", sla="Enterprise 1h"), acct)
    _run(runtime, entitlement("acct_1", status="expired"), acct)
    orgs = zendesk.organizations()
    assert len(orgs) == 1
    assert orgs[0]["organization_fields"] == {"entitlement_tier": "none", "sla_policy": None}


def test_configurable_field_keys(zendesk: Zendesk, make_runtime: RuntimeFactory) -> None:
    with zendesk.api() as api:
        for key in ("support_plan", "sla_name"):
            field = {"key": key, "title": key, "type": "text"}
            api.post("/organization_fields.json", json={"organization_field": field})
    runtime = make_runtime(
        options='tier_field: support_plan, sla_field: sla_name, revoked_tier: "lapsed"'
    )
    _run(runtime, entitlement("acct_2", tier="standard", sla="Std"), account("acct_2"))
    assert zendesk.organizations()[0]["organization_fields"] == {
        "support_plan": "standard",
        "sla_name": "Std",
    }


def test_missing_organization_field_parks_before_writing(
    zendesk: Zendesk, runtime: Runtime
) -> None:
    with pytest.raises(BusinessRuleError) as info:
        _run(runtime, entitlement("acct_3"), account("acct_3"))
    assert info.value.code == "zendesk.unknown_org_field"
    assert "entitlement_tier" in info.value.remediation
    assert "options.tier_field" in info.value.remediation
    assert zendesk.organizations() == []
    # Once an admin creates the fields, the retry goes through (the field list is re-read).
    zendesk.seed_fields()
    _run(runtime, entitlement("acct_3"), account("acct_3"))
    assert len(zendesk.organizations()) == 1


def test_record_invalid_is_a_business_rule_error_with_remediation(
    zendesk: Zendesk, runtime: Runtime
) -> None:
    zendesk.seed_fields()  # the tier is a drop-down: standard, premium, enterprise, none
    with pytest.raises(BusinessRuleError) as info:
        _run(runtime, entitlement("acct_4", tier="platinum"), account("acct_4"))
    error = info.value
    assert error.code == "zendesk.RecordInvalid"
    assert "platinum" in error.message and "entitlement_tier" in error.remediation
    assert "option" in error.remediation
    assert zendesk.organizations() == []

    # A name already taken by an organization that is not linked to this account.
    with zendesk.api() as api:
        api.post("/organizations.json", json={"organization": {"name": "Taken Inc"}})
    with pytest.raises(BusinessRuleError) as info:
        _run(runtime, entitlement("acct_5"), account("acct_5", "Taken Inc"))
    assert "DuplicateValue" not in info.value.remediation
    assert "External ID to acct_5" in info.value.remediation


def test_rate_limited_is_transient_with_retry_after(
    extra_zendesk: Callable[..., Zendesk], tmp_path: Path
) -> None:
    tiny = extra_zendesk(requests_per_minute=3)
    tiny.seed_fields()  # two of the three requests this minute
    runtime = Runtime(load_settings(write_zendesk_config(tmp_path, base_url=tiny.url)))
    try:
        with pytest.raises(TransientError) as info:
            _run(runtime, entitlement("acct_6"), account("acct_6"))
    finally:
        runtime.close()
    assert info.value.code == "zendesk.RateLimited"
    assert info.value.retry_after is not None and 0 < info.value.retry_after <= 60
    assert tiny.emulator.state.organizations == {}


def test_lost_response_is_uncertain_and_the_probe_finds_the_write(
    zendesk: Zendesk, runtime: Runtime
) -> None:
    zendesk.seed_fields()
    acct, ent = account("acct_7", "Lost Answer Ltd"), entitlement("acct_7")
    probe = runtime.connection(CONNECTION).action("upsert_entitlement").probe
    assert probe is not None
    assert probe(step_context(runtime), CONNECTION, ent, acct) is None  # nothing there yet

    zendesk.faults(lost_response_rate=1.0, stall_seconds=2.0, only_methods=["POST"])
    started = time.monotonic()
    with pytest.raises(UncertainOutcomeError) as info:
        _run(runtime, ent, acct, timeout_seconds=0.5)
    assert time.monotonic() - started < 2.0  # the step's timeout bounded the request
    assert info.value.code == "zendesk.uncertain_outcome"
    zendesk.faults(lost_response_rate=0.0)

    found = probe(step_context(runtime), CONNECTION, ent, acct)
    assert found is not None
    org = zendesk.organizations()[0]
    assert found["native_id"] == str(org["id"]) and found["tier"] == "premium"
    assert runtime.xref.native_id_for("account", "acct_7", CONNECTION) == str(org["id"])
    # Another version (an upgrade) did not land: the probe says so, and the step is retried.
    assert (
        probe(step_context(runtime), CONNECTION, entitlement("acct_7", tier="enterprise"), acct)
        is None
    )


def test_compensation_downgrades_and_keeps_the_organization(
    zendesk: Zendesk, runtime: Runtime
) -> None:
    zendesk.seed_fields()
    acct, ent = account("acct_8"), entitlement("acct_8", tier="enterprise", sla="Ent 1h")
    result = _run(runtime, ent, acct)
    compensate = runtime.connection(CONNECTION).action("upsert_entitlement").compensate
    assert compensate is not None

    compensate(step_context(runtime, step="x.compensate"), result, CONNECTION, ent, acct)
    orgs = zendesk.organizations()
    assert len(orgs) == 1 and orgs[0]["external_id"] == "acct_8"
    assert orgs[0]["organization_fields"] == {"entitlement_tier": "none", "sla_policy": None}

    # Compensating again, or after someone else changed the tier, leaves the org alone.
    with zendesk.api() as api:
        body = {"organization": {"organization_fields": {"entitlement_tier": "standard"}}}
        api.put(f"/organizations/{orgs[0]['id']}.json", json=body).raise_for_status()
    compensate(step_context(runtime, step="x.compensate"), result, CONNECTION, ent, acct)
    assert zendesk.organizations()[0]["organization_fields"]["entitlement_tier"] == "standard"
    # An organization deleted in Zendesk: nothing to undo.
    with zendesk.api() as api:
        api.delete(f"/organizations/{orgs[0]['id']}.json").raise_for_status()
    compensate(step_context(runtime, step="x.compensate"), result, CONNECTION, ent, acct)


def test_wrong_token_is_an_auth_error(zendesk: Zendesk, make_runtime: RuntimeFactory) -> None:
    runtime = make_runtime(token="not-the-token")
    with pytest.raises(AuthError) as info:
        _run(runtime, entitlement("acct_9"), account("acct_9"))
    assert "not-the-token" not in str(info.value)
    assert "not-the-token" not in repr(runtime.connection(CONNECTION).client)  # type: ignore[attr-defined]


def test_invalid_canonical_and_mismatched_account_park(zendesk: Zendesk, runtime: Runtime) -> None:
    zendesk.seed_fields()
    with pytest.raises(BusinessRuleError) as info:
        _run(runtime, {"global_id": "e", "account_id": "a"}, account("a"))
    assert info.value.code == "zendesk.invalid_canonical"
    with pytest.raises(BusinessRuleError) as info:
        _run(runtime, entitlement("acct_other"), account("acct_10"))
    assert info.value.code == "zendesk.entitlement_account_mismatch"
    assert zendesk.organizations() == []


def test_bad_options_stop_start_up(zendesk: Zendesk, make_runtime: RuntimeFactory) -> None:
    with pytest.raises(ConfigError) as info:
        make_runtime(options='tier_field: "bad key", sla_field: ""')
    problems = "\n".join(info.value.problems)
    assert "options.tier_field" in problems and "options.sla_field" in problems


def test_webhook_verifier_uses_the_configured_secrets(connector: ZendeskConnector) -> None:
    verifier = connector.webhook_verifier()
    assert verifier is not None
    body = b'{"id": "01HZ", "type": "zen:event-type:organization.created"}'
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    good = sign_zendesk_payload(body, "zendesk-webhook-signing-secret", stamp)
    verifier.verify(body, {SIGNATURE_HEADER: good, TIMESTAMP_HEADER: stamp})
    with pytest.raises(AuthError):
        verifier.verify(
            body,
            {SIGNATURE_HEADER: sign_zendesk_payload(body, "x", stamp), TIMESTAMP_HEADER: stamp},
        )
    identity = connector.identify(
        {"id": "01HZ", "type": "zen:event-type:organization.created"}, body
    )
    assert identity.vendor_event_id == "01HZ"


def test_entitlement_set_and_revoke_are_audited(zendesk: Zendesk, runtime: Runtime) -> None:
    zendesk.seed_fields()
    acct, ent = account("acct_9"), entitlement("acct_9", tier="enterprise", sla="Ent 1h")
    set_ctx, revoke_ctx = step_context(runtime), step_context(runtime, step="x.compensate")
    action = runtime.connection(CONNECTION).action("upsert_entitlement")
    result = action.run(set_ctx, CONNECTION, ent, acct)
    assert action.compensate is not None
    action.compensate(revoke_ctx, result, CONNECTION, ent, acct)
    hooks = LedgerHooks(runtime.ledger, runtime.exceptions, audit=runtime.audit)
    hooks.record_writes(set_ctx)
    hooks.record_writes(revoke_ctx)
    with runtime.db.engine.connect() as conn:
        rows = conn.execute(sa.select(audit.c.action, audit.c.native_id).order_by(audit.c.seq))
        recorded = [tuple(row) for row in rows]
    assert recorded == [
        ("zendesk.entitlement.set", result["native_id"]),
        ("zendesk.entitlement.revoke", result["native_id"]),
    ]
    assert runtime.audit.verify().ok
