"""``syncwright exceptions list|show|retry|resolve|assign|tag|comment|edit``: the operations
queue. ``retry`` and ``resolve`` without an id act in bulk on the records a filter selects."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Literal, TypeVar

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
from syncwright.exceptions.classify import CLASSES
from syncwright.exceptions.queue import STATUSES, ExceptionFilter
from syncwright.exceptions.service import NotEditable
from syncwright.runtime import Runtime

app = typer.Typer(help="The exception queue.", no_args_is_help=True, add_completion=False)

IdArgument = Annotated[str, typer.Argument(help="The exception id (exc_...).")]
OptionalId = Annotated[
    str | None, typer.Argument(help="The exception id; leave out to act on a filter.")
]
StatusOption = Annotated[str | None, typer.Option("--status", help=" | ".join(STATUSES))]
ClassOption = Annotated[str | None, typer.Option("--class", help=" | ".join(CLASSES))]
ConnectionOption = Annotated[str | None, typer.Option("--connection", help="Connection name.")]
TagOption = Annotated[str | None, typer.Option("--tag", help="Records carrying this tag.")]
OlderOption = Annotated[
    str | None, typer.Option("--older-than", help="Opened longer ago than this: 30m, 4h, 2d.")
]
YesOption = Annotated[bool, typer.Option("--yes", "-y", help="Do it without asking.")]

_DURATION = re.compile(r"^(\d+)\s*([smhdw])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
T = TypeVar("T")


def _filter(
    status: str | None,
    error_class: str | None,
    connection: str | None,
    tag: str | None,
    older_than: str | None,
    as_json: bool,
) -> ExceptionFilter:
    if status is not None and status not in STATUSES:
        fail(f"--status must be one of {', '.join(STATUSES)}", as_json=as_json, code=2)
    if error_class is not None and error_class not in CLASSES:
        fail(f"--class must be one of {', '.join(CLASSES)}", as_json=as_json, code=2)
    age = None
    if older_than is not None:
        match = _DURATION.match(older_than.strip().lower())
        if match is None:
            fail("--older-than takes a number and a unit: 30m, 4h, 2d", as_json=as_json, code=2)
        age = timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
    return ExceptionFilter(
        status=status,
        error_class=error_class,
        connection=connection,
        tag=tag,
        older_than=age,
    )


@app.command("list")
def list_(
    status: StatusOption = None,
    error_class: ClassOption = None,
    connection: ConnectionOption = None,
    tag: TagOption = None,
    older_than: OlderOption = None,
    limit: int = 100,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """List exceptions, newest first."""
    where = _filter(status, error_class, connection, tag, older_than, as_json)
    settings = load_or_exit(config, as_json=as_json)
    with Runtime(settings) as runtime:
        records = runtime.exceptions.list(where=where, limit=limit)
    if as_json:
        emit_json([r.as_json() for r in records])
        return
    columns = (
        Column("id", whole=True),
        Column("status", keep=5),
        Column("class", keep=4),
        Column("code", keep=3),
        Column("step", whole=True),
        Column("correlation", whole=True),
        Column("record", keep=2),
        Column("connection", keep=2),
        Column("assignee", keep=1),
        Column("created", keep=1),
    )
    rows = [
        (
            r.id,
            r.status,
            r.error_class or "",
            r.code,
            r.step or "",
            r.correlation_id,
            r.record or "",
            r.connection or "",
            r.assignee or "",
            r.created_at.isoformat(timespec="seconds"),
        )
        for r in records
    ]
    print_table(console, columns, rows)


@app.command()
def show(record_id: IdArgument, config: ConfigOption = None, as_json: JsonOption = False) -> None:
    """Show one exception with its remediation guidance and its history."""
    settings = load_or_exit(config, as_json=as_json)
    with Runtime(settings) as runtime:
        record = runtime.exceptions.get(record_id)
        history = runtime.exceptions.history(record_id) if record else []
    if record is None:
        fail(f"no exception with id {record_id!r}", as_json=as_json)
    if as_json:
        emit_json({**record.as_json(), "history": history})
        return
    _print(record)
    for event in history:
        detail = {k: v for k, v in (event["detail"] or {}).items() if k != "previous_body"}
        console.print(f"  {event['at']} {event['actor']} {event['action']} {detail or ''}")


@app.command()
def retry(
    record_id: OptionalId = None,
    status: StatusOption = None,
    error_class: ClassOption = None,
    connection: ConnectionOption = None,
    tag: TagOption = None,
    older_than: OlderOption = None,
    yes: YesOption = False,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Re-run the failed step of a parked workflow (or re-dispatch a parked delivery); without
    an id, every unresolved exception the filter selects."""
    if record_id is None:
        where = _filter(status, error_class, connection, tag, older_than, as_json)
        _bulk("retry", where, "", yes, config, as_json)
        return
    _one(config, as_json, lambda s: s.retry(record_id, actor=cli_actor()))


