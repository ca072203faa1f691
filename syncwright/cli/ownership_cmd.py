"""``syncwright ownership report``: changes from connections that do not own the field."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from syncwright.cli._common import ConfigOption, JsonOption, console, emit_json, fail, load_or_exit
from syncwright.policy.report import ownership_report, parse_since
from syncwright.runtime import Runtime

app = typer.Typer(help="Who owns which data, and who changed what they do not own.")


@app.command("report")
def report(
    since: Annotated[
        str | None,
        typer.Option(
            "--since", help="Only violations since: a duration (30m, 6h, 7d) or ISO date-time."
        ),
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="At most this many rows.")] = 1000,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """List ownership violations: field, entity, the connection that wrote it and the owner.
    Such changes were not propagated."""
    try:
        moment = parse_since(since)
    except ValueError as exc:
        fail(str(exc), as_json=as_json, code=2)
    settings = load_or_exit(config, as_json=as_json)
    with Runtime(settings) as runtime:
        found = ownership_report(runtime, since=moment, limit=limit)
    if as_json:
        emit_json(found)
        return
    violations = found["violations"]
    if not violations:
        console.print("no ownership violations" + (f" since {found['since']}" if since else ""))
        return
    table = Table("at", "field", "entity", "writer", "owner", "event")
    for row in violations:
        table.add_row(
            str(row["at"])[:19],
            f"{row['entity_type']}.{row['field']}",
            row["global_id"],
            row["writer"],
            row["owner"] or "",
            row["event_type"],
        )
    console.print(table)
    console.print(f"{len(violations)} change(s) from non-owners were not propagated")
