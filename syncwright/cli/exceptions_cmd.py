"""``syncwright exceptions list|show|retry|resolve``: the operations queue."""

from __future__ import annotations

from typing import Annotated

import typer

from syncwright.cli._common import (
    ConfigOption,
    JsonOption,
    cli_actor,
    console,
    emit_json,
    fail,
    load_or_exit,
)
from syncwright.cli._tables import Column, print_table
from syncwright.engine import EngineClient
from syncwright.exceptions import (
    ExceptionAlreadyResolved,
    ExceptionRecord,
    ExceptionService,
    UnknownException,
)
from syncwright.runtime import Runtime

app = typer.Typer(help="The exception queue.", no_args_is_help=True, add_completion=False)

IdArgument = Annotated[str, typer.Argument(help="The exception id (exc_...).")]


@app.command("list")
def list_(
    status: Annotated[
        str | None, typer.Option(help="open | retrying | resolved (default: all)")
    ] = None,
    limit: int = 100,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """List exceptions, newest first."""
    settings = load_or_exit(config, as_json=as_json)
    with Runtime(settings) as runtime:
        records = runtime.exceptions.list(status=status, limit=limit)
    if as_json:
        emit_json([r.as_json() for r in records])
        return
    columns = (
        Column("id", whole=True),
        Column("status", keep=4),
        Column("source", keep=0),
        Column("code", keep=3),
        Column("step", whole=True),
        Column("correlation", whole=True),
        Column("created", keep=1),
    )
    rows = [
        (
            r.id,
            r.status,
            r.source,
            r.code,
            r.step or "",
            r.correlation_id,
            r.created_at.isoformat(timespec="seconds"),
        )
        for r in records
    ]
    print_table(console, columns, rows)


@app.command()
def show(record_id: IdArgument, config: ConfigOption = None, as_json: JsonOption = False) -> None:
    """Show one exception with its remediation guidance."""
    settings = load_or_exit(config, as_json=as_json)
    with Runtime(settings) as runtime:
        record = runtime.exceptions.get(record_id)
    if record is None:
        fail(f"no exception with id {record_id!r}", as_json=as_json)
    _print(record, as_json)


@app.command()
def retry(record_id: IdArgument, config: ConfigOption = None, as_json: JsonOption = False) -> None:
    """Re-run the failed step of a parked workflow (or re-dispatch a parked delivery)."""
    _act(record_id, "retry", "", config, as_json)


@app.command()
def resolve(
    record_id: IdArgument,
    note: Annotated[str, typer.Option(help="Why it is resolved (kept on the record).")] = "",
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Close an exception by hand: a parked workflow aborts (compensations run)."""
    _act(record_id, "resolve", note, config, as_json)


def _act(record_id: str, action: str, note: str, config: ConfigOption, as_json: bool) -> None:
    settings = load_or_exit(config, as_json=as_json)
    with Runtime(settings) as runtime:
        client = EngineClient(runtime.db)
        service = ExceptionService(
            runtime.exceptions, runtime.inbox, client, ledger=runtime.ledger, audit=runtime.audit
        )
        actor = cli_actor()
        try:
            record = (
                service.retry(record_id, actor=actor)
                if action == "retry"
                else service.resolve(record_id, note, actor=actor)
            )
        except (UnknownException, ExceptionAlreadyResolved) as exc:
            fail(str(exc), as_json=as_json)
        finally:
            client.close()
    _print(record, as_json)


def _print(record: ExceptionRecord, as_json: bool) -> None:
    if as_json:
        emit_json(record.as_json())
        return
    console.print(f"[bold]{record.id}[/bold] [{record.status}] {record.code}")
    console.print(f"  source: {record.source}  step: {record.step or '-'}")
    console.print(f"  workflow: {record.workflow_id or '-'}  inbox: {record.inbox_id or '-'}")
    console.print(f"  correlation: {record.correlation_id}")
    console.print(f"  message: {record.message}")
    console.print(f"  remediation: {record.remediation}")
    if record.resolution:
        console.print(f"  resolution: {record.resolution}")
