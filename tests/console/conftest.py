"""One short quote-to-cash run per console test module: four emulators, the engine, the
API and console on 127.0.0.1, three deals onboarded and two parked on validation (a test
that retries one leaves the other open for the rest)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from syncwright.demo.billing_world import demo_token
from syncwright.demo.quote_to_cash import (
    Deal,
    QuoteToCashWorld,
    close_deals,
    start_quote_to_cash_world,
    wait_onboarded,
)


@dataclass
class ConsoleWorld:
    world: QuoteToCashWorld
    url: str
    operator_token: str
    viewer_token: str
    deals: list[Deal]
    parked_deals: list[Deal]


# Module scope: the engine is one per process, so the run must end before any other test starts
# one. (tests/console is a directory, not a package: a "package" fixture here lived on to the
# end of the session and overlapped every later test of the same xdist worker.)
@pytest.fixture(scope="module")
def console_world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConsoleWorld]:
    workdir: Path = tmp_path_factory.mktemp("console-demo")
    world = start_quote_to_cash_world(workdir)
    try:
        world.billing.start_syncwright()
        deals = close_deals(world, 3)
        deals += close_deals(world, 2, country="BR", start=3)
        wait_onboarded(world, deals)
        api = world.billing.api
        assert api is not None
        yield ConsoleWorld(
            world=world,
            url=api.url,
            operator_token=demo_token(workdir, "demo-operator"),
            viewer_token=demo_token(workdir, "demo-viewer"),
            deals=deals,
            parked_deals=deals[3:],
        )
    finally:
        world.close()
