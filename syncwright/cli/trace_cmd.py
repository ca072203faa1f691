"""``syncwright trace CORRELATION_ID``: one business event across every system it touched."""

from __future__ import annotations

from typing import Annotated

import typer

from syncwright.cli._common import ConfigOption, JsonOption, console, emit_json, fail, load_or_exit
from syncwright.cli._tables import Column, print_table
from syncwright.runtime import Runtime
from syncwright.trace import build_trace


def trace(
    correlation_id: Annotated[
        str,
        typer.Argument(
            help="A correlation id (cor_...), an entity key (account:<id>), or any global or "
            "native id (cus_..., a NetSuite internal id)."
        ),
    ],
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show the deliveries, step attempts, native ids and exceptions of one correlation id."""
    settings = load_or_exit(config, as_json=as_json)
    with Runtime(settings) as runtime:
        found = build_trace(runtime, correlation_id)
    if not found["ledger"] and not found["deliveries"]:
        fail(f"nothing recorded under correlation id {correlation_id!r}", as_json=as_json)
    if as_json:
        emit_json(found)
        return
    console.print(f"[bold]trace {correlation_id}[/bold]")
    for delivery in found["deliveries"]:
        console.print(
            f"  received {delivery['event_type']} ({delivery['vendor_event_id']}) on "
            f"{delivery['connection']} at {delivery['received_at']} -> {delivery['status']}"
        )
    columns = (
        Column("at", keep=3),
        Column("workflow", whole=True),
        Column("step", whole=True),
        Column("try", keep=2),
        Column("outcome", keep=4),
        Column("system ids", whole=True),
        Column("detail", keep=1),
    )
    rows = [
        (
            entry["at"][11:23],
            entry["workflow"] or "",
            entry["step"],
            str(entry["attempt"]),
            entry["outcome"],
            " ".join(f"{k}={v}" for k, v in (entry["native_ids"] or {}).items()),
            entry["error_code"] or "",
        )
        for entry in found["ledger"]
    ]
    print_table(console, columns, rows)
    for system, ids in found["systems"].items():
        console.print(f"  {system}: {', '.join(ids)}")
    for record in found["exceptions"]:
        console.print(
            f"  exception {record['id']} [{record['status']}] {record['code']}: "
            f"{record['remediation']}"
        )
