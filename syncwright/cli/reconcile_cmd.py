"""``syncwright reconcile``: compare systems now, and read past runs and their drift."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn
from rich.table import Table

from syncwright.cli._common import ConfigOption, JsonOption, console, emit_json, fail, load_or_exit
from syncwright.errors import ConfigError
from syncwright.reconcile import Reconciler, RunResult, UnknownRule
from syncwright.runtime import Runtime

app = typer.Typer(
    help="Compare systems record by record; report (and heal) drift.",
    add_completion=False,
    invoke_without_command=True,
)

#: Exit code when a run found drift (0: clean, 1: failed or bad input).
DRIFT_EXIT = 3


@app.callback()
def reconcile(
    ctx: typer.Context,
    rule: Annotated[
        list[str] | None,
        typer.Option("--rule", "-r", help="Rule to run (repeatable; default all)."),
    ] = None,
    heal: Annotated[
        bool | None,
        typer.Option("--heal/--no-heal", help="Override the rule's heal setting."),
    ] = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Run reconciliation rules now (all configured ones unless --rule names some).

    Exits 0 when every run is clean, 3 when drift was found, 1 when a run failed."""
    if ctx.invoked_subcommand is not None:
        return
    settings = load_or_exit(config, as_json=as_json)
    names = rule or [r.name for r in settings.reconciliation]
    if not names:
        fail("no reconciliation rules are configured (see docs/reconciliation.md)", as_json=as_json)
    results: list[RunResult] = []
    with Runtime(settings) as runtime:
        reconciler = Reconciler(runtime)
        try:
            for name in names:
                results.append(_run_one(reconciler, name, heal, as_json))
        except (UnknownRule, ConfigError) as exc:
            fail(str(exc), as_json=as_json)
    if as_json:
        emit_json(
            {"ok": all(r.status != "failed" for r in results), "runs": [_json(r) for r in results]}
        )
    else:
        for result in results:
            _print_report(result.run_id, result.status, result.report)
    if any(r.status == "failed" for r in results):
        raise typer.Exit(1)
    if any(r.drift_count for r in results):
        raise typer.Exit(DRIFT_EXIT)


def _run_one(reconciler: Reconciler, name: str, heal: bool | None, as_json: bool) -> RunResult:
    if as_json:
        result = reconciler.run(name, heal=heal)
    else:
        with Progress(
            SpinnerColumn(), TextColumn("{task.description}"), console=console, transient=True
        ) as bar:
            task = bar.add_task(f"{name}: reading", total=None)

            def progress(side: str, count: int) -> None:
                bar.update(task, description=f"{name}: {count} {side} records read")

            result = reconciler.run(name, heal=heal, progress=progress)
    assert result is not None  # an on-demand run always gets its own id
    return result


def _json(result: RunResult) -> dict[str, Any]:
    return {
        "id": result.run_id,
        "rule": result.rule,
        "status": result.status,
        "report": result.report,
    }


def _print_report(run_id: str, status: str, report: dict[str, Any]) -> None:
    style = {"clean": "green", "drift": "yellow", "failed": "red"}.get(status, "")
    console.print(
        f"[bold]{report.get('rule', '?')}[/bold]  run {run_id}  [{style}]{status}[/{style}]"
    )
    if "error" in report:
        console.print(f"  {report['error']['message']}")
        return
    counts = report["counts"]
    console.print(
        f"  {report['source']} {counts['source']} records, {report['target']} "
        f"{counts['target']}; missing {counts['missing']}, extra {counts['extra']}, "
        f"different {counts['different']}, healed {counts['healed']}"
    )
    if report["drift"]:
        table = Table("kind", "key", report["source"], report["target"], "fields", "healed")
        for drift in report["drift"]:
            fields = "; ".join(
                f"{f['field']}: {f['source']} != {f['target']}" for f in drift["fields"]
            )
            table.add_row(
                drift["kind"],
                drift["key"],
                drift["source_id"] or "",
                drift["target_id"] or "",
                fields,
                str(len(drift["healed"])) if drift["healed"] else "",
            )
        console.print(table)
    if report["totals"]:
        totals = Table("currency", "period", "source", "target", "difference")
        for total in report["totals"]:
            totals.add_row(
                total["currency"],
                total["period"],
                f"{total['source_count']} / {total['source_amount']}",
                f"{total['target_count']} / {total['target_amount']}",
                str(total["difference"]),
            )
        console.print(totals)


@app.command("runs")
def runs(
    rule: Annotated[str | None, typer.Option(help="Only this rule's runs.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 20,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Past runs, newest first."""
    settings = load_or_exit(config, as_json=as_json)
    with Runtime(settings) as runtime:
        records = Reconciler(runtime).runs.list(rule=rule, limit=limit)
    if as_json:
        emit_json([r.as_json() for r in records])
        return
    table = Table("id", "rule", "started", "status", "drift")
    for r in records:
        table.add_row(
            r.id, r.rule, r.started_at.isoformat(timespec="seconds"), r.status, str(r.drift_count)
        )
    console.print(table)


@app.command("show")
def show(
    run_id: Annotated[str, typer.Argument(help="A run id from `syncwright reconcile runs`.")],
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """One run with its drift and totals."""
    settings = load_or_exit(config, as_json=as_json)
    with Runtime(settings) as runtime:
        record = Reconciler(runtime).runs.get(run_id)
    if record is None:
        fail(f"no reconciliation run {run_id!r}", as_json=as_json)
    if as_json:
        emit_json(record.as_json())
        return
    _print_report(record.id, record.status, record.report or {"rule": record.rule})
