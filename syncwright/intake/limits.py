"""Limits on what a request may make us hold: body size (streamed, also without
Content-Length) and JSON shape (nesting depth, numbers), so hostile input is a 413 or 400,
never a 500 or a process that runs out of memory."""

from __future__ import annotations

import json
import math
from typing import Any, Final

from fastapi import HTTPException, Request

__all__ = [
    "MAX_JSON_DEPTH",
    "BodyTooLarge",
    "HostileJson",
    "declared_too_large",
    "parse_json",
    "read_body",
]

#: Deepest nesting of arrays and objects accepted; vendor payloads stay far below it.
MAX_JSON_DEPTH: Final = 64


class BodyTooLarge(HTTPException):
    """The body is longer than allowed; raised as soon as that is known, before reading on."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__(413, f"request body exceeds {max_bytes} bytes")
        self.max_bytes = max_bytes


class HostileJson(ValueError):
    """Valid-looking JSON we refuse to hold: too deep, or a number Python cannot represent."""


def declared_too_large(content_length: str | None, max_bytes: int) -> bool:
    """True when a Content-Length header announces more than ``max_bytes``."""
    if content_length is None or not (content_length.isascii() and content_length.isdigit()):
        return False
    return len(content_length) > 18 or int(content_length) > max_bytes


async def read_body(request: Request, max_bytes: int) -> bytes:
    """The body, read chunk by chunk; :class:`BodyTooLarge` once it passes ``max_bytes``
    (declared or counted: a chunked body has no Content-Length), holding no more than that."""
    if declared_too_large(request.headers.get("content-length"), max_bytes):
        raise BodyTooLarge(max_bytes)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise BodyTooLarge(max_bytes)
        chunks.append(chunk)
    return b"".join(chunks)


def _refuse_constant(name: str) -> Any:
    raise HostileJson(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise HostileJson(f"number {text[:20]}... is out of range")
    return value


def _check_depth(value: Any) -> None:
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item
        if depth > MAX_JSON_DEPTH:
            raise HostileJson(f"JSON is nested deeper than {MAX_JSON_DEPTH} levels")
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))


def parse_json(body: bytes) -> Any:
    """``body`` as JSON, or :class:`HostileJson` / :class:`ValueError` saying what is wrong:
    not JSON, nested deeper than :data:`MAX_JSON_DEPTH`, NaN/Infinity, or a number beyond
    what Python converts (integers over 4300 digits, floats that overflow)."""
    try:
        value = json.loads(body, parse_float=_finite_float, parse_constant=_refuse_constant)
    except RecursionError as exc:
        raise HostileJson(f"JSON is nested deeper than {MAX_JSON_DEPTH} levels") from exc
    _check_depth(value)
    return value
