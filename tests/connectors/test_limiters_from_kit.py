"""Every connector gets its limiters from the kit (``Connector.limiters``), so that
``limits.scope: shared`` reaches all of them; none builds its own."""

from __future__ import annotations

import re
from pathlib import Path

import syncwright.connectors

CONNECTORS = Path(syncwright.connectors.__file__).parent
OWN_LIMITER = re.compile(r"\b(ConcurrencyLimiter|RateLimiter)\(")


def test_no_connector_constructs_its_own_limiter() -> None:
    sources = [p for p in CONNECTORS.rglob("*.py") if "_base" not in p.parts]
    assert len(sources) > 20  # the built-in connectors are really there
    offenders = [
        f"{path.relative_to(CONNECTORS)}:{n}"
        for path in sources
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if OWN_LIMITER.search(line)
    ]
    assert offenders == [], "use Connector.limiters() instead"


def test_every_connector_with_limits_asks_the_kit() -> None:
    asking = {
        path.parent.name
        for path in CONNECTORS.glob("*/connector.py")
        if "self.limiters(" in path.read_text()
    }
    assert asking >= {
        "business_central",
        "example",
        "freshdesk",
        "hubspot",
        "netsuite",
        "salesforce",
        "stripe",
        "zendesk",
    }