@app.command()
def resolve(
    record_id: OptionalId = None,
    note: Annotated[str, typer.Option(help="Why it is resolved (kept on the record).")] = "",
    status: StatusOption = None,
    error_class: ClassOption = None,
    connection: ConnectionOption = None,
    tag: TagOption = None,
    older_than: OlderOption = None,
    yes: YesOption = False,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Close an exception by hand: a parked workflow aborts (compensations run); without an
    id, every unresolved exception the filter selects."""
    if record_id is None:
        where = _filter(status, error_class, connection, tag, older_than, as_json)
        _bulk("resolve", where, note, yes, config, as_json)
        return
    _one(config, as_json, lambda s: s.resolve(record_id, note, actor=cli_actor()))


@app.command()
def assign(
    record_id: IdArgument,
    assignee: Annotated[str, typer.Argument(help="Who owns it now; '-' to unassign.")],
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Give an exception to someone."""
    who = None if assignee == "-" else assignee
    _one(config, as_json, lambda s: s.assign(record_id, who, actor=cli_actor()))


@app.command()
def tag(
    record_id: IdArgument,
    tags: Annotated[list[str] | None, typer.Argument(help="Tags to add.")] = None,
    remove: Annotated[
        list[str] | None, typer.Option("--remove", "-r", help="A tag to take off (repeatable).")
    ] = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Add tags, or take them off with ``--remove``."""
    add, drop = tags or [], remove or []
    if not add and not drop:
        fail("name a tag to add, or --remove one", as_json=as_json, code=2)
    _one(config, as_json, lambda s: s.tag(record_id, add, drop, actor=cli_actor()))


@app.command()
def comment(
    record_id: IdArgument,
    text: Annotated[str, typer.Argument(help="The comment.")],
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Add a comment to an exception's history."""
    _one(config, as_json, lambda s: s.comment(record_id, text, actor=cli_actor()))


@app.command()
def edit(
    record_id: IdArgument,
    payload: Annotated[
        Path, typer.Option("--payload", help="File with the corrected payload.", dir_okay=False)
    ],
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Replace a parked delivery's payload (the original stays in the history) and retry it."""
    try:
        body = payload.read_text()
    except OSError as exc:
        fail(f"{payload}: cannot read ({exc.strerror})", as_json=as_json, code=2)
    _one(config, as_json, lambda s: s.edit_payload(record_id, body, actor=cli_actor()))


def _with_service(
    config: ConfigOption, as_json: bool, action: Callable[[ExceptionService], T]
) -> T:
    settings = load_or_exit(config, as_json=as_json)
    with Runtime(settings) as runtime:
        client = EngineClient(runtime.db)
        service = ExceptionService(
            runtime.exceptions, runtime.inbox, client, ledger=runtime.ledger, audit=runtime.audit
        )
        try:
            return action(service)
        except (UnknownException, ExceptionAlreadyResolved, NotEditable, ValueError) as exc:
            fail(str(exc), as_json=as_json)
        finally:
            client.close()


def _one(
    config: ConfigOption, as_json: bool, action: Callable[[ExceptionService], ExceptionRecord]
) -> None:
    record = _with_service(config, as_json, action)
    if as_json:
        emit_json(record.as_json())
    else:
        _print(record)


def _bulk(
    action: Literal["retry", "resolve"],
    where: ExceptionFilter,
    note: str,
    yes: bool,
    config: ConfigOption,
    as_json: bool,
) -> None:
    if where == ExceptionFilter():
        fail(
            f"bulk {action} needs an id or a filter (--class, --connection, --status, --tag, "
            "--older-than)",
            as_json=as_json,
            code=2,
        )

    def run(service: ExceptionService) -> list[dict[str, object]]:
        chosen = service.matching(where)
        if not yes:
            if as_json:
                fail(
                    f"{action} would touch {len(chosen)} exceptions: add --yes",
                    as_json=True,
                    code=2,
                    ids=[r.id for r in chosen],
                )
            console.print(f"{action} {len(chosen)} exceptions: {', '.join(r.id for r in chosen)}")
            if not chosen or not typer.confirm("Go ahead?"):
                raise typer.Exit(1)
        return [o.as_json() for o in service.bulk(action, where, actor=cli_actor(), note=note)]

    outcomes = _with_service(config, as_json, run)
    if as_json:
        emit_json({"action": action, "outcomes": outcomes})
    else:
        for outcome in outcomes:
            console.print(f"{outcome['id']}: {outcome['status'] or outcome['error']}")
    if any(not o["ok"] for o in outcomes):
        raise typer.Exit(1)


def _print(record: ExceptionRecord) -> None:
    console.print(f"[bold]{record.id}[/bold] [{record.status}] {record.code}")
    console.print(f"  class: {record.error_class or '-'}  source: {record.source}")
    console.print(f"  system: {record.connection or '-'}  record: {record.record or '-'}")
    console.print(f"  step: {record.step or '-'}  workflow: {record.workflow_id or '-'}")
    console.print(f"  inbox: {record.inbox_id or '-'}  correlation: {record.correlation_id}")
    console.print(f"  assignee: {record.assignee or '-'}  tags: {', '.join(record.tags) or '-'}")
    if record.waiting_on:
        console.print(f"  waiting on: {record.waiting_on}")
    console.print(f"  message: {record.message}")
    console.print(f"  remediation: {record.remediation or record.guidance}")
    if record.resolution:
        console.print(f"  resolution: {record.resolution}")
