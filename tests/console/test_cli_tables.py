"""The CLI's tables keep every id and name an operator copies whole, at any terminal width:
``syncwright exceptions list`` and ``syncwright trace`` run as subprocesses with COLUMNS=60 and
200 against the same short quote-to-cash run the console tests use."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.console.conftest import ConsoleWorld


def _cli(cw: ConsoleWorld, columns: int, *args: str) -> list[str]:
    env = {**os.environ, "COLUMNS": str(columns), "NO_COLOR": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "syncwright", *args, "--config", str(cw.world.billing.config_path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    lines = done.stdout.splitlines()
    assert all(len(line) <= columns for line in lines if not line.startswith(" ")), lines
    return lines


def _whole(value: str, lines: list[str]) -> bool:
    return any(value in line for line in lines)


@pytest.mark.parametrize("columns", [60, 200])
def test_exceptions_list_keeps_ids_whole(console_world: ConsoleWorld, columns: int) -> None:
    runtime = console_world.world.billing.runtime
    assert runtime is not None
    records = runtime.exceptions.list()
    assert records
    lines = _cli(console_world, columns, "exceptions", "list")
    for record in records:
        assert _whole(record.id, lines), (record.id, lines)
        assert _whole(record.correlation_id, lines), (record.correlation_id, lines)
        assert record.step and _whole(record.step, lines)
    assert not any("…" in line for line in lines)
    # Wide: one table row per exception; narrow: one block of labelled lines per exception.
    assert any("┃" in line for line in lines) is (columns == 200)


@pytest.mark.parametrize("columns", [60, 200])
def test_trace_keeps_step_and_workflow_names_and_native_ids_whole(
    console_world: ConsoleWorld, columns: int
) -> None:
    runtime = console_world.world.billing.runtime
    assert runtime is not None
    account = runtime.xref.global_id_for("account", "salesforce", console_world.deals[0].account)
    entries = [
        e for e in runtime.ledger.for_entity(f"account:{account}") if e.workflow == "deal.onboard"
    ]
    correlation = entries[0].correlation_id
    lines = _cli(console_world, columns, "trace", correlation)
    assert not any("…" in line for line in lines)
    for entry in runtime.ledger.for_correlation(correlation):
        assert _whole(entry.step, lines), (entry.step, lines)
        assert entry.workflow and _whole(entry.workflow, lines)
        for system, native in entry.native_ids.items():
            assert _whole(f"{system}={native}", lines), (system, native, lines)
