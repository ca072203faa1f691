"""Zendesk's two pagination styles (https://developer.zendesk.com/api-reference/introduction/pagination/).

- Cursor: ``page[size]`` (max 100), ``page[after]`` / ``page[before]``; the answer carries
  ``meta: {has_more, after_cursor, before_cursor}`` and ``links: {next, prev}``. zenpy asks for it
  (``page[size]=100``) on the collections that support it and follows ``links.next``.
- Offset: ``page`` and ``per_page`` (max 100); the answer carries ``next_page``,
  ``previous_page`` (full URLs) and ``count``.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.parse import urlencode

from syncwright.sandbox.zendesk._errors import bad_request

MAX_PAGE_SIZE = 100
CURSOR_PARAMS = ("page[size]", "page[after]", "page[before]")


def _encode_cursor(value: int | str) -> str:
    raw = json.dumps({"o": "id", "v": value}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode()


def _decode_cursor(cursor: str) -> int | str:
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        value = data["v"]
    except (ValueError, KeyError, TypeError) as exc:
        raise bad_request("page[after]/page[before] is not a valid cursor") from exc
    if not isinstance(value, int | str):
        raise bad_request("page[after]/page[before] is not a valid cursor")
    return value


def _check_bound(bound: int | str, sample: object) -> None:
    if sample is not None and type(bound) is not type(sample):
        raise bad_request("page[after]/page[before] is not a valid cursor")


def _int_param(params: Mapping[str, str], name: str, default: int) -> int:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise bad_request(f"{name} must be an integer") from exc
    if value < 1:
        raise bad_request(f"{name} must be positive")
    return value


def _url(base: str, params: Mapping[str, str], **changes: str | None) -> str:
    merged = {k: v for k, v in params.items() if k not in changes}
    merged.update({k: v for k, v in changes.items() if v is not None})
    query = urlencode(merged)
    return f"{base}?{query}" if query else base


def paginate(
    items: Sequence[dict[str, Any]],
    *,
    key: str,
    params: Mapping[str, str],
    url: str,
    render: Callable[[dict[str, Any]], dict[str, Any]],
    sort_key: str = "id",
    force_cursor: bool = False,
) -> dict[str, Any]:
    """One page of ``items`` under ``key``, in the style the request asked for.

    ``url`` is the collection's URL without query; other query parameters (filters) are kept
    in the next/previous links.
    """
    ordered = sorted(items, key=lambda item: item[sort_key])
    if force_cursor or any(name in params for name in CURSOR_PARAMS):
        return _cursor_page(ordered, key=key, params=params, url=url, render=render, sk=sort_key)
    page = _int_param(params, "page", 1)
    per_page = min(_int_param(params, "per_page", MAX_PAGE_SIZE), MAX_PAGE_SIZE)
    start = (page - 1) * per_page
    chunk = ordered[start : start + per_page]
    has_next = start + per_page < len(ordered)
    return {
        key: [render(item) for item in chunk],
        "next_page": _url(url, params, page=str(page + 1), per_page=str(per_page))
        if has_next
        else None,
        "previous_page": _url(url, params, page=str(page - 1), per_page=str(per_page))
        if page > 1
        else None,
        "count": len(ordered),
    }


def _cursor_page(
    ordered: Sequence[dict[str, Any]],
    *,
    key: str,
    params: Mapping[str, str],
    url: str,
    render: Callable[[dict[str, Any]], dict[str, Any]],
    sk: str,
) -> dict[str, Any]:
    size = min(_int_param(params, "page[size]", MAX_PAGE_SIZE), MAX_PAGE_SIZE)
    after = params.get("page[after]")
    before = params.get("page[before]")
    sample = ordered[0][sk] if ordered else None
    if after:
        bound = _decode_cursor(after)
        _check_bound(bound, sample)
        rest = [item for item in ordered if item[sk] > bound]
        chunk, has_more = rest[:size], len(rest) > size
    elif before:
        bound = _decode_cursor(before)
        _check_bound(bound, sample)
        rest = [item for item in ordered if item[sk] < bound]
        chunk, has_more = rest[-size:], len(rest) > size
    else:
        chunk, has_more = list(ordered[:size]), len(ordered) > size
    after_cursor = _encode_cursor(chunk[-1][sk]) if chunk else None
    before_cursor = _encode_cursor(chunk[0][sk]) if chunk else None
    base = {k: v for k, v in params.items() if k not in CURSOR_PARAMS}
    base["page[size]"] = str(size)
    return {
        key: [render(item) for item in chunk],
        "meta": {
            "has_more": has_more,
            "after_cursor": after_cursor,
            "before_cursor": before_cursor,
        },
        "links": {
            "next": _url(url, base, **{"page[after]": after_cursor}) if after_cursor else None,
            "prev": _url(url, base, **{"page[before]": before_cursor}) if before_cursor else None,
        },
    }
