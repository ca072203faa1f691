"""Guard for published event versions: current data models vs. committed JSON Schema snapshots.

Each registered event type version has a snapshot ``schemas/<event-type>.json``, written once
when the version is published and never rewritten. :func:`check_compatibility` compares every
current data model with its snapshot and reports each breaking change with its path.

"Breaking" means: something a v1 consumer or a stored v1 event relied on no longer holds.
Events sit in the inbox, in durable workflow state and in the ledger for a long time, and the
models forbid unknown fields, so the current model must still accept every event the snapshot
described, and still produce what v1 consumers read:

- a field removed (old stored events carrying it would now be rejected; consumers lose it);
- a type changed, including becoming nullable (consumers would see ``null``) or no longer
  nullable (stored ``null`` values would be rejected);
- a field newly required (stored events without it would be rejected);
- an enum value removed;
- a constraint tightened (a minimum raised, a pattern changed);
- a snapshot missing for a registered type, or a published type no longer registered.

Adding an optional field, adding an enum value, loosening a constraint and editing descriptions
are compatible. Run ``python -m syncwright.model.compat check`` in CI and
``python -m syncwright.model.compat publish`` only after registering a new version.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from syncwright.model.events import EVENT_TYPES

__all__ = [
    "SNAPSHOT_DIR",
    "check_compatibility",
    "compare_schemas",
    "current_schema",
    "main",
    "snapshot_path",
    "write_snapshots",
]

SNAPSHOT_DIR = Path(__file__).with_name("schemas")

Schema = Mapping[str, Any]

# Bounds that reject more values when they grow (lower bounds) or shrink (upper bounds).
_LOWER_BOUNDS = ("minimum", "exclusiveMinimum", "minLength", "minItems", "minProperties")
_UPPER_BOUNDS = ("maximum", "exclusiveMaximum", "maxLength", "maxItems", "maxProperties")


def current_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The JSON Schema snapshotted for ``model``: the schema of what validation accepts."""
    return model.model_json_schema(mode="validation")


def snapshot_path(event_type: str, snapshot_dir: Path | None = None) -> Path:
    return (snapshot_dir or SNAPSHOT_DIR) / f"{event_type}.json"


def _dump(schema: Schema) -> str:
    # Sorted keys and a trailing newline keep snapshot diffs in review small and stable.
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


# -- schema comparison -------------------------------------------------------------------------


