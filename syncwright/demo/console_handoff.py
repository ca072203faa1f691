"""``syncwright demo --console``: after the scenario, leave everything running -- emulators,
engine, API and console -- on the demo's data, print where to sign in, and wait for Ctrl-C."""

from __future__ import annotations

import threading

from rich.console import Console

from syncwright.demo.billing_world import BillingWorld, demo_token


def hold_console(
    world: BillingWorld, console: Console, stop: threading.Event | None = None
) -> None:
    """Print the console's URL and the demo's tokens, then block until Ctrl-C (or ``stop``)."""
    assert world.api is not None, "the demo's API is not running"
    url = f"{world.api.url}/"
    operator = demo_token(world.workdir, "demo-operator")
    viewer = demo_token(world.workdir, "demo-viewer")
    console.print("\n[bold]Console[/bold] (the demo keeps running on its data)")
    console.print(f"  open {url}")
    console.print(f"  sign in as an operator with the token {operator}")
    console.print(f"  or as a viewer (read-only) with {viewer}")
    console.print("  press Ctrl-C to stop")
    waiting = stop or threading.Event()
    try:
        while not waiting.wait(0.5):
            pass
    except KeyboardInterrupt:
        console.print("\n  stopping the demo ...")
