"""How one audit entry is hashed: canonical JSON of every field, linked to the previous hash.

The canonical form is JSON with sorted keys, no whitespace, and the time as UTC to the
microsecond (``2026-12-03T12:35:22.123456Z``), so the same entry hashes the same on SQLite and
PostgreSQL. With a key (``audit.key``) the hash is HMAC-SHA256, so someone who can write to the
database but does not hold the key cannot recompute a chain they have changed.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

GENESIS = "0" * 64

# Every stored column except the row id (storage order, not content) and the hash itself.
CHAIN_FIELDS = (
    "seq",
    "at",
    "kind",
    "actor",
    "correlation_id",
    "workflow_id",
    "step",
    "connection",
    "action",
    "native_id",
    "amount_minor",
    "currency",
    "payload_digest",
    "detail",
    "keyed",
    "prev_hash",
)


def canonical_time(value: datetime) -> str:
    moment = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical(row: Mapping[str, Any]) -> bytes:
    """The bytes an entry's hash covers: every field of ``CHAIN_FIELDS``."""
    content = {name: row.get(name) for name in CHAIN_FIELDS}
    content["at"] = canonical_time(row["at"])
    content["keyed"] = bool(row.get("keyed"))
    return json.dumps(
        content, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    ).encode()


def entry_hash(row: Mapping[str, Any], key: bytes | None) -> str:
    """SHA-256 of the canonical entry, or HMAC-SHA256 with ``key``."""
    data = canonical(row)
    if key is None:
        return hashlib.sha256(data).hexdigest()
    return hmac.new(key, data, hashlib.sha256).hexdigest()
