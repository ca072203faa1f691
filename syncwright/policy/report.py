"""The ownership report: every change a non-owner made that was not propagated (field, entity,
writer, owner), shared by ``syncwright ownership report`` and ``GET /api/v1/ownership/violations``.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from syncwright._time import utcnow

if TYPE_CHECKING:
    from syncwright.runtime import Runtime

__all__ = ["ownership_report", "parse_since"]

_DURATION = re.compile(r"^(\d+)([smhd])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def parse_since(value: str | None) -> datetime | None:
    """``--since`` / ``?since=``: a duration back from now (``30m``, ``6h``, ``7d``) or an ISO
    8601 date-time with its offset (``2026-12-01T00:00:00Z``)."""
    if value is None or value == "":
        return None
    text = value.strip()
    match = _DURATION.match(text)
    if match:
        return utcnow() - timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise ValueError(
            f"since {value!r} is neither a duration (30m, 6h, 7d) nor an ISO 8601 date-time "
            "with an offset (2026-12-01T00:00:00Z)"
        )
    return moment


def ownership_report(
    runtime: Runtime, *, since: datetime | None = None, limit: int = 1000
) -> dict[str, Any]:
    """Violations newest first, totals per (domain, field, writer, owner), and the effective
    ownership table."""
    found = runtime.policy_store.decisions(kind="ownership", since=since, limit=limit)
    totals = Counter((d.entity_type, d.field or "", d.connection, d.owner or "") for d in found)
    return {
        "since": since.isoformat() if since else None,
        "violations": [d.as_json() for d in found],
        "totals": [
            {"domain": domain, "field": name, "writer": writer, "owner": owner, "count": count}
            for (domain, name, writer, owner), count in totals.most_common()
        ],
        "ownership": runtime.ownership.table(),
    }
