"""``syncwright mapping test|diff``: try a mapping file on stored deliveries or sample payloads.

Both are dry runs: nothing is written (cross-reference lookups only read). Exit codes: 0 done,
1 a problem (invalid mapping file, unknown delivery, a record the mapping refuses), 2 usage.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import BaseModel, ValidationError
from rich.text import Text

from syncwright.cli._common import ConfigOption, JsonOption, console, emit_json, fail, load_or_exit
from syncwright.config import Settings
from syncwright.errors import ConfigError
from syncwright.intake import Inbox
from syncwright.mapping import CompiledMapping, RecordDiff, diff_deliveries, load_mapping
from syncwright.mapping.diff import Mapped, map_delivery
from syncwright.store import Database
from syncwright.xref import CrossReference

__all__ = ["app"]

app = typer.Typer(
    name="mapping",
    help="Try mapping files on stored deliveries or sample payloads (dry runs).",
    no_args_is_help=True,
    add_completion=False,
)

MappingArg = Annotated[Path, typer.Argument(help="Mapping file (YAML).", dir_okay=False)]
ConnectionOption = Annotated[
    str | None,
    typer.Option(
        "--connection",
        help="Connection whose options (and, for diff, stored deliveries) to use.",
    ),
]


def _compile(path: Path, *, as_json: bool) -> CompiledMapping:
    try:
        return load_mapping(path)
    except ConfigError as exc:
        problems = exc.problems or [exc.message]
        if as_json:
            emit_json({"ok": False, "mapping": str(path), "problems": problems})
        else:
            console.print(Text(f"✗ {path}: invalid mapping", style="bold red"))
            for problem in problems:
                console.print(Text(f"  • {problem}"))
        raise typer.Exit(1) from exc


def _options(settings: Settings, connection: str | None) -> dict[str, Any]:
    found = settings.connections.get(connection) if connection else None
    return dict(found.options) if found is not None else {}


def _model_problems(mapping: CompiledMapping, mapped: Mapped) -> list[str]:
    """Where the entity names a canonical model: what the result lacks to be one."""
    entity = mapping.entities.get(mapped.entity or "")
    model: type[BaseModel] | None = entity.model if entity is not None else None
    if model is None or mapped.fields is None:
        return []
    try:
        model.model_validate(mapped.fields)
    except ValidationError as exc:
        return [
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}"
            for e in exc.errors(include_url=False)
        ]
    return []


@app.command("test")
def test_mapping(
    mapping_file: MappingArg,
    delivery: Annotated[
        int | None, typer.Option("--delivery", help="Inbox id of a stored delivery.")
    ] = None,
    payload: Annotated[
        Path | None,
        typer.Option("--file", help="A sample payload (JSON file).", dir_okay=False),
    ] = None,
    entity: Annotated[
        str | None,
        typer.Option("--entity", help="Map the payload as this entity's record."),
    ] = None,
    connection: ConnectionOption = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Print what MAPPING_FILE makes of a stored delivery or a sample payload."""
    if (delivery is None) == (payload is None):
        fail(
            "give exactly one of --delivery INBOX_ID or --file PAYLOAD.json",
            as_json=as_json,
            code=2,
        )
    mapping = _compile(mapping_file, as_json=as_json)
    if entity is not None and entity not in mapping.entities:
        fail(
            f"mapping {mapping.ref} has no entity {entity!r} (it has "
            f"{', '.join(mapping.entities)})",
            as_json=as_json,
            code=2,
        )
    settings = load_or_exit(config, as_json=as_json)
    xref: CrossReference | None = None
    if delivery is not None:
        db = Database(settings.database.url_with_password())
        try:
            row = Inbox(db).get(delivery)
            if row is None:
                fail(f"no stored delivery with inbox id {delivery}", as_json=as_json)
            body_text, connection = row.body, connection or row.connection
            xref = CrossReference(db)
            body = _json(body_text, f"inbox delivery {delivery}", as_json=as_json)
            mapped = _map(mapping, body, entity, connection, settings, xref)
        finally:
            db.dispose()
    else:
        assert payload is not None
        try:
            text = payload.read_text(encoding="utf-8")
        except OSError as exc:
            fail(f"{payload}: cannot read: {exc.strerror or type(exc).__name__}", as_json=as_json)
        body = _json(text, str(payload), as_json=as_json)
        mapped = _map(mapping, body, entity, connection, settings, None)
    _print_mapped(mapping, mapped, as_json=as_json)


def _json(text: str, where: str, *, as_json: bool) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        fail(f"{where} is not JSON", as_json=as_json)


