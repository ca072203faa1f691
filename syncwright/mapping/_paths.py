"""Field paths and ``{...}`` templates of mapping files.

A path is dotted, with list indexes: ``payload.lines[0].price.id``. It reads from the record
being mapped, except these roots:

- ``$`` alone: the whole record;
- ``$options.<key>``: the connection's options (over the file's own ``options:`` defaults);
- ``$result.<field>``: a field this entity already produced (fields run in file order);
- ``$parent.<field>``: a field of the entity that contains this one (for ``each:`` lists);
- ``$label``, ``$parent_label``: the record's label (and its parent's), for messages.

A template is text with ``{path}`` placeholders: ``organization_fields.{$options.tier_field}``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

__all__ = ["ROOTS", "Path", "Template", "parse_path", "parse_template"]

ROOTS: Final = ("$options", "$result", "$parent", "$label", "$parent_label")
_WHOLE_ROOTS: Final = ("$label", "$parent_label")
_KEY = r"[A-Za-z_][A-Za-z0-9_\-]*"
_STEP = re.compile(rf"(?P<key>{_KEY})(?P<indexes>(?:\[\d+\])*)")
_INDEX = re.compile(r"\[(\d+)\]")
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")

Step = str | int


@dataclass(frozen=True)
class Path:
    """A parsed path: its root (``""`` for the record itself) and its steps."""

    text: str
    root: str
    steps: tuple[Step, ...]

    def get(self, record: Any, scopes: Mapping[str, Any]) -> Any:
        """The value at this path, or None where any step is missing."""
        value = scopes.get(self.root) if self.root else record
        for step in self.steps:
            if isinstance(step, int):
                if not isinstance(value, Sequence) or isinstance(value, str | bytes):
                    return None
                value = value[step] if step < len(value) else None
            else:
                if not isinstance(value, Mapping):
                    return None
                value = value.get(step)
            if value is None:
                return None
        return value


def parse_path(text: str) -> Path:
    """Parse ``text``; :class:`ValueError` says what is wrong with it."""
    if not isinstance(text, str) or not text.strip():
        raise ValueError("a path must be a non-empty string")
    text = text.strip()
    if text == "$":
        return Path(text, "", ())
    parts = text.split(".")
    root = ""
    if parts[0].startswith("$"):
        root = parts.pop(0)
        if root not in ROOTS:
            raise ValueError(f"unknown root {root!r} in path {text!r} (use $, {', '.join(ROOTS)})")
        if not parts and root not in _WHOLE_ROOTS:
            raise ValueError(f"path {text!r} needs a field after {root}")
    steps: list[Step] = []
    for part in parts:
        match = _STEP.fullmatch(part)
        if match is None:
            raise ValueError(
                f"path {text!r}: {part!r} is not a field name (letters, digits, '_', '-') "
                "optionally followed by list indexes like [0]"
            )
        steps.append(match["key"])
        steps.extend(int(i) for i in _INDEX.findall(match["indexes"]))
    return Path(text, root, tuple(steps))


@dataclass(frozen=True)
class Template:
    """Text with ``{path}`` placeholders; plain text when it has none."""

    text: str
    pieces: tuple[str | Path, ...]

    @property
    def is_plain(self) -> bool:
        return all(isinstance(piece, str) for piece in self.pieces)

    def render(self, record: Any, scopes: Mapping[str, Any]) -> str:
        out: list[str] = []
        for piece in self.pieces:
            if isinstance(piece, str):
                out.append(piece)
            else:
                value = piece.get(record, scopes)
                out.append("" if value is None else str(value))
        return "".join(out)


def parse_template(text: str) -> Template:
    """Parse ``text``; :class:`ValueError` names a bad placeholder."""
    pieces: list[str | Path] = []
    at = 0
    for match in _PLACEHOLDER.finditer(text):
        if match.start() > at:
            pieces.append(text[at : match.start()])
        pieces.append(parse_path(match[1]))
        at = match.end()
    if at < len(text):
        pieces.append(text[at:])
    rest = "".join(p for p in pieces if isinstance(p, str))
    if "{" in rest or "}" in rest:
        raise ValueError(f"template {text!r} has an unbalanced '{{' or '}}'")
    return Template(text, tuple(pieces))
