"""Stripe's form encoding: ``a[b][0][c]=v`` brackets into nested dicts and lists.

Stripe's v1 API takes ``application/x-www-form-urlencoded`` bodies (and query strings for GET and
DELETE) with Rack-style brackets: ``metadata[plan]=pro``, ``items[0][price]=price_x``,
``expand[]=customer``. The SDKs index arrays (``expand[0]=...``); curl users often write ``[]``.
An empty value means "unset" (``description=`` clears it, ``metadata[k]=`` removes one key).
Docs: https://docs.stripe.com/api/metadata, https://docs.stripe.com/expand.

:class:`Params` wraps the decoded tree: endpoints *take* the parameters they know and then
:meth:`Params.finish` answers ``parameter_unknown`` for anything left, as Stripe does.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

from ._errors import invalid_param, parameter_missing, parameter_unknown

_KEY = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")
_SEGMENT = re.compile(r"\[([^\[\]]*)\]")
_APPEND = object()


def _segments(key: str) -> list[str | object]:
    match = _KEY.match(key)
    if match is None:
        raise invalid_param(f"Invalid parameter name: {key}", key)
    out: list[str | object] = [match.group(1)]
    for seg in _SEGMENT.findall(match.group(2)):
        out.append(_APPEND if seg == "" else seg)
    return out


def decode_form(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """Decode ``(key, value)`` pairs into nested dicts/lists."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        segs = _segments(key)
        node: dict[str, Any] = root
        for i, seg in enumerate(segs):
            last = i == len(segs) - 1
            if seg is _APPEND:
                # "a[]" appends; "a[][x]" starts a new element when the last one has "x" (Rack).
                seq = node.setdefault("\x00append", [])
                if last:
                    seq.append(value)
                    break
                nxt = segs[i + 1]
                starts_new = not seq or not isinstance(seq[-1], dict)
                if not starts_new and i + 2 == len(segs) and isinstance(nxt, str):
                    starts_new = nxt in seq[-1]
                if starts_new:
                    seq.append({})
                child = seq[-1]
                if not isinstance(child, dict):
                    raise invalid_param(f"Invalid array: {key}", key)
                node = child
                continue
            assert isinstance(seg, str)
            if last:
                if seg in node and isinstance(node[seg], dict):
                    raise invalid_param(f"Invalid hash: {key}", key)
                node[seg] = value
            else:
                child = node.setdefault(seg, {})
                if not isinstance(child, dict):
                    if child == "":
                        # "metadata=" followed by "metadata[k]=v": the hash wins.
                        child = {}
                        node[seg] = child
                    else:
                        raise invalid_param(f"Invalid hash: {key}", key)
                node = child
    return _listify(root)  # type: ignore[no-any-return]


