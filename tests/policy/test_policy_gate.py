"""The policy gate on a real database (SQLite and PostgreSQL): ownership, echoes, staleness,
deltas. Events are built with the canonical model's own ``make_event``, as connectors do."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from syncwright.config import load_settings
from syncwright.errors import ConfigError
from syncwright.model import make_event
from syncwright.runtime import Runtime

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
SUBSCRIPTION: dict[str, Any] = {
    "global_id": "sub_1",
    "account_id": "acct_1",
    "plan_id": "prod_1",
    "status": "active",
    "currency": "USD",
    "term_start": "2026-12-01",
    "billing_frequency": "monthly",
    "items": [
        {
            "global_id": "si_1",
            "price_id": "price_1",
            "quantity": 1,
            "unit_amount": {"amount_minor": 1000, "currency": "USD"},
        }
    ],
}


def _config(tmp_path: Path, db_url: str, ownership: str = "") -> Path:
    path = tmp_path / "syncwright.yaml"
    path.write_text(
        f"""\
database: {{url: "{db_url}"}}
connections:
  crm: {{vendor: example, options: {{role: crm}}}}
  billing: {{vendor: example, options: {{role: billing}}}}
  erp: {{vendor: example, base_url: "http://127.0.0.1:9", options: {{role: erp}}}}
{ownership}"""
    )
    return path


@pytest.fixture
def runtime(tmp_path: Path, db_url: str) -> Iterator[Runtime]:
    with Runtime(load_settings(_config(tmp_path, db_url))) as started:
        yield started


def account_event(
    writer: str,
    n: int,
    *,
    at: datetime = T0,
    event_type: str = "syncwright.account.upserted.v1",
    **fields: Any,
) -> dict[str, Any]:
    account = {"global_id": "acct_1", "name": "Acme", **fields}
    event = make_event(
        event_type,
        {"account": account},
        source=f"syncwright/{writer}",
        correlation_id=f"cor_{writer}_{n}",
        entity_key="account:acct_1",
        subject="acct_1",
        event_id=f"{writer}:{n}",
        time=at,
    )
    dumped: dict[str, Any] = event.model_dump(mode="json", by_alias=True)
    return dumped


def sub_event(
    event_type: str, n: int, *, at: datetime = T0, status: str = "active", **data: Any
) -> dict[str, Any]:
    event = make_event(
        event_type,
        {"subscription": {**SUBSCRIPTION, "status": status}, **data},
        source="syncwright/billing",
        correlation_id=f"cor_{n}",
        entity_key="account:acct_1",
        event_id=f"billing:{n}",
        time=at,
    )
    dumped: dict[str, Any] = event.model_dump(mode="json", by_alias=True)
    return dumped


def test_a_non_owner_change_is_removed_and_reported(runtime: Runtime) -> None:
    gate = runtime.policy
    first = gate.admit("crm", account_event("crm", 1, billing_email="ap@acme.test"), inbox_id=1)
    assert first.kind == "passed" and first.event is not None  # the first event seeds the state

    # The CRM edits the billing email (billing owns it by default) and the name (its own).
    both = account_event(
        "crm", 2, at=T0 + timedelta(minutes=1), name="Acme Inc", billing_email="x@acme.test"
    )
    verdict = gate.admit("crm", both, inbox_id=2)
    assert verdict.event is not None
    travelled = verdict.event["data"]
    assert travelled["account"]["name"] == "Acme Inc"
    assert travelled["account"]["billing_email"] == "ap@acme.test"  # the owner's value stays
    assert travelled["changed_fields"] == ["name"]
    [violation] = verdict.decisions
    assert (violation.kind, violation.field, violation.connection, violation.owner) == (
        "ownership",
        "billing_email",
        "crm",
        "billing",
    )

    # Only the email again: nothing owned is left, so the event is held back.
    only = account_event(
        "crm", 3, at=T0 + timedelta(minutes=2), name="Acme Inc", billing_email="y@acme.test"
    )
    assert gate.admit("crm", only).event is None

    # The owner may change it.
    owner = account_event(
        "billing", 1, at=T0 + timedelta(minutes=3), name="Acme Inc", billing_email="y@acme.test"
    )
    verdict = gate.admit("billing", owner)
    assert verdict.event is not None and verdict.event["data"]["changed_fields"] == [
        "billing_email"
    ]
    stored = runtime.policy_store.get_state("account", "acct_1")
    assert stored is not None and stored.data["billing_email"] == "y@acme.test"

    reported = runtime.policy_store.decisions(kind="ownership")
    assert [(d.field, d.connection, d.owner) for d in reported] == [
        ("billing_email", "crm", "billing")
    ] * 2
    ledger = [e for e in runtime.ledger.recent(50) if e.step == "policy.ownership"]
    assert len(ledger) == 2 and all(e.outcome == "skipped" for e in ledger)


def test_an_older_event_never_overwrites_newer_state(runtime: Runtime) -> None:
    gate = runtime.policy
    newer = account_event("crm", 2, at=T0 + timedelta(minutes=5), name="Acme New")
    older = account_event("crm", 1, at=T0, name="Acme Old")
    assert gate.admit("crm", newer).event is not None
    verdict = gate.admit("crm", older)
    assert verdict.event is None and verdict.kind == "stale"
    stored = runtime.policy_store.get_state("account", "acct_1")
    assert stored is not None and stored.data["name"] == "Acme New"
    [stale] = runtime.policy_store.decisions(kind="stale")
    assert stale.event_id == "crm:1" and "older" in (stale.detail or "")


def test_an_unchanged_redelivery_is_held_back_but_a_new_transition_is_not(
    runtime: Runtime,
) -> None:
    gate = runtime.policy
    assert gate.admit("crm", account_event("crm", 1, website="acme.test")).event is not None
    again = gate.admit(
        "crm", account_event("crm", 2, at=T0 + timedelta(seconds=1), website="acme.test")
    )
    assert again.event is None and again.kind == "unchanged"
    [unchanged] = runtime.policy_store.decisions(kind="unchanged")
    assert unchanged.event_id == "crm:2"


def test_our_own_write_coming_back_is_an_echo(runtime: Runtime) -> None:
    gate = runtime.policy
    store = runtime.policy_store
    assert gate.admit("crm", account_event("crm", 1, website="a.test")).event is not None
    # The CRM changed the website; syncwright wrote it to the ERP (a step's ledger block).
    assert gate.admit("crm", account_event("crm", 2, at=T0 + timedelta(1), website="b.test")).event
    store.remember_writes("erp", "account", "acct_1", _digests(website="b.test"))
    # Meanwhile the CRM moved on; then the ERP reports the value we wrote: an echo.
    assert gate.admit("crm", account_event("crm", 3, at=T0 + timedelta(2), website="c.test")).event
    echo = gate.admit("erp", account_event("erp", 1, at=T0 + timedelta(3), website="b.test"))
    assert echo.event is None and echo.kind == "echo"
    stored = store.get_state("account", "acct_1")
    assert stored is not None and stored.data["website"] == "c.test"  # no ping-pong back
    assert store.decisions(kind="ownership") == []  # our echo is no violation by the ERP
    # A change the ERP makes itself is one: the CRM owns the website by default.
    later = gate.admit("erp", account_event("erp", 2, at=T0 + timedelta(4), website="d.test"))
    assert later.event is None and [d.kind for d in later.decisions] == ["ownership"]


def test_an_echo_is_forgotten_once_the_system_changes_the_field_itself(
    tmp_path: Path, sqlite_url: str
) -> None:
    config = _config(tmp_path, sqlite_url, "ownership:\n  contact: {system: erp}\n")
    with Runtime(load_settings(config)) as runtime:
        gate, store = runtime.policy, runtime.policy_store

        def contact(n: int, email: str) -> dict[str, Any]:
            event = make_event(
                "syncwright.contact.upserted.v1",
                {"contact": {"global_id": "c_1", "email": email}},
                source="syncwright/erp",
                correlation_id=f"cor_{n}",
                entity_key="account:acct_1",
                event_id=f"erp:{n}",
                time=T0 + timedelta(minutes=n),
            )
            dumped: dict[str, Any] = event.model_dump(mode="json", by_alias=True)
            return dumped

        assert gate.admit("erp", contact(1, "a@x.test")).event is not None
        store.remember_writes("erp", "contact", "c_1", _digests(email="b@x.test"))
        assert gate.admit("erp", contact(2, "b@x.test")).kind == "echo"
        assert gate.admit("erp", contact(3, "c@x.test")).kind == "passed"
        # The ERP holds its own value now: the same value we once wrote is a real change.
        assert gate.admit("erp", contact(4, "b@x.test")).kind == "passed"


def test_transitions_pass_once_per_state(runtime: Runtime) -> None:
    gate = runtime.policy
    created = sub_event("syncwright.subscription.created.v1", 1)
    activated = sub_event("syncwright.subscription.activated.v1", 2, activated_at=T0.isoformat())
    assert gate.admit("billing", created).kind == "passed"
    # Same fields, but a transition not applied yet: it travels.
    assert gate.admit("billing", activated).kind == "passed"
    redelivered = sub_event("syncwright.subscription.activated.v1", 3, activated_at=T0.isoformat())
    assert gate.admit("billing", redelivered).kind == "unchanged"


def test_ownership_config_names_real_fields(tmp_path: Path, sqlite_url: str) -> None:
    config = _config(
        tmp_path,
        sqlite_url,
        "ownership:\n  account: {system: crm, fields: {billing_mail: billing}}\n",
    )
    with pytest.raises(ConfigError) as err:
        load_settings(config)
    [problem] = err.value.problems
    assert "ownership.account.fields.billing_mail" in problem and "billing_email" in problem


def test_configured_ownership_replaces_the_defaults(tmp_path: Path, sqlite_url: str) -> None:
    config = _config(tmp_path, sqlite_url, "ownership:\n  account: {system: billing}\n")
    with Runtime(load_settings(config)) as runtime:
        owner = runtime.ownership.owner("account", "name")
        assert owner.connections == ("billing",) and owner.rule == "ownership.account.system"
        # Not configured: the default by role.
        assert runtime.ownership.owner("case", "status").rule == "default: role support"
        assert runtime.ownership.owner("case", "status").connections == ()  # no support role
        assert runtime.ownership.owner("account", "subsidiary").connections == ("billing",)


def _digests(**values: Any) -> dict[str, str]:
    from syncwright.policy import field_digests

    return field_digests(values)


def test_admitting_the_same_event_again_gives_the_same_answer(runtime: Runtime) -> None:
    """The dispatcher repeats a row after a crash between the gate and the enqueue: the
    workflow must still start, with the same event."""
    gate = runtime.policy
    assert gate.admit("crm", account_event("crm", 1)).kind == "passed"
    renamed = account_event("crm", 2, at=T0 + timedelta(minutes=1), name="Acme Two")
    first = gate.admit("crm", renamed, inbox_id=7)
    again = gate.admit("crm", renamed, inbox_id=7)
    assert first.event is not None and again.kind == "passed" and again.event == first.event
    assert first.event["data"]["changed_fields"] == ["name"]
    # The vendor delivering the same event again (another inbox row): nothing new.
    assert gate.admit("crm", renamed, inbox_id=8).kind == "unchanged"
    # A different event with the same content is a re-delivery: unchanged.
    copy = account_event("crm", 3, at=T0 + timedelta(minutes=1), name="Acme Two")
    assert gate.admit("crm", copy).kind == "unchanged"


def test_a_late_transition_travels_once_without_overwriting_newer_state(runtime: Runtime) -> None:
    gate = runtime.policy
    later = T0 + timedelta(minutes=5)
    activated = sub_event(
        "syncwright.subscription.activated.v1", 2, at=later, activated_at=later.isoformat()
    )
    assert gate.admit("billing", activated).kind == "passed"
    # created happened first but arrives last: a fact that happened, it travels as sent...
    created = sub_event("syncwright.subscription.created.v1", 1, status="pending")
    late = gate.admit("billing", created)
    assert late.kind == "passed" and late.event == created
    # ...and the newer state stays.
    stored = runtime.policy_store.get_state("subscription", "sub_1")
    assert stored is not None and stored.data["status"] == "active"
    # Once applied, that type arriving late again is stale.
    again = sub_event("syncwright.subscription.created.v1", 3, status="pending")
    assert gate.admit("billing", again).kind == "stale"
    # A state event older than the newest applied is stale at once.
    updated = sub_event("syncwright.subscription.updated.v1", 4, status="pending")
    assert gate.admit("billing", updated).kind == "stale"


def test_a_replay_is_never_held_back_but_ownership_still_holds(runtime: Runtime) -> None:
    gate = runtime.policy
    assert gate.admit("crm", account_event("crm", 1, billing_email="ap@acme.test")).event
    same = account_event("crm", 2, at=T0 - timedelta(1), billing_email="x@acme.test")
    assert gate.admit("crm", same).kind == "stale"
    replayed = gate.admit("crm", same, rerun=True)
    assert replayed.kind == "passed" and replayed.event is not None
    assert replayed.event["data"]["account"]["billing_email"] == "ap@acme.test"  # billing's
    assert replayed.event["data"]["account"]["name"] == "Acme"
    stored = runtime.policy_store.get_state("account", "acct_1")
    assert stored is not None and stored.version == 1  # a replay changes no state
