"""The ``syncwright`` command (typer + rich). Every command takes ``--config`` and ``--json``."""

from __future__ import annotations

import typer

from syncwright.cli import (
    audit_cmd,
    config_cmd,
    db_cmd,
    demo_cmd,
    exceptions_cmd,
    reconcile_cmd,
    replay_cmd,
    run_cmd,
    trace_cmd,
)

app = typer.Typer(
    name="syncwright",
    help="Keeps CRM, support desk, subscription billing and ERP in step.",
    no_args_is_help=True,
    add_completion=False,
)
app.add_typer(config_cmd.app, name="config")
app.add_typer(exceptions_cmd.app, name="exceptions")
app.add_typer(db_cmd.app, name="db")
app.add_typer(reconcile_cmd.app, name="reconcile")
app.command("serve")(run_cmd.serve)
app.command("worker")(run_cmd.worker)
app.command("trace")(trace_cmd.trace)
app.command("replay")(replay_cmd.replay)
app.command("demo")(demo_cmd.demo)
app.add_typer(audit_cmd.app, name="audit")


def main() -> None:
    app()


__all__ = ["app", "main"]
