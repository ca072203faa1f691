"""``syncwright demo --stack``: reading the option, and a clear refusal of a vendor the
scenario's world cannot start (before anything starts)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from syncwright.cli import app
from syncwright.demo import stack as stack_module
from syncwright.demo.stack import DEFAULT_STACK, Stack, parse_stack, require_runnable
from syncwright.errors import ConfigError


def test_a_stack_names_one_vendor_per_kind_in_any_order() -> None:
    stack = parse_stack("freshdesk, Business-Central,chargebee,hubspot")
    assert stack == Stack("hubspot", "chargebee", "business_central", "freshdesk")
    assert parse_stack("business_central").erp == "business_central"
    # Kinds not named keep the default vendor.
    assert parse_stack("freshdesk") == Stack(support="freshdesk")
    assert parse_stack(None) == parse_stack("") == DEFAULT_STACK


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("salesforce,quickbooks", "unknown vendor 'quickbooks'"),
        ("salesforce,hubspot", "two crm vendors (salesforce, hubspot)"),
    ],
)
def test_a_bad_stack_says_what_to_fix(text: str, says: str) -> None:
    with pytest.raises(ConfigError, match=says.replace("(", r"\(").replace(")", r"\)")):
        parse_stack(text)


def test_every_vendor_runs_in_the_demo_worlds_and_a_gap_would_be_named(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    second = parse_stack("hubspot,business-central,chargebee,freshdesk")
    require_runnable("quote-to-cash", second)
    require_runnable("billing", second)
    require_runnable("billing", parse_stack("hubspot,freshdesk"))  # kinds billing does not use
    # A vendor a world could not start is refused by name, with what it can start.
    monkeypatch.setitem(stack_module.RUNNABLE, "billing", {"billing": ("stripe",)})
    with pytest.raises(ConfigError) as caught:
        require_runnable("billing", second)
    assert caught.value.problems == [
        "--stack: the billing demo cannot run billing chargebee; it runs billing stripe"
    ]


def test_the_cli_refuses_an_unbuilt_stack_before_starting_anything(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(
        stack_module.RUNNABLE, "billing", {"billing": ("stripe",), "erp": ("netsuite",)}
    )
    workdir = tmp_path / "demo"
    result = CliRunner().invoke(
        app,
        [
            "demo",
            "--scenario",
            "billing",
            "--stack",
            "hubspot,business-central,chargebee,freshdesk",
            "--workdir",
            str(workdir),
            "--json",
        ],
    )
    assert result.exit_code == 2, result.output
    body = json.loads(result.stdout)
    assert body["ok"] is False
    assert any("erp business_central" in p for p in body["problems"])
    assert not workdir.exists()
    example = CliRunner().invoke(app, ["demo", "--scenario", "example", "--stack", "freshdesk"])
    assert example.exit_code == 2
