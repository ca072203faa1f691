"""``syncwright demo``: run the end-to-end demo on the embedded store."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from syncwright.cli._common import JsonOption, console, emit_json
from syncwright.demo import run_example_demo


def demo(
    workdir: Annotated[
        Path, typer.Option(help="Where the demo keeps its config and SQLite file.")
    ] = Path(".syncwright/demo"),
    customers: Annotated[int, typer.Option(min=10, max=5000)] = 30,
    keep_running: Annotated[
        bool, typer.Option("--keep-running", help="Keep the API up after the scenario.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Start the emulators, engine and API; drive a realistic scenario; say where to look."""
    result = run_example_demo(
        workdir, customers=customers, console=console, keep_running=keep_running
    )
    if as_json:
        emit_json({**result.__dict__, "config_path": str(result.config_path)})
