"""The README's main job and the curated public API."""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.console import Console

import syncwright
from syncwright.config import load_settings
from syncwright.demo import run_example_demo
from syncwright.demo.billing_demo import run_billing_demo
from syncwright.demo.quote_to_cash_demo import run_quote_to_cash_demo
from syncwright.demo.stack import SKIPS, parse_stack


def test_demo_runs_the_whole_story(tmp_path: Path) -> None:
    console = Console(record=True, width=200)
    result = run_example_demo(tmp_path / "demo", customers=12, console=console)
    assert result.workflows == {"SUCCESS": 12}
    assert result.erp_customers == 12
    assert result.max_applied_per_key == 1
    assert result.exceptions_opened == 2
    assert result.config_path.exists()
    # The written config holds file references, never a secret value.
    text = result.config_path.read_text()
    assert "file:secrets/" in text and "whsec_" not in text
    # It made an API token, referenced from the config, and says how to use it (not its value).
    token_file = tmp_path / "demo" / "secrets" / "demo_operator_token"
    assert token_file.stat().st_mode & 0o777 == 0o600
    [token] = load_settings(result.config_path).auth.tokens
    assert (token.name, token.role) == ("demo-operator", "operator")
    assert token.secret.reveal() == token_file.read_text()
    shown = console.export_text()
    assert f'curl -H "Authorization: Bearer $(cat {token_file.resolve()})"' in shown
    assert token_file.read_text() not in shown + text


@pytest.mark.parametrize(
    "text", ["stripe,netsuite", "chargebee,business-central"], ids=["default", "second"]
)
def test_billing_demo_ends_with_the_erp_matching_billing(tmp_path: Path, text: str) -> None:
    console = Console(record=True, width=200)
    stack = parse_stack(text)
    result = run_billing_demo(tmp_path / "billing", customers=12, stack=stack, console=console)
    # On NetSuite the unmapped legal entity parks, fixed and retried by the demo; Business
    # Central takes its default tax area for it (stack.SKIPS says so).
    assert result.parked == (2 if stack.erp == "netsuite" else 0)
    assert result.comparison.problems == []
    assert result.comparison.duplicates == 0
    assert result.comparison.counts["customers"] == (12, 12)
    assert result.netsuite_breaches == 0 and result.netsuite_max_in_flight <= 5
    shown = console.export_text()
    assert f"stack: billing {stack.billing}, erp {stack.erp}" in shown
    assert all(f"on this stack: {skip[:60]}" in shown for skip in stack.skips(("billing", "erp")))


@pytest.mark.parametrize(
    "text",
    [
        "salesforce,stripe,netsuite,zendesk",
        "hubspot,stripe,netsuite,freshdesk",
        "hubspot,chargebee,business-central,freshdesk",
    ],
    ids=["default", "mixed", "second"],
)
def test_quote_to_cash_demo_shows_one_deal_across_four_systems(tmp_path: Path, text: str) -> None:
    """The default stack, a mixed one (HubSpot CRM, Freshdesk support desk) and the second
    stack: the same story, faults included, checked deal by deal from each emulator's own API;
    the output names the stack and what the story skips on it."""
    console = Console(record=True, width=200)
    stack = parse_stack(text)
    crm, support = stack.crm, stack.support
    result = run_quote_to_cash_demo(tmp_path / "q2c", deals=6, console=console, stack=stack)
    # On NetSuite, the deal billed in a country the subsidiary cannot tax parks and is fixed;
    # Business Central's tax check does not look at the country (stack.SKIPS says so).
    assert result.parked == (1 if stack.erp == "netsuite" else 0)
    assert result.check.problems == [] and result.check.onboarded == 6
    assert result.check.duplicates == 0 and result.netsuite_breaches == 0
    assert result.systems_in_trace == sorted([stack.erp, crm, stack.billing, support])
    assert result.stack == (
        f"crm {crm}, billing {stack.billing}, erp {stack.erp}, support {support}"
    )
    shown = console.export_text()
    assert f"stack: {result.stack}" in shown
    for vendor, skipped in SKIPS.items():  # the start of each (the console wraps lines)
        said = f"on this stack: {skipped[:60]}" in shown
        assert said == (vendor in (crm, stack.billing, stack.erp, support)), vendor


def test_public_api_is_curated() -> None:
    assert sorted(syncwright.__all__) == [
        "AuthError",
        "BusinessRuleError",
        "ConfigError",
        "SyncwrightError",
        "TransientError",
        "UncertainOutcomeError",
        "__version__",
    ]
    for name in syncwright.__all__:
        assert hasattr(syncwright, name)
