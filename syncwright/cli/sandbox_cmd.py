"""``syncwright sandbox up``: run the emulators a config names, with a config pointed at them."""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer

from syncwright.cli._common import ConfigOption, JsonOption, console, emit_json, fail
from syncwright.config import DEFAULT_CONFIG_PATH
from syncwright.errors import ConfigError
from syncwright.sandbox.up import start_sandbox

app = typer.Typer(help="Vendor emulators on 127.0.0.1, to try an integration offline.")


@app.command("up")
def up(
    config: ConfigOption = None,
    out: Annotated[
        Path,
        typer.Option(
            "--out",
            help="Where to write the config pointed at the emulators (its env file is written "
            "beside it, same name with .env).",
            dir_okay=False,
        ),
    ] = Path("syncwright.sandbox.yaml"),
    as_json: JsonOption = False,
) -> None:
    """Start the emulators CONFIG's connections name; run until Ctrl-C."""
    source = config if config is not None else DEFAULT_CONFIG_PATH
    if config is not None and not config.exists():
        fail(f"{config}: no such file", as_json=as_json)
    try:
        sandbox = start_sandbox(source, out)
    except ConfigError as exc:
        fail(exc.message, as_json=as_json, problems=exc.problems)
    stop = threading.Event()

    def _stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    try:
        if as_json:
            emit_json(
                {
                    "ok": True,
                    "emulators": {
                        c.connection: {"vendor": c.vendor, "url": c.url, "webhook": c.webhook_url}
                        for c in sandbox.connections
                    },
                    "not_emulated": sandbox.not_emulated,
                    "config": str(sandbox.config_path),
                    "env_file": str(sandbox.env_path),
                }
            )
        else:
            for c in sandbox.connections:
                console.print(f"{c.connection} ({c.vendor}): {c.url}")
                if c.webhook_url:
                    console.print(f"  sends its webhooks to {c.webhook_url}")
            for name, vendor in sandbox.not_emulated.items():
                console.print(f"{name} ({vendor}): no emulator for this vendor; left as it was")
            console.print(f"config: {sandbox.config_path}")
            console.print(f"credentials: {sandbox.env_path} (test values; never printed)")
            console.print(
                f"next: source {sandbox.env_path} && syncwright serve --config "
                f"{sandbox.config_path}"
            )
            console.print("emulators running; Ctrl-C stops them", style="green")
        while not stop.wait(0.5):
            pass
    finally:
        sandbox.stop()
