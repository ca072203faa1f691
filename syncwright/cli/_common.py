"""Options and helpers every command shares: ``--config PATH`` and ``--json``."""

from __future__ import annotations

import getpass
import json
import os
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console

from syncwright.config import DEFAULT_CONFIG_PATH, Settings, load_settings
from syncwright.errors import ConfigError

ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config",
        "-c",
        help="Config file (default: ./syncwright.yaml; when absent, the defaults apply).",
        show_default=False,
        dir_okay=False,
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Machine-readable JSON output.")]

console = Console(soft_wrap=True, highlight=False)
# Messages carry user text ("[stripe, netsuite]"); markup off keeps rich from eating brackets.
err_console = Console(stderr=True, soft_wrap=True, highlight=False, markup=False)


def emit_json(payload: Any) -> None:
    typer.echo(json.dumps(payload, ensure_ascii=False, default=str))


def fail(message: str, *, as_json: bool, code: int = 1, **extra: Any) -> NoReturn:
    if as_json:
        emit_json({"ok": False, "error": message, **extra})
    else:
        err_console.print(f"error: {message}", style="red")
    raise typer.Exit(code)


def load_or_exit(path: Path | None, *, as_json: bool) -> Settings:
    """Load the config; on problems print every one (never a secret value) and exit 1."""
    chosen = path if path is not None else DEFAULT_CONFIG_PATH
    try:
        if path is not None and not path.exists():
            raise ConfigError(f"{path}: no such file", problems=[f"{path}: no such file"])
        return load_settings(chosen)
    except ConfigError as exc:
        if as_json:
            emit_json({"ok": False, "config": str(chosen), "problems": exc.problems})
        else:
            err_console.print(f"{chosen}: configuration is invalid", style="red")
            for problem in exc.problems or [exc.message]:
                err_console.print(f"  - {problem}")
        raise typer.Exit(1) from exc


def cli_actor() -> str:
    """Who acts from the command line, as recorded in the ledger and audit: ``cli:<os user>``."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no login name and no passwd entry (some containers)
        user = f"uid{os.getuid()}" if hasattr(os, "getuid") else "unknown"
    return f"cli:{user}"
