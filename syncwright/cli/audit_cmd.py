"""``syncwright audit head|verify``: export the chain's head; check the chain end to end."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from syncwright.cli._common import ConfigOption, JsonOption, console, emit_json, fail, load_or_exit
from syncwright.ledger import AuditHead
from syncwright.runtime import Runtime

app = typer.Typer(help="The hash-chained audit trail.", no_args_is_help=True, add_completion=False)


@app.command()
def head(config: ConfigOption = None, as_json: JsonOption = False) -> None:
    """Print the newest entry (sequence, hash, time): keep it elsewhere to anchor the chain."""
    settings = load_or_exit(config, as_json=as_json)
    with Runtime(settings) as runtime:
        current = runtime.audit.head()
    if as_json:
        emit_json(current.as_json())
        return
    console.print(f"sequence {current.sequence}  hash {current.hash}  at {current.as_json()['at']}")


@app.command()
def verify(
    head_file: Annotated[
        Path | None,
        typer.Option(
            "--head",
            help="A head exported earlier (`audit head --json`): also catches a cut-off tail.",
            dir_okay=False,
        ),
    ] = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Check every entry; exit 1 and name the first altered, removed, inserted or reordered
    entry (or a truncated tail)."""
    exported = _read_head(head_file, as_json) if head_file is not None else None
    settings = load_or_exit(config, as_json=as_json)
    with Runtime(settings) as runtime:
        report = runtime.audit.verify(exported)
    if as_json:
        emit_json(report.as_json())
    elif report.problem is None:
        console.print(f"audit trail intact: {report.entries} entries, keyed: {report.keyed}")
    else:
        console.print(
            f"[red]audit trail broken[/red] ({report.problem.kind}): {report.problem.message}"
        )
    if report.problem is not None:
        raise typer.Exit(1)


def _read_head(path: Path, as_json: bool) -> AuditHead:
    try:
        return AuditHead.from_json(json.loads(path.read_text()))
    except OSError as exc:
        fail(f"{path}: cannot read the exported head ({exc.strerror})", as_json=as_json, code=2)
    except ValueError as exc:
        fail(f"{path}: {exc}", as_json=as_json, code=2)