def _map(
    mapping: CompiledMapping,
    body: Any,
    entity: str | None,
    connection: str | None,
    settings: Settings,
    xref: CrossReference | None,
) -> Mapped:
    if entity is None and len(mapping.entities) == 1 and mapping.select(body) is None:
        entity = next(iter(mapping.entities))  # a sample record of the only entity
    return map_delivery(
        mapping,
        body,
        connection=connection or "(sample)",
        options=_options(settings, connection),
        xref=xref,
        entity=entity,
    )


def _print_mapped(mapping: CompiledMapping, mapped: Mapped, *, as_json: bool) -> None:
    problems = _model_problems(mapping, mapped)
    ok = mapped.entity is not None and mapped.error is None and not problems
    if as_json:
        emit_json(
            {
                "ok": ok,
                "mapping": mapping.ref,
                "entity": mapped.entity,
                "result": mapped.fields,
                "error": mapped.error,
                "model_problems": problems,
            }
        )
    elif mapped.entity is None:
        console.print(
            Text(f"✗ no entity of {mapping.ref} takes this payload (see delivery.when)", "red")
        )
    elif mapped.error is not None:
        console.print(Text(f"✗ {mapping.ref} {mapped.entity}: {mapped.error}", "red"))
    else:
        console.print(Text(f"{mapping.ref} {mapped.entity}:", style="bold"))
        console.print(json.dumps(mapped.fields, indent=2, ensure_ascii=False), markup=False)
        for problem in problems:
            console.print(Text(f"  ✗ not a valid canonical record: {problem}", "red"))
    if not ok:
        raise typer.Exit(1)


def _time(value: str | None, flag: str, *, as_json: bool) -> datetime | None:
    if value is None:
        return None
    try:
        stamp = datetime.fromisoformat(value)
    except ValueError:
        fail(
            f"{flag} {value!r} is not an ISO date or timestamp (2026-12-01T09:00)",
            as_json=as_json,
            code=2,
        )
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)


@app.command("diff")
def diff_mapping(
    old_file: Annotated[Path, typer.Argument(help="The mapping in use.", dir_okay=False)],
    new_file: Annotated[Path, typer.Argument(help="The candidate mapping.", dir_okay=False)],
    connection: ConnectionOption = None,
    event_type: Annotated[
        str | None, typer.Option("--event-type", help="Only deliveries of this vendor event type.")
    ] = None,
    since: Annotated[
        str | None, typer.Option("--since", help="Only deliveries received at or after (ISO).")
    ] = None,
    until: Annotated[
        str | None, typer.Option("--until", help="Only deliveries received before (ISO).")
    ] = None,
    limit: Annotated[
        int, typer.Option("--limit", min=1, help="At most this many deliveries.")
    ] = 100,
    changed_only: Annotated[
        bool, typer.Option("--changed-only", help="List only deliveries NEW would change.")
    ] = False,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show, delivery by delivery and field by field, what NEW would change versus OLD on the
    stored deliveries (oldest first)."""
    old = _compile(old_file, as_json=as_json)
    new = _compile(new_file, as_json=as_json)
    settings = load_or_exit(config, as_json=as_json)
    db = Database(settings.database.url_with_password())
    try:
        diffs = diff_deliveries(
            db,
            old,
            new,
            connection=connection,
            event_type=event_type,
            since=_time(since, "--since", as_json=as_json),
            until=_time(until, "--until", as_json=as_json),
            limit=limit,
            options=_options(settings, connection),
            only_changed=changed_only,
        )
    finally:
        db.dispose()
    changed = sum(1 for d in diffs if d.changed)
    if as_json:
        emit_json(
            {
                "ok": True,
                "old": old.ref,
                "new": new.ref,
                "deliveries": len(diffs),
                "changed": changed,
                "records": [d.to_dict() for d in diffs],
            }
        )
        return
    console.print(Text(f"{old.ref} -> {new.ref}: {changed} of {len(diffs)} deliveries change"))
    for diff in diffs:
        _print_diff(diff)


def _print_diff(diff: RecordDiff) -> None:
    head = f"inbox {diff.inbox_id} {diff.connection} {diff.event_type} ({diff.vendor_event_id})"
    entity = diff.new.entity or diff.old.entity
    if not diff.changed:
        console.print(Text(f"  = {head} {entity}: unchanged", "dim"))
        return
    console.print(Text(f"  ~ {head} {entity}:", "bold"))
    if diff.old.error != diff.new.error:
        console.print(Text(f"      error: {diff.old.error or '-'} -> {diff.new.error or '-'}"))
    for change in diff.changes:
        if change.kind == "added":
            line = f"      + {change.path}: {json.dumps(change.new)}"
        elif change.kind == "removed":
            line = f"      - {change.path}: {json.dumps(change.old)}"
        else:
            line = f"      ~ {change.path}: {json.dumps(change.old)} -> {json.dumps(change.new)}"
        console.print(Text(line))
