"""Every canonical event a shipped connector emits starts a workflow, and the lifecycle's pure
decisions (standing, dunning entitlement, contract fields) and its config policy."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from syncwright.config import DunningPolicy, parse_settings
from syncwright.engine import registered_workflows
from syncwright.errors import ConfigError
from syncwright.model import EVENT_TYPES
from syncwright.runtime import load_workflow_modules
from syncwright.workflows.lifecycle_plan import (
    contract_fields,
    entitlement_in_standing,
    product_summary,
    standing,
)

CONNECTORS = Path(__file__).resolve().parents[2] / "syncwright" / "connectors"
EVENT_TYPE = re.compile(r"syncwright\.[a-z_]+\.[a-z_]+\.v[0-9]+")
# Emitted, kept as canonical state by the policy gate, and started no workflow yet; each entry
# is listed in docs/lifecycle.md. Handling one makes this test fail until it is removed here.
NO_WORKFLOW_YET: dict[str, str] = {}


def _emitted() -> set[str]:
    """The event types named anywhere in a shipped connector's code or mapping files."""
    found: set[str] = set()
    for path in CONNECTORS.rglob("*"):
        if path.suffix in (".py", ".yaml"):
            found |= set(EVENT_TYPE.findall(path.read_text()))
    return found


def test_every_emitted_event_type_starts_a_workflow() -> None:
    load_workflow_modules()
    handled = {t for w in registered_workflows().values() for t in w.handles}
    emitted = _emitted()
    assert "syncwright.subscription.updated.v1" in emitted  # the scan finds what it should
    assert emitted <= set(EVENT_TYPES)
    assert sorted(emitted - handled) == sorted(NO_WORKFLOW_YET)
    docs = (CONNECTORS.parents[1] / "docs" / "lifecycle.md").read_text()
    assert all(f"`{event_type}`" in docs for event_type in NO_WORKFLOW_YET)


def _subscription(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "global_id": "subs_1",
        "account_id": "acct_1",
        "plan_id": "prod_platform",
        "status": "active",
        "currency": "USD",
        "term_start": "2026-01-01",
        "term_end": "2026-02-01",
        "billing_frequency": "monthly",
        "items": [
            {
                "global_id": "si_1",
                "price_id": "price_platform",
                "product_id": "prod_platform",
                "quantity": 1,
                "unit_amount": {"amount_minor": 49_000, "currency": "USD"},
            },
            {
                "global_id": "si_2",
                "price_id": "price_seat",
                "product_id": "prod_seat",
                "quantity": 12,
                "unit_amount": {"amount_minor": 2_500, "currency": "USD"},
            },
        ],
    }
    return {**base, **changes}


def test_contract_fields_forecast_a_renewal_or_show_the_cancel_date() -> None:
    renewing = contract_fields(_subscription())
    assert renewing["acv"] == {"amount_minor": (49_000 + 12 * 2_500) * 12, "currency": "USD"}
    assert renewing["renewal_date"] == "2026-02-01" and renewing["cancel_date"] is None
    assert renewing["renewal_amount"] == renewing["acv"]
    assert renewing["product_summary"] == "prod_platform x1; prod_seat x12"
    ending = contract_fields(_subscription(cancel_at_period_end=True))
    assert ending["renewal_date"] is None and ending["renewal_amount"] is None
    assert ending["cancel_date"] == "2026-02-01"
    assert ending["subscription_status"] == "active"  # service goes on until then
    assert "subscription_status" not in contract_fields(_subscription(status="paused"))


def test_product_summary_fits_a_text_field() -> None:
    items = [
        {
            "global_id": f"si_{n}",
            "price_id": f"price_{n:040d}",
            "quantity": n + 1,
            "unit_amount": {"amount_minor": 100, "currency": "USD"},
        }
        for n in range(20)
    ]
    summary = product_summary(_subscription(items=items))
    assert len(summary) == 255 and summary.endswith("...")


@pytest.mark.parametrize(
    ("policy", "attempts", "want_standing", "want_tier", "want_status"),
    [
        (DunningPolicy(), 0, "current", "premium", "active"),
        (DunningPolicy(), 3, "past_due", "premium", "active"),
        (DunningPolicy(action="suspend"), 1, "suspended", "premium", "suspended"),
        (DunningPolicy(action="suspend", after_attempts=2), 1, "past_due", "premium", "active"),
        (DunningPolicy(action="downgrade", tier="basic"), 1, "past_due", "basic", "active"),
    ],
)
def test_dunning_policy_decides_standing_and_entitlement(
    policy: DunningPolicy, attempts: int, want_standing: str, want_tier: str, want_status: str
) -> None:
    receivables = {"balance_due": None, "open_invoices": 1, "dunning_attempts": attempts}
    assert standing(receivables, policy) == want_standing
    entitlement = {"tier": "premium", "status": "active", "sla_policy": {"name": "Premium 4h"}}
    kept = entitlement_in_standing(entitlement, receivables, policy, {"basic": "Basic 48h"})
    assert (kept["tier"], kept["status"]) == (want_tier, want_status)
    if want_tier == "basic":
        assert kept["sla_policy"] == {"name": "Basic 48h"}


@pytest.mark.parametrize(
    ("dunning", "message"),
    [
        ("{action: downgrade}", "needs tier"),
        ("{action: suspend, tier: basic}", "only with action: downgrade"),
        ("{action: cancel}", "lifecycle.dunning.action"),
        ("{after_attempts: 0}", "lifecycle.dunning.after_attempts"),
    ],
)
def test_config_refuses_a_dunning_policy_that_cannot_act(dunning: str, message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_settings(f"lifecycle:\n  dunning: {dunning}\n")
    assert message in str(raised.value) + " ".join(raised.value.problems)
