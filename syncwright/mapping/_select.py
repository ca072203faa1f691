"""Which mapping each connection uses: the one its connector ships, or the user's.

A connector ships one file per direction, ``syncwright/connectors/<vendor>/mappings/
<direction>.yaml``. An entry of ``mappings:`` in ``syncwright.yaml`` replaces the shipped
file of the same direction for its connection with the user's file; that file's ``name``,
``version`` and ``vendor`` must agree with the entry and the connection.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from syncwright.config import Settings
from syncwright.errors import ConfigError
from syncwright.mapping._compile import compile_text, load_mapping
from syncwright.mapping._evaluate import CompiledMapping
from syncwright.mapping._models import Direction

__all__ = [
    "MappingSet",
    "load_mapping_set",
    "mapping_override",
    "or_shipped",
    "shipped_mapping",
    "using_mapping",
]


@functools.cache
def shipped_mapping(vendor: str, direction: Direction) -> CompiledMapping | None:
    """The mapping a vendor's connector ships for ``direction`` (None: it has none)."""
    try:
        folder = resources.files(f"syncwright.connectors.{vendor}")
    except ModuleNotFoundError:
        return None
    resource = folder / "mappings" / f"{direction}.yaml"
    if not resource.is_file():
        return None
    source = f"syncwright/connectors/{vendor}/mappings/{direction}.yaml"
    return compile_text(resource.read_text(encoding="utf-8"), source=source)


def or_shipped(
    mapping: CompiledMapping | None, vendor: str, direction: Direction
) -> CompiledMapping:
    """``mapping``, or (None) the one ``vendor``'s connector ships for ``direction``, which a
    connector calling this must ship."""
    if mapping is not None:
        return mapping
    found = shipped_mapping(vendor, direction)
    if found is None:
        raise LookupError(f"the {vendor} connector ships no mappings/{direction}.yaml")
    return found


@dataclass(frozen=True)
class MappingSet:
    """The mappings the configuration chose, per (connection, direction), and every version
    it can load by reference (``name@version``) for a replay."""

    chosen: Mapping[tuple[str, Direction], CompiledMapping] = field(default_factory=dict)
    versions: Mapping[str, CompiledMapping] = field(default_factory=dict)

    def get(self, connection: str, vendor: str, direction: Direction) -> CompiledMapping | None:
        """The user's mapping for ``connection``, else the vendor's shipped one."""
        found = self.chosen.get((connection, direction))
        return found if found is not None else shipped_mapping(vendor, direction)

    def version(self, ref: str) -> CompiledMapping:
        """The mapping ``name@version`` (a configured file, live or ``replay_only``, or one a
        configured connection's connector ships); ``LookupError`` names the known ones."""
        found = self.versions.get(ref.strip())
        if found is None:
            known = ", ".join(sorted(self.versions)) or "none"
            raise LookupError(f"no mapping {ref!r} is configured or shipped (known: {known})")
        return found


# The mapping a replay asked for, in force while its delivery is normalized (see ``using``).
_OVERRIDE: ContextVar[CompiledMapping | None] = ContextVar("mapping_override", default=None)


@contextmanager
def using_mapping(mapping: CompiledMapping | None) -> Iterator[None]:
    """Within this block, a connector of ``mapping``'s vendor asking for its ``direction``
    mapping gets ``mapping`` (``None``: no change)."""
    token = _OVERRIDE.set(mapping)
    try:
        yield
    finally:
        _OVERRIDE.reset(token)


def mapping_override(vendor: str, direction: Direction) -> CompiledMapping | None:
    found = _OVERRIDE.get()
    if found is not None and found.vendor == vendor and found.direction == direction:
        return found
    return None


def load_mapping_set(settings: Settings) -> MappingSet:
    """Compile every ``mappings:`` entry; one :class:`ConfigError` lists every problem."""
    problems: list[str] = []
    chosen: dict[tuple[str, Direction], CompiledMapping] = {}
    versions: dict[str, CompiledMapping] = {}
    for vendor in {c.vendor for c in settings.connections.values()}:
        for direction in ("inbound", "outbound"):
            shipped = shipped_mapping(vendor, direction)
            if shipped is not None:
                versions[shipped.ref] = shipped
    where: dict[tuple[str, Direction], int] = {}
    for index, ref in enumerate(settings.mappings):
        entry = f"mappings[{index}]"
        try:
            compiled = load_mapping(Path(ref.path), version=ref.version)
        except ConfigError as exc:
            problems.extend(exc.problems or [exc.message])
            continue
        connection = settings.connections.get(ref.connection)
        if compiled.name != ref.name:
            problems.append(
                f"{entry}.name: the file {ref.path} is mapping {compiled.name!r}, not "
                f"{ref.name!r}; make them the same"
            )
        if connection is not None and connection.vendor != compiled.vendor:
            problems.append(
                f"{entry}.connection: {ref.connection!r} is a {connection.vendor} connection but "
                f"{ref.path} maps {compiled.vendor}"
            )
        problems.extend(_replaces_shipped(entry, ref.path, compiled))
        versions[compiled.ref] = compiled
        if ref.replay_only:
            continue
        key = (ref.connection, compiled.direction)
        if key in where:
            problems.append(
                f"{entry}: connection {ref.connection!r} already has an {compiled.direction} "
                f"mapping at mappings[{where[key]}]; keep one"
            )
        where.setdefault(key, index)
        chosen[key] = compiled
    if problems:
        count = f"{len(problems)} problem" + ("s" if len(problems) != 1 else "")
        raise ConfigError(
            f"{count} in the mappings:\n" + "\n".join(f"  - {p}" for p in problems),
            code="config.invalid_mapping",
            problems=problems,
        )
    return MappingSet(chosen, versions)


def _replaces_shipped(entry: str, path: Path, compiled: CompiledMapping) -> list[str]:
    """A user's file is used only in place of a shipped one, and the connector asks it for the
    shipped file's entities by name: each must be there."""
    shipped = shipped_mapping(compiled.vendor, compiled.direction)
    if shipped is None:
        return [
            f"{entry}: the {compiled.vendor} connector ships no {compiled.direction} mapping "
            f"file to replace (it does not map that direction through a file), so {path} would "
            "not be used; remove the entry"
        ]
    missing = sorted(set(shipped.entities) - set(compiled.entities))
    if missing:
        return [
            f"{path}: entities: the {compiled.vendor} connector needs "
            f"{', '.join(missing)} (as in {shipped.source}); add them"
        ]
    return []