class _Comparison:
    """One old/new schema pair: each side resolves ``$ref`` against its own ``$defs``."""

    def __init__(self, old_root: Schema, new_root: Schema) -> None:
        self.old_root = old_root
        self.new_root = new_root
        self.problems: list[str] = []
        # (old ref, new ref) pairs being compared further up the stack; stops recursive models.
        self._active: set[tuple[str, str]] = set()

    def report(self, path: str, message: str) -> None:
        self.problems.append(f"{path or '<root>'}: {message}")

    def compare(self, old: Schema, new: Schema, path: str) -> None:
        old_ref, old = _resolve(old, self.old_root)
        new_ref, new = _resolve(new, self.new_root)
        key = (old_ref, new_ref)
        if old_ref and new_ref:
            if key in self._active:
                return
            self._active.add(key)
        try:
            self._compare_resolved(old, new, path)
        finally:
            self._active.discard(key)

    def _compare_resolved(self, old: Schema, new: Schema, path: str) -> None:
        old_branches = list(_branches(old, self.old_root))
        new_branches = list(_branches(new, self.new_root))
        old_kinds = sorted({_kind(b) for b in old_branches})
        new_kinds = sorted({_kind(b) for b in new_branches})
        if old_kinds != new_kinds:
            self.report(
                path, f"type changed from {' | '.join(old_kinds)} to {' | '.join(new_kinds)}"
            )
            return
        for kind in old_kinds:
            olds = [b for b in old_branches if _kind(b) == kind]
            news = [b for b in new_branches if _kind(b) == kind]
            for o, n in _pair(olds, news):
                self._compare_branch(kind, o, n, path)

    def _compare_branch(self, kind: str, old: Schema, new: Schema, path: str) -> None:
        self._compare_constraints(old, new, path)
        if kind.startswith("enum"):
            removed = [v for v in _enum_values(old) if v not in _enum_values(new)]
            if removed:
                values = ", ".join(json.dumps(v) for v in removed)
                self.report(path, f"enum value removed: {values}")
        elif kind == "object":
            self._compare_object(old, new, path)
        elif kind == "map":
            self.compare(_extra_schema(old), _extra_schema(new), f"{path}{{*}}")
        elif kind == "array":
            self._compare_array(old, new, path)

    def _compare_object(self, old: Schema, new: Schema, path: str) -> None:
        old_props: Mapping[str, Schema] = old.get("properties", {})
        new_props: Mapping[str, Schema] = new.get("properties", {})
        old_required = set(old.get("required", ()))
        new_required = set(new.get("required", ()))
        for name, old_field in old_props.items():
            where = f"{path}.{name}" if path else name
            if name not in new_props:
                self.report(where, "field removed")
                continue
            self.compare(old_field, new_props[name], where)
        for name in sorted(new_required - old_required):
            where = f"{path}.{name}" if path else name
            if name in old_props:
                self.report(where, "field newly required (was optional)")
            else:
                self.report(where, "field newly required (new field without a default)")
        if old.get("additionalProperties", True) is not False and (
            new.get("additionalProperties", True) is False
        ):
            self.report(path, "no longer accepts additional properties")

    def _compare_array(self, old: Schema, new: Schema, path: str) -> None:
        old_prefix: Sequence[Schema] = old.get("prefixItems", ())
        new_prefix: Sequence[Schema] = new.get("prefixItems", ())
        if len(old_prefix) != len(new_prefix):
            self.report(path, f"tuple length changed from {len(old_prefix)} to {len(new_prefix)}")
            return
        for i, (o, n) in enumerate(zip(old_prefix, new_prefix, strict=True)):
            self.compare(o, n, f"{path}[{i}]")
        old_items, new_items = old.get("items"), new.get("items")
        if isinstance(old_items, Mapping) and isinstance(new_items, Mapping):
            self.compare(old_items, new_items, f"{path}[]")
        elif isinstance(old_items, Mapping) != isinstance(new_items, Mapping):
            self.report(f"{path}[]", "item type changed")

    def _compare_constraints(self, old: Schema, new: Schema, path: str) -> None:
        for key in _LOWER_BOUNDS:
            if key in new and (key not in old or new[key] > old[key]):
                self.report(path, f"constraint tightened: {key} {old.get(key)} -> {new[key]}")
        for key in _UPPER_BOUNDS:
            if key in new and (key not in old or new[key] < old[key]):
                self.report(path, f"constraint tightened: {key} {old.get(key)} -> {new[key]}")
        if "pattern" in new and new["pattern"] != old.get("pattern"):
            self.report(path, f"pattern changed: {old.get('pattern')!r} -> {new['pattern']!r}")


def _resolve(schema: Schema, root: Schema) -> tuple[str, Schema]:
    """Follow ``$ref`` (and pydantic's single-element ``allOf`` wrapper) to the definition."""
    ref = ""
    seen: set[str] = set()
    while True:
        if "$ref" in schema:
            ref = str(schema["$ref"])
            if ref in seen:
                return ref, schema
            seen.add(ref)
            schema = _lookup(ref, root)
        elif "allOf" in schema and len(schema["allOf"]) == 1:
            schema = schema["allOf"][0]
        else:
            return ref, schema


def _lookup(ref: str, root: Schema) -> Schema:
    if not ref.startswith("#/"):
        raise ValueError(f"only local $refs are supported, got {ref!r}")
    node: Any = root
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    if not isinstance(node, Mapping):
        raise ValueError(f"$ref {ref!r} does not point at a schema")
    return node


def _branches(schema: Schema, root: Schema) -> Iterator[Schema]:
    """The alternatives of a union (``anyOf``/``oneOf``/type lists), flattened and resolved."""
    for key in ("anyOf", "oneOf"):
        if key in schema:
            for branch in schema[key]:
                yield from _branches(_resolve(branch, root)[1], root)
            return
    types = schema.get("type")
    if isinstance(types, list):
        for t in types:
            yield {**schema, "type": t}
        return
    yield schema