def _listify(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    if "\x00append" in node and len(node) == 1:
        return [_listify(v) for v in node["\x00append"]]
    # Indexed arrays ("a[0]=x") stay hashes with digit keys until an endpoint asks for an
    # array (see Params.array), so "metadata[1]=x" remains a hash as in Stripe.
    return {k: _listify(v) for k, v in node.items() if k != "\x00append"}


_MISSING = object()


class Params:
    """Decoded parameters with typed accessors that record what an endpoint consumed."""

    def __init__(self, data: dict[str, Any], prefix: str = "") -> None:
        self._data = data
        self._prefix = prefix
        self._taken: set[str] = set()
        self._children: list[Params] = []

    def name(self, key: str) -> str:
        return f"{self._prefix}[{key}]" if self._prefix else key

    @property
    def raw(self) -> dict[str, Any]:
        return self._data

    def has(self, key: str) -> bool:
        return key in self._data

    def keys(self) -> Iterator[str]:
        return iter(self._data)

    def _take(self, key: str) -> Any:
        self._taken.add(key)
        return self._data.get(key, _MISSING)

    def ignore(self, *keys: str) -> None:
        """Accept these parameters without using them (documented but not emulated)."""
        self._taken.update(keys)

    # -- scalars -----------------------------------------------------------------------------

    def text(self, key: str, *, required: bool = False) -> str | None:
        """A string; ``None`` when absent or sent empty (Stripe's "unset")."""
        value = self._take(key)
        if value is _MISSING or value == "":
            if required:
                raise parameter_missing(self.name(key))
            return None
        if not isinstance(value, str):
            raise invalid_param(f"Invalid string: {self.name(key)}", self.name(key))
        return value

    def req_text(self, key: str) -> str:
        value = self.text(key, required=True)
        assert value is not None
        return value

    def integer(
        self, key: str, *, required: bool = False, minimum: int | None = None
    ) -> int | None:
        value = self._take(key)
        if value is _MISSING or value == "":
            if required:
                raise parameter_missing(self.name(key))
            return None
        if not isinstance(value, str) or not re.fullmatch(r"-?\d+", value):
            raise invalid_param(
                f"Invalid integer: {value}", self.name(key), "parameter_invalid_integer"
            )
        number = int(value)
        if minimum is not None and number < minimum:
            raise invalid_param(
                f"This value must be greater than or equal to {minimum}.", self.name(key)
            )
        return number

    def boolean(self, key: str) -> bool | None:
        value = self._take(key)
        if value is _MISSING or value == "":
            return None
        if value == "true":
            return True
        if value == "false":
            return False
        raise invalid_param(f"Invalid boolean: {value}", self.name(key))

    def choice(self, key: str, allowed: Iterable[str], *, required: bool = False) -> str | None:
        value = self.text(key, required=required)
        options = list(allowed)
        if value is not None and value not in options:
            raise invalid_param(
                f"Invalid {self.name(key)}: must be one of {', '.join(options)}", self.name(key)
            )
        return value

    def is_cleared(self, key: str) -> bool:
        """Sent as an empty string (Stripe's way to unset a field)."""
        return self._data.get(key) == ""

    # -- containers --------------------------------------------------------------------------

    def sub(self, key: str, *, required: bool = False) -> Params | None:
        value = self._take(key)
        if value is _MISSING or value == "":
            if required:
                raise parameter_missing(self.name(key))
            return None
        if not isinstance(value, dict):
            raise invalid_param(f"Invalid hash: {self.name(key)}", self.name(key))
        child = Params(value, self.name(key))
        self._children.append(child)
        return child

    def array(self, key: str, *, required: bool = False) -> list[Any] | None:
        value = self._take(key)
        if value is _MISSING or value == "":
            if required:
                raise parameter_missing(self.name(key))
            return None if value is _MISSING else []
        if isinstance(value, str):
            return [value]
        if isinstance(value, dict) and all(k.isdigit() for k in value):
            value = [value[k] for k in sorted(value, key=int)]
        if not isinstance(value, list):
            raise invalid_param(f"Invalid array: {self.name(key)}", self.name(key))
        return value

    def sub_list(self, key: str, *, required: bool = False) -> list[Params] | None:
        raw = self.array(key, required=required)
        if raw is None:
            return None
        out: list[Params] = []
        for i, element in enumerate(raw):
            name = f"{self.name(key)}[{i}]"
            if not isinstance(element, dict):
                raise invalid_param(f"Invalid hash: {name}", name)
            child = Params(element, name)
            self._children.append(child)
            out.append(child)
        return out

    def text_list(self, key: str) -> list[str] | None:
        raw = self.array(key)
        if raw is None:
            return None
        if not all(isinstance(v, str) for v in raw):
            raise invalid_param(f"Invalid array: {self.name(key)}", self.name(key))
        return [str(v) for v in raw]

    def metadata(self, key: str = "metadata") -> dict[str, str | None] | None:
        """``metadata`` updates: ``{k: v}`` sets, ``{k: None}`` removes, ``{}`` clears all."""
        value = self._take(key)
        if value is _MISSING:
            return None
        if value == "":
            return {}
        if not isinstance(value, dict):
            raise invalid_param("Invalid hash", self.name(key))
        out: dict[str, str | None] = {}
        if len(value) > 50:
            raise invalid_param("Metadata can have at most 50 keys.", self.name(key))
        for k, v in value.items():
            if not isinstance(v, str):
                raise invalid_param(f"Invalid value for metadata key {k}", self.name(key))
            if len(k) > 40:
                raise invalid_param(
                    f"Metadata keys can have up to 40 characters: {k}", f"{self.name(key)}[{k}]"
                )
            if len(v) > 500:
                raise invalid_param(
                    f"Metadata values can have up to 500 characters: {k}", f"{self.name(key)}[{k}]"
                )
            out[k] = v if v != "" else None
        return out

    # -- bookkeeping -------------------------------------------------------------------------

    def finish(self) -> None:
        """Raise ``parameter_unknown`` for anything no accessor consumed (recursively)."""
        for key in self._data:
            if key not in self._taken:
                raise parameter_unknown(self.name(key))
        for child in self._children:
            child.finish()


def initial_metadata(update: dict[str, str | None] | None) -> dict[str, str]:
    """Metadata of a new object: a :meth:`Params.metadata` update applied to nothing (keys sent
    empty are simply not set)."""
    return {k: v for k, v in (update or {}).items() if v is not None}


def apply_metadata(target: dict[str, str], update: dict[str, str | None] | None) -> None:
    """Apply a :meth:`Params.metadata` update in place (``{}`` means clear everything)."""
    if update is None:
        return
    if not update:
        target.clear()
        return
    for k, v in update.items():
        if v is None:
            target.pop(k, None)
        else:
            target[k] = v
