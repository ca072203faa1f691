"""``syncwright replay``: send stored deliveries through again, or show what that would change."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from syncwright.cli._common import (
    ConfigOption,
    JsonOption,
    cli_actor,
    console,
    emit_json,
    fail,
    load_or_exit,
)
from syncwright.engine import EngineClient
from syncwright.replay import (
    CannotReplayFromStep,
    DeliveryPlan,
    Replayed,
    ReplayFilter,
    plan_delivery,
    replay_delivery,
    replay_from_step,
    select_deliveries,
)
from syncwright.runtime import Runtime


def _when(value: str | None, option: str, as_json: bool) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        fail(
            f"{option}: {value!r} is not an ISO date or time, e.g. 2026-12-01T00:00Z",
            as_json=as_json,
        )
    return parsed if parsed.tzinfo else parsed.astimezone()


def replay(
    inbox_id: Annotated[int | None, typer.Option("--inbox-id", help="One delivery.")] = None,
    correlation_id: Annotated[
        str | None, typer.Option("--correlation-id", help="One business event.")
    ] = None,
    connection: Annotated[str | None, typer.Option(help="Deliveries of one connection.")] = None,
    event_type: Annotated[
        str | None, typer.Option("--event-type", help="Vendor event type.")
    ] = None,
    status: Annotated[
        str | None, typer.Option(help="Inbox status: dispatched, parked, resolved, skipped.")
    ] = None,
    entity: Annotated[
        str | None, typer.Option(help="Deliveries that touched an entity, e.g. account:acc_...")
    ] = None,
    since: Annotated[str | None, typer.Option(help="Received at or after (ISO time).")] = None,
    until: Annotated[str | None, typer.Option(help="Received before (ISO time).")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 1000,
    from_step: Annotated[
        str | None,
        typer.Option(
            "--from-step",
            help="Run each finished workflow again from this step (e.g. erp.upsert_invoice); "
            "earlier steps keep their results.",
        ),
    ] = None,
    mapping: Annotated[
        str | None,
        typer.Option(
            "--mapping",
            help="Normalize with this mapping version (NAME@VERSION, configured or shipped) "
            "instead of the connection's own.",
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would change, send nothing.")
    ] = False,
    yes: Annotated[bool, typer.Option("--yes", help="Replay more than one delivery.")] = False,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Replay stored deliveries from the start (or --from-step), under the current mapping
    (or --mapping NAME@VERSION).

    Each replay gets a new correlation id, linked both ways in the ledger (see `syncwright
    trace`). --dry-run prints, per delivery and canonical field, what processing it again would
    hand to the workflows compared with last time, and sends nothing."""
    settings = load_or_exit(config, as_json=as_json)
    wanted = ReplayFilter(
        inbox_id=inbox_id,
        correlation_id=correlation_id,
        connection=connection,
        event_type=event_type,
        status=status,
        entity_key=entity,
        since=_when(since, "--since", as_json),
        until=_when(until, "--until", as_json),
        limit=limit,
    )
    if wanted.is_empty():
        fail(
            "say what to replay: --inbox-id, --correlation-id, --connection, --event-type, "
            "--status, --entity, --since or --until",
            as_json=as_json,
            code=2,
        )
    if mapping is not None and from_step is not None:
        fail(
            "--mapping and --from-step do not combine: a replay from a step keeps the events "
            "its runs were started with",
            as_json=as_json,
            code=2,
        )
    with Runtime(settings) as runtime:
        try:
            compiled = runtime.mappings.version(mapping) if mapping is not None else None
        except LookupError as exc:
            fail(str(exc), as_json=as_json)
        rows = select_deliveries(runtime.db, wanted)
        if not rows:
            fail(f"no delivery matches {wanted.as_json()}", as_json=as_json)
        if dry_run:
            engine = EngineClient(runtime.db)
            try:
                plans = _each(
                    rows,
                    "planning",
                    as_json,
                    lambda row: plan_delivery(runtime, engine, row, mapping=compiled),
                )
            finally:
                engine.close()
            _print_plans(plans, as_json)
            return
        if len(rows) > 1 and not yes:
            fail(
                f"{len(rows)} deliveries match; add --yes to replay them all (or --dry-run first)",
                as_json=as_json,
            )
        actor = cli_actor()
        if from_step is None:
            done = _each(
                rows,
                "replaying",
                as_json,
                lambda row: replay_delivery(runtime, row, actor=actor, mapping=mapping),
            )
        else:
            engine = EngineClient(runtime.db)
            try:
                done = _each(
                    rows,
                    "replaying",
                    as_json,
                    lambda row: replay_from_step(runtime, engine, row, from_step, actor=actor),
                )
            except CannotReplayFromStep as exc:
                fail(str(exc), as_json=as_json)
            finally:
                engine.close()
    _print_replayed(done, as_json)


def _each(rows: list[Any], what: str, as_json: bool, act: Any) -> list[Any]:
    if as_json or len(rows) == 1:
        return [act(row) for row in rows]
    results = []
    with Progress(
        TextColumn(what), BarColumn(), MofNCompleteColumn(), console=console, transient=True
    ) as bar:
        task = bar.add_task(what, total=len(rows))
        for row in rows:
            results.append(act(row))
            bar.advance(task)
    return results


def _print_plans(plans: list[DeliveryPlan], as_json: bool) -> None:
    if as_json:
        emit_json({"ok": True, "dry_run": True, "deliveries": [p.as_json() for p in plans]})
        return
    changed = [p for p in plans if p.changed or p.error]
    console.print(f"{len(plans)} deliveries; {len(changed)} would change what the workflows get")
    for plan in changed:
        console.print(
            f"[bold]inbox {plan.inbox_id}[/bold] {plan.connection} {plan.event_type} "
            f"({plan.correlation_id})" + (f" under {plan.mapping}" if plan.mapping else "")
        )
        if plan.error:
            console.print(f"  [red]would fail:[/red] {plan.error}")
        for event in plan.events:
            if not event.workflows:
                continue
            if not event.previous:
                console.print(
                    f"  + new event {event.type} -> {', '.join(event.workflows) or 'no workflow'}"
                )
                continue
            for change in event.changes:
                console.print(
                    f"  ~ {event.type} {change.path}: {change.before!r} -> {change.after!r}"
                )
        for dropped in plan.dropped:
            console.print(f"  - no longer emits {dropped}")


def _print_replayed(done: list[Replayed], as_json: bool) -> None:
    if as_json:
        emit_json({"ok": True, "replayed": [r.as_json() for r in done]})
        return
    for item in done:
        console.print(
            f"inbox {item.inbox_id} ({item.correlation_id}) -> inbox {item.new_inbox_id} "
            f"({item.new_correlation_id})"
        )
    console.print(f"{len(done)} replayed; `syncwright trace <new correlation id>` follows each")
