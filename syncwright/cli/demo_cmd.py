"""``syncwright demo``: run the end-to-end demo on the embedded store."""

from __future__ import annotations

import dataclasses
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from syncwright.cli._common import ConfigOption, JsonOption, console, emit_json, fail, load_or_exit
from syncwright.config import DEFAULT_CONFIG_PATH, Settings, TelemetrySettings
from syncwright.demo import run_example_demo
from syncwright.demo._extra import require_sandbox_extra
from syncwright.errors import ConfigError
from syncwright.telemetry import configure_logging

if TYPE_CHECKING:
    from syncwright.demo.billing_world import BillingWorld


class DemoScenario(StrEnum):
    quote_to_cash = "quote-to-cash"
    billing = "billing"
    example = "example"


def demo(
    scenario: Annotated[
        DemoScenario,
        typer.Option(
            help="quote-to-cash: Salesforce, NetSuite, Stripe and Zendesk (default); billing: "
            "Stripe -> NetSuite; example: the template connector."
        ),
    ] = DemoScenario.quote_to_cash,
    workdir: Annotated[
        Path, typer.Option(help="Where the demo keeps its config, secrets and SQLite file.")
    ] = Path(".syncwright/demo"),
    customers: Annotated[
        int, typer.Option(min=10, max=5000, help="Customers (deals in quote-to-cash).")
    ] = 30,
    keep_running: Annotated[
        bool, typer.Option("--keep-running", help="example scenario: keep the API up after it.")
    ] = False,
    with_console: Annotated[
        bool,
        typer.Option(
            "--console",
            help="Afterwards keep everything running and serve the console on the demo's "
            "data; prints its URL and sign-in tokens (until Ctrl-C).",
        ),
    ] = False,
    as_json: JsonOption = False,
    config: ConfigOption = None,
) -> None:
    """Start the emulators, engine and API; drive a realistic scenario; say where to look.

    The demo writes its own config; only the ``telemetry`` section of ``--config`` (log level
    and format) applies to it -- without any config file it logs warnings and errors only.
    """
    if config is None and not DEFAULT_CONFIG_PATH.exists():
        configure_logging(Settings(telemetry=TelemetrySettings(log_level="warning")))
    else:
        configure_logging(load_or_exit(config, as_json=as_json))
    result: Any
    if with_console and scenario is DemoScenario.example:
        fail(
            "--console works with the quote-to-cash and billing scenarios; the example "
            "scenario has --keep-running",
            as_json=as_json,
            code=2,
        )

    if scenario is DemoScenario.example:
        result = run_example_demo(
            workdir, customers=customers, console=console, keep_running=keep_running
        )
        ok = result.max_applied_per_key == 1
    else:
        result, ok = _billing_scenario(scenario, workdir, customers, with_console, as_json)
    if as_json:
        emit_json(dataclasses.asdict(result))
    if not ok:
        raise typer.Exit(1)


def _billing_scenario(
    scenario: DemoScenario, workdir: Path, customers: int, with_console: bool, as_json: bool
) -> tuple[Any, bool]:
    """The scenarios that drive Stripe's SDK: imported only once the sandbox extra is known to
    be installed, so a lean install gets the install command instead of an ImportError."""
    try:
        require_sandbox_extra()
    except ConfigError as exc:
        fail(str(exc), as_json=as_json, problems=exc.problems)
    from syncwright.demo.billing_demo import run_billing_demo
    from syncwright.demo.console_handoff import hold_console
    from syncwright.demo.quote_to_cash_demo import run_quote_to_cash_demo

    def hold(world: BillingWorld) -> None:
        hold_console(world, console)

    chosen_hold = hold if with_console else None
    result: Any
    if scenario is DemoScenario.quote_to_cash:
        result = run_quote_to_cash_demo(
            workdir, deals=min(customers, 200), console=console, hold=chosen_hold
        )
        ok = not result.check.problems and result.netsuite_breaches == 0
    else:
        result = run_billing_demo(workdir, customers=customers, console=console, hold=chosen_hold)
        ok = not result.comparison.problems and result.netsuite_breaches == 0
    return result, ok
