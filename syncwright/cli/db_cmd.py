"""``syncwright db upgrade``: create or migrate syncwright's tables."""

from __future__ import annotations

import typer

from syncwright.cli._common import ConfigOption, JsonOption, console, emit_json, load_or_exit
from syncwright.store import Database

app = typer.Typer(help="Database schema commands.", no_args_is_help=True, add_completion=False)


@app.command()
def upgrade(config: ConfigOption = None, as_json: JsonOption = False) -> None:
    """Bring the database to the newest schema (safe to run again)."""
    settings = load_or_exit(config, as_json=as_json)
    db = Database(settings.database.url_with_password())
    try:
        db.upgrade()
        revision = db.current_revision()
    finally:
        db.dispose()
    if as_json:
        emit_json({"ok": True, "revision": revision})
    else:
        console.print(f"database schema at revision [bold]{revision}[/bold]")
