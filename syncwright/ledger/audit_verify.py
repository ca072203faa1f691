"""Verify the audit chain and name the first entry where it breaks, and how.

Kinds of break, checked entry by entry in ``seq`` order:

- ``removed``: a sequence number is missing, or an entry links to a hash no entry has;
- ``inserted``: an entry the chain does not link through (its successor links to its
  predecessor), or an entry without a sequence number;
- ``reordered``: an entry links to an entry that now sits *after* it;
- ``altered``: an entry's fields (time included) no longer match its hash;
- ``unkeyed`` / ``key_required``: a plain SHA-256 entry where ``audit.key`` is set (a chain
  recomputed without the key), or a keyed entry checked without the key;
- ``truncated``: the trail ends before the head recorded in the database or an exported head;
  an exported head whose entry has another hash is ``altered``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from syncwright.ledger._chain import GENESIS, canonical_time, entry_hash

__all__ = ["AuditHead", "Problem", "VerifyReport", "verify_chain"]


@dataclass(frozen=True)
class AuditHead:
    """The newest entry: export it (``syncwright audit head --json``) to anchor the chain."""

    sequence: int
    hash: str
    at: datetime | None

    def as_json(self) -> dict[str, Any]:
        return {
            "sequence": self.sequence,
            "hash": self.hash,
            "at": canonical_time(self.at) if self.at else None,
        }

    @classmethod
    def from_json(cls, data: Any) -> AuditHead:
        """An exported head; a clear ``ValueError`` when it is not one."""
        if not isinstance(data, dict):
            raise ValueError("an exported audit head is a JSON object with sequence and hash")
        sequence, digest = data.get("sequence"), data.get("hash")
        if not isinstance(sequence, int) or isinstance(sequence, bool) or sequence < 0:
            raise ValueError("the exported head's 'sequence' must be a whole number >= 0")
        if not isinstance(digest, str) or len(digest) != 64:
            raise ValueError("the exported head's 'hash' must be the 64-character hex hash")
        at = data.get("at")
        moment = datetime.fromisoformat(at.replace("Z", "+00:00")) if isinstance(at, str) else None
        return cls(sequence, digest, moment)


@dataclass(frozen=True)
class Problem:
    kind: str
    sequence: int | None
    message: str

    def as_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "sequence": self.sequence, "message": self.message}


@dataclass(frozen=True)
class VerifyReport:
    entries: int
    keyed: bool
    head: AuditHead | None
    problem: Problem | None

    @property
    def ok(self) -> bool:
        return self.problem is None

    def as_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "entries": self.entries,
            "keyed": self.keyed,
            "head": self.head.as_json() if self.head else None,
            "problem": self.problem.as_json() if self.problem else None,
        }


def _peekable(rows: Iterable[dict[str, Any]]) -> Iterator[tuple[dict[str, Any], Any]]:
    """Each row with the row after it (None at the end)."""
    iterator = iter(rows)
    current = next(iterator, None)
    while current is not None:
        following = next(iterator, None)
        yield current, following
        current = following


def _link_problem(
    row: dict[str, Any], prev: str, prev_prev: str | None, seq_of: Callable[[str], int | None]
) -> Problem | None:
    if row["prev_hash"] == prev:
        return None
    seq = int(row["seq"])
    if prev_prev is not None and row["prev_hash"] == prev_prev:
        return Problem("inserted", seq - 1, f"entry {seq - 1} was inserted: entry {seq} skips it")
    linked = seq_of(str(row["prev_hash"]))
    if linked is None:
        return Problem(
            "removed",
            seq - 1,
            f"entry {seq} follows an entry that is no longer in the trail (removed before {seq})",
        )
    if linked > seq:
        return Problem(
            "reordered", seq, f"entry {seq} follows entry {linked}, which now comes after it"
        )
    return Problem("altered", seq, f"entry {seq} links to entry {linked}, not to its predecessor")


def _content_problem(
    row: dict[str, Any], following: dict[str, Any] | None, key: bytes | None
) -> Problem | None:
    seq = int(row["seq"])
    keyed = bool(row.get("keyed"))
    if keyed == (key is not None) and entry_hash(row, key) == row["hash"]:
        return None
    if following is not None and following.get("prev_hash") == row["prev_hash"]:
        return Problem("inserted", seq, f"entry {seq} was inserted: the next entry skips it")
    if keyed and key is None:
        return Problem(
            "key_required",
            seq,
            f"entry {seq} is keyed: set audit.key (the key it was written with) to verify it",
        )
    if not keyed and key is not None:
        return Problem(
            "unkeyed",
            seq,
            f"entry {seq} has a plain SHA-256 hash although audit.key is set: it was "
            "recomputed without the key, or written before the key was set",
        )
    return Problem("altered", seq, f"entry {seq} was altered: its fields no longer match its hash")


def _tail_problem(last_seq: int, last_hash: str, head: AuditHead, what: str) -> Problem | None:
    if head.sequence > last_seq:
        return Problem(
            "truncated",
            last_seq + 1,
            f"the trail ends at entry {last_seq} but {what} is entry {head.sequence}: "
            f"entries {last_seq + 1}..{head.sequence} were cut off",
        )
    return None


def verify_chain(
    rows: Iterable[dict[str, Any]],
    *,
    key: bytes | None,
    head: AuditHead | None,
    stored_head: AuditHead | None,
    unnumbered: int = 0,
    seq_of: Callable[[str], int | None] = lambda _hash: None,
) -> VerifyReport:
    """Check ``rows`` (in ``seq`` order) against the key, the database's head row and an
    exported ``head``; stop at the first problem."""
    expected, prev, prev_prev = 1, GENESIS, None
    last: AuditHead | None = None
    exported_hash: str | None = None
    count = 0

    def report(problem: Problem | None) -> VerifyReport:
        return VerifyReport(count, key is not None, last, problem)

    if unnumbered:
        return report(Problem("inserted", None, f"{unnumbered} entries carry no sequence number"))
    for row, following in _peekable(rows):
        seq = int(row["seq"])
        if seq > expected:
            missing = f"{expected}" if seq == expected + 1 else f"{expected}..{seq - 1}"
            return report(Problem("removed", expected, f"entries {missing} are missing"))
        if seq < expected:
            return report(Problem("inserted", seq, f"entry {seq} appears twice"))
        problem = _link_problem(row, prev, prev_prev, seq_of) or _content_problem(
            row, following, key
        )
        if problem is not None:
            return report(problem)
        count += 1
        if head is not None and seq == head.sequence:
            exported_hash = str(row["hash"])
        prev_prev, prev, expected = prev, str(row["hash"]), seq + 1
        last = AuditHead(seq, prev, row["at"])
    last_seq = last.sequence if last else 0
    if stored_head is not None:
        problem = _tail_problem(last_seq, prev, stored_head, "the database's head row")
        if problem is None and stored_head.sequence == last_seq and stored_head.hash != prev:
            problem = Problem(
                "altered", last_seq, f"entry {last_seq} differs from the database's head row"
            )
        if problem is not None:
            return report(problem)
    if head is not None:
        problem = _tail_problem(last_seq, prev, head, "the exported head")
        if problem is None and head.sequence > 0 and exported_hash != head.hash:
            problem = Problem(
                "altered",
                head.sequence,
                f"entry {head.sequence} no longer has the hash exported for it: the chain was "
                "rewritten since the head was exported",
            )
        if problem is not None:
            return report(problem)
    return report(None)
