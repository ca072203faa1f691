"""Identifiers: ULIDs sort by creation time, which keeps listings and queues in arrival order."""

from __future__ import annotations

from ulid import ULID


def new_id(prefix: str = "") -> str:
    return f"{prefix}{ULID()}".lower() if prefix else str(ULID()).lower()


def new_correlation_id() -> str:
    return new_id("cor_")