def _kind(schema: Schema) -> str:
    """A short name of what a branch accepts; a differing set of kinds is a type change."""
    base = schema.get("type", "any")
    if "enum" in schema or "const" in schema:
        return f"enum<{base}>"
    if base == "string" and "format" in schema:
        return f"string<{schema['format']}>"
    if (
        base == "object"
        and "properties" not in schema
        and isinstance(schema.get("additionalProperties"), Mapping)
    ):
        return "map"
    return str(base)


def _enum_values(schema: Schema) -> list[Any]:
    if "const" in schema:
        return [schema["const"]]
    return list(schema.get("enum", ()))


def _extra_schema(schema: Schema) -> Schema:
    extra = schema.get("additionalProperties", {})
    return extra if isinstance(extra, Mapping) else {}


def _pair(olds: list[Schema], news: list[Schema]) -> Iterator[tuple[Schema, Schema]]:
    """Match the branches of one kind: alone with alone, else by title, else by position."""
    if len(olds) == 1 and len(news) == 1:
        yield olds[0], news[0]
        return
    by_title = {n.get("title"): n for n in news if n.get("title")}
    unmatched = [n for n in news if not n.get("title")]
    for i, old in enumerate(olds):
        match = by_title.get(old.get("title"))
        if match is None and unmatched:
            match = unmatched.pop(0)
        if match is None and i < len(news):
            match = news[i]
        if match is not None:
            yield old, match


def compare_schemas(old: Schema, new: Schema, *, where: str = "") -> list[str]:
    """Every breaking difference from ``old`` to ``new``, each prefixed with ``where``."""
    comparison = _Comparison(old, new)
    comparison.compare(old, new, "")
    prefix = f"{where}: " if where else ""
    return [prefix + problem for problem in comparison.problems]


# -- snapshots -----------------------------------------------------------------------------------


def check_compatibility(
    registry: Mapping[str, type[BaseModel]] | None = None,
    snapshot_dir: Path | None = None,
) -> list[str]:
    """Every breaking change of the registered event models against their snapshots."""
    types = EVENT_TYPES if registry is None else registry
    directory = snapshot_dir or SNAPSHOT_DIR
    problems: list[str] = []
    for event_type in sorted(types):
        path = snapshot_path(event_type, directory)
        if not path.exists():
            problems.append(
                f"{event_type}: snapshot missing ({path.name}); a registered type must be "
                "published with `python -m syncwright.model.compat publish`"
            )
            continue
        old = json.loads(path.read_text(encoding="utf-8"))
        problems.extend(compare_schemas(old, current_schema(types[event_type]), where=event_type))
    if directory.is_dir():
        for path in sorted(directory.glob("*.json")):
            if path.stem not in types:
                problems.append(
                    f"{path.stem}: published event type is no longer registered; a published "
                    "version must stay readable (keep its model in EVENT_TYPES)"
                )
    return problems


def write_snapshots(
    registry: Mapping[str, type[BaseModel]] | None = None,
    snapshot_dir: Path | None = None,
) -> list[Path]:
    """Write the snapshot of every registered type that has none; return the files written.

    An existing snapshot is never overwritten: it records what was published, and rewriting it
    would make any breaking change look compatible.
    """
    types = EVENT_TYPES if registry is None else registry
    directory = snapshot_dir or SNAPSHOT_DIR
    directory.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for event_type in sorted(types):
        path = snapshot_path(event_type, directory)
        if path.exists():
            continue
        path.write_text(_dump(current_schema(types[event_type])), encoding="utf-8")
        written.append(path)
    return written


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m syncwright.model.compat",
        description="Check published event schemas for breaking changes, or publish new ones.",
    )
    parser.add_argument(
        "command",
        choices=["check", "publish"],
        help="check: report breaking changes; publish: write snapshots of new versions, then check",
    )
    args = parser.parse_args(argv)
    if args.command == "publish":
        for path in write_snapshots():
            print(f"wrote {path}")
    problems = check_compatibility()
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        print(f"{len(problems)} breaking change(s) in published event schemas", file=sys.stderr)
        return 1
    print(f"{len(EVENT_TYPES)} event types compatible with their snapshots")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
