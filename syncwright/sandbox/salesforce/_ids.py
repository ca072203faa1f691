"""Salesforce record ids: 3-char key prefix, pod, counter, and the 3-char case-safe suffix.

https://help.salesforce.com/s/articleView?id=000385008 (15- vs 18-character ids): the 18-char
form appends one character per 5-char chunk, encoding which characters of the chunk are upper-case.
"""

from __future__ import annotations

import itertools
import string
import threading

_BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
_SUFFIX = string.ascii_uppercase + "012345"
_POD = "5g"  # the "instance" characters; any two base-62 characters do

ORG_ID_PREFIX = "00D"
USER_ID_PREFIX = "005"
QUERY_LOCATOR_PREFIX = "01g"


def checksum(id15: str) -> str:
    """The 3-character suffix that makes a 15-character id case-insensitive-safe."""
    out = []
    for chunk in (id15[0:5], id15[5:10], id15[10:15]):
        bits = sum(1 << i for i, ch in enumerate(chunk) if "A" <= ch <= "Z")
        out.append(_SUFFIX[bits])
    return "".join(out)


def _base62(number: int, width: int) -> str:
    chars = []
    while number:
        number, rem = divmod(number, 62)
        chars.append(_BASE62[rem])
    return "".join(reversed(chars)).rjust(width, "0")


def make_id(prefix: str, number: int) -> str:
    """The 18-character id for the ``number``-th record with key prefix ``prefix``."""
    id15 = f"{prefix}{_POD}0{_base62(number, 9)}"
    return id15 + checksum(id15)


def normalize_id(value: str) -> str | None:
    """The 18-character form of a 15- or 18-character id, or ``None`` when it is not an id."""
    if not isinstance(value, str) or len(value) not in (15, 18) or not value.isalnum():
        return None
    if not value.isascii():
        return None
    id15 = value[:15]
    full = id15 + checksum(id15)
    if len(value) == 18 and value[15:].upper() != full[15:]:
        return None
    return full


class IdFactory:
    """Hands out fresh ids per key prefix. Counters never go back, even across a state reset,
    so an id a client still holds from before the reset cannot name a different record."""

    def __init__(self, start: int = 1) -> None:
        self._counter = itertools.count(start)
        self._lock = threading.Lock()

    def new(self, prefix: str) -> str:
        with self._lock:
            number = next(self._counter)
        # Spread numbers so consecutive ids differ in more than the last character.
        return make_id(prefix, number * 7919 + 100_000)
