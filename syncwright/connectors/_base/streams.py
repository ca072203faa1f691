"""Declared streams (the singer-sdk way): what a connector can poll, as data, not as code paths.

A connector lists its streams as a class attribute; the poller, the contract suite and the docs
read the declaration, and the connector's :meth:`~Connector.poll` serves exactly those names.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Stream"]


@dataclass(frozen=True)
class Stream:
    """One pollable collection of a vendor's API.

    ``path`` is the endpoint read (relative to ``base_url``); ``primary_key`` the field that
    identifies a record (what dedupes it in the inbox); ``cursor_field`` the field whose last
    value is the cursor a poll resumes from (``None``: the stream re-reads everything).
    """

    name: str
    path: str
    primary_key: str
    cursor_field: str | None = None
    description: str = ""

    def __post_init__(self) -> None:
        if not self.name or not self.name.replace("_", "").isalnum():
            raise ValueError(f"stream name {self.name!r}: use letters, digits and '_'")
        if not self.path.startswith("/"):
            raise ValueError(f"stream {self.name!r}: path must start with '/' (got {self.path!r})")
        if not self.primary_key:
            raise ValueError(f"stream {self.name!r}: primary_key is required")
