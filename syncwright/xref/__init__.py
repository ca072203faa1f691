"""Cross-reference: one global id per business entity, linked to each system's native id."""

from syncwright.xref.store import CrossReference, MintRace

__all__ = ["CrossReference", "MintRace"]
