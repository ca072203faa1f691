"""Pagination, the three ways vendors page a list.

- cursor: each page names the next (Stripe's ``starting_after``, Zendesk's cursor pagination,
  Salesforce's ``nextRecordsUrl``): :func:`paginate_cursor`.
- offset: ``offset``/``limit`` until a short page (NetSuite's record lists, SuiteQL):
  :func:`paginate_offset`.
- link: an RFC 8288 ``Link: <...>; rel="next"`` header (GitHub, HubSpot v1): :func:`next_link`
  and :func:`paginate_links`.

Each yields records one by one and reads the next page only when the caller wants more. A vendor
that hands back a cursor it already gave (a loop that would never end) is an error.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import TypeVar

import httpx

from syncwright.errors import SyncwrightError

__all__ = ["PaginationError", "next_link", "paginate_cursor", "paginate_links", "paginate_offset"]

T = TypeVar("T")


class PaginationError(SyncwrightError):
    default_code = "pagination.loop"


def paginate_cursor(
    fetch: Callable[[str | None], tuple[Sequence[T], str | None]], *, start: str | None = None
) -> Iterator[T]:
    """``fetch(cursor) -> (records, next cursor or None)``, from ``start`` until no next."""
    seen: set[str] = set()
    cursor = start
    while True:
        records, following = fetch(cursor)
        yield from records
        if following is None or following == "":
            return
        if following in seen:
            raise PaginationError(f"the vendor returned cursor {following!r} twice")
        seen.add(following)
        cursor = following


def paginate_offset(
    fetch: Callable[[int, int], Sequence[T]], *, page_size: int, start: int = 0
) -> Iterator[T]:
    """``fetch(offset, limit) -> records``; stops after a page shorter than ``page_size``."""
    if page_size < 1:
        raise ValueError("page_size must be at least 1")
    offset = start
    while True:
        records = fetch(offset, page_size)
        yield from records
        if len(records) < page_size:
            return
        offset += len(records)


def next_link(response: httpx.Response) -> str | None:
    """The URL of the ``rel="next"`` entry of the ``Link`` header, or None."""
    link = response.links.get("next")
    url = link.get("url") if link else None
    return url or None


def paginate_links(
    get: Callable[[str], httpx.Response],
    url: str,
    records: Callable[[httpx.Response], Sequence[T]],
) -> Iterator[T]:
    """``get(url)`` page after page, following ``Link: rel="next"``; ``records`` reads a page."""

    def fetch(cursor: str | None) -> tuple[Sequence[T], str | None]:
        response = get(cursor or url)
        return records(response), next_link(response)

    yield from paginate_cursor(fetch)
