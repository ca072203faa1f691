"""``syncwright config validate|schema|diff``: check, describe and compare ``syncwright.yaml``.

Exit codes: 0 when the config (or both configs, for ``diff``) is valid, 1 when there are
problems, 2 for a usage error. With ``--json`` the output is one JSON object on stdout:
``{"ok": false, "config": "...", "problems": ["connections.stripe.base_url: ...", ...]}``.
Secret values are never printed, only ``**********`` and where they are read from.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.text import Text

from syncwright.config import (
    DEFAULT_CONFIG_PATH,
    Settings,
    diff_settings,
    load_settings,
    settings_json_schema,
)
from syncwright.errors import ConfigError
from syncwright.mapping import load_mapping_set
from syncwright.runtime_limits import unknown_workflow_problems

__all__ = ["app"]

app = typer.Typer(
    name="config",
    help="Check, describe and compare the configuration (syncwright.yaml).",
    no_args_is_help=True,
    add_completion=False,
)

ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config",
        "-c",
        help="Config file (default: ./syncwright.yaml; when that file is absent, the defaults "
        "apply).",
        show_default=False,
        dir_okay=False,
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Machine-readable JSON output.")]


def _console() -> Console:
    # soft_wrap: long problem lines stay one line each (greppable, copyable).
    return Console(soft_wrap=True, highlight=False)


def _emit_json(payload: dict[str, Any]) -> None:
    typer.echo(json.dumps(payload, ensure_ascii=False))


def _load(path: Path | None) -> tuple[Path, Settings]:
    """Load ``path`` (default ./syncwright.yaml). An explicitly named file must exist."""
    chosen = path if path is not None else DEFAULT_CONFIG_PATH
    if path is not None and not path.exists():
        problem = f"{path}: no such file (omit --config to use ./syncwright.yaml or the defaults)"
        raise ConfigError(problem, problems=[problem])
    return chosen, load_settings(chosen)


def _fail(config: str, error: ConfigError, *, as_json: bool, name_file: bool = False) -> NoReturn:
    """Report ``error``; ``name_file`` prefixes each problem with the file (when two are read)."""
    problems = error.problems or [error.message]
    if name_file:
        problems = [p if p.startswith(f"{config}:") else f"{config}: {p}" for p in problems]
    if as_json:
        _emit_json({"ok": False, "config": config, "code": error.code, "problems": problems})
    else:
        console = _console()
        count = f"{len(problems)} problem" + ("s" if len(problems) != 1 else "")
        console.print(Text(f"✗ {config}: {count}", style="bold red"))
        for problem in problems:
            line = Text("  • ", style="red")
            line.append(problem)
            console.print(line)
    raise typer.Exit(code=1)


def _summary(settings: Settings) -> dict[str, Any]:
    return {
        "connections": sorted(settings.connections),
        "mappings": len(settings.mappings),
        "workflows": sorted(settings.workflows),
        "reconciliation_rules": len(settings.reconciliation),
        "database": settings.database.url,
        "limits_scope": {name: conn.limits.scope for name, conn in settings.connections.items()},
    }


def _limits_line(settings: Settings) -> str:
    """Which connections' limits hold per process and which are shared through the database."""
    by_scope: dict[str, list[str]] = {"process": [], "shared": []}
    for name, conn in sorted(settings.connections.items()):
        by_scope[conn.limits.scope].append(name)
    return (
        f"  limits per process: {', '.join(by_scope['process']) or 'none'}; "
        f"shared by all processes (database): {', '.join(by_scope['shared']) or 'none'}"
    )


@app.command()
def validate(config: ConfigOption = None, as_json: JsonOption = False) -> None:
    """Check the config file and report every problem at once (exit 1 if any)."""
    shown = str(config if config is not None else DEFAULT_CONFIG_PATH)
    try:
        path, settings = _load(config)
        unknown = unknown_workflow_problems(settings)
        if unknown:
            raise ConfigError("; ".join(unknown), problems=unknown)
        load_mapping_set(settings)  # an invalid mapping file is a config problem too
    except ConfigError as error:
        _fail(shown, error, as_json=as_json)
    defaults = not path.exists()
    if as_json:
        _emit_json(
            {
                "ok": True,
                "config": shown,
                "defaults": defaults,
                "problems": [],
                "summary": _summary(settings),
            }
        )
        return
    console = _console()
    if defaults:
        console.print(
            Text(f"✓ no {shown} found; the defaults apply ({settings.database.url})", "green")
        )
        return
    names = ", ".join(sorted(settings.connections)) or "none"
    console.print(Text(f"✓ {shown} is valid", style="bold green"))
    console.print(Text(f"  connections: {names}"))
    console.print(
        Text(
            f"  mappings: {len(settings.mappings)}, workflows configured: "
            f"{len(settings.workflows)}, reconciliation rules: {len(settings.reconciliation)}"
        )
    )
    console.print(Text(_limits_line(settings)))


@app.command()
def schema(
    config: ConfigOption = None,
    as_json: JsonOption = False,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write the schema to this file instead of stdout."),
    ] = None,
) -> None:
    """Print the JSON Schema of syncwright.yaml (for editor completion and validation).

    --config is accepted for uniformity and not read; --json prints the schema on one line.
    """
    del config  # the schema does not depend on any config file
    text = json.dumps(settings_json_schema(), indent=None if as_json else 2, ensure_ascii=False)
    if output is None:
        typer.echo(text)
        return
    output.write_text(text + "\n", encoding="utf-8")
    if as_json:
        _emit_json({"ok": True, "output": str(output)})
    else:
        _console().print(Text(f"✓ wrote {output}", style="green"))


@app.command()
def diff(
    other_path: Annotated[
        Path,
        typer.Argument(metavar="OTHER_PATH", help="The config to compare against.", dir_okay=False),
    ],
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show what changes from --config to OTHER_PATH (secrets compared, shown masked)."""
    shown = str(config if config is not None else DEFAULT_CONFIG_PATH)
    try:
        _, before = _load(config)
    except ConfigError as error:
        _fail(shown, error, as_json=as_json, name_file=True)
    try:
        _, after = _load(other_path)
    except ConfigError as error:
        _fail(str(other_path), error, as_json=as_json, name_file=True)
    changes = diff_settings(before, after)
    if as_json:
        _emit_json({"ok": True, "from": shown, "to": str(other_path), "changes": changes})
        return
    console = _console()
    if not changes:
        console.print(Text(f"no changes between {shown} and {other_path}", style="green"))
        return
    count = f"{len(changes)} change" + ("s" if len(changes) != 1 else "")
    console.print(Text(f"{count} from {shown} to {other_path}:", style="bold"))
    for change in changes:
        line = Text("  ~ ", style="yellow")
        line.append(change)
        console.print(line)
