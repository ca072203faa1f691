"""Cross-reference lookups for ``xref:`` fields: the live one, and a read-only one for dry runs
(``syncwright mapping test|diff`` must not mint global ids for records they only look at)."""

from __future__ import annotations

from dataclasses import dataclass

from syncwright.xref import CrossReference

__all__ = ["DryRunResolver", "XrefResolver"]


@dataclass(frozen=True)
class XrefResolver:
    """Native ids of ``connection`` <-> global ids; a new native id gets a global id."""

    xref: CrossReference
    connection: str

    def to_global(self, entity_type: str, native_id: str) -> str | None:
        return self.xref.resolve(entity_type, self.connection, native_id)

    def to_native(self, entity_type: str, global_id: str) -> str | None:
        return self.xref.native_id_for(entity_type, global_id, self.connection)


@dataclass(frozen=True)
class DryRunResolver:
    """Reads the cross-reference (when there is one) and never writes it: a native id not yet
    linked shows as ``(new <entity>: <connection>/<native id>)``."""

    xref: CrossReference | None
    connection: str

    def to_global(self, entity_type: str, native_id: str) -> str | None:
        found = None
        if self.xref is not None:
            found = self.xref.global_id_for(entity_type, self.connection, native_id)
        return found or f"(new {entity_type}: {self.connection}/{native_id})"

    def to_native(self, entity_type: str, global_id: str) -> str | None:
        if self.xref is None:
            return None
        return self.xref.native_id_for(entity_type, global_id, self.connection)
