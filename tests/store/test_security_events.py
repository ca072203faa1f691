"""Security events on both databases: counted per source, kind, code and window; old windows
pruned."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from syncwright._time import utcnow
from syncwright.intake import Inbox
from syncwright.intake.inbox import SECURITY_RETENTION
from syncwright.store import Database
from syncwright.store.tables import security_events


def _record(
    inbox: Inbox, code: str = "signature.mismatch", remote: str | None = "10.0.0.1"
) -> None:
    inbox.record_security_event(
        connection="shop",
        kind="webhook_signature_rejected",
        code=code,
        remote_addr=remote,
        detail=f"{code} from {remote}",
    )


def test_events_of_one_source_share_a_row(db_url: str) -> None:
    db = Database(db_url)
    db.upgrade()
    inbox = Inbox(db)
    for _ in range(40):
        _record(inbox)
    for _ in range(3):
        _record(inbox, remote="10.0.0.2")
        _record(inbox, code="signature.missing")
        _record(inbox, remote=None)
    rows = {(e["code"], e["remote_addr"]): e for e in inbox.security_events()}
    # Two windows at most if the run straddles a five-minute boundary.
    assert 4 <= len(inbox.security_events()) <= 8
    counts: dict[tuple[str, str], int] = {}
    for event in inbox.security_events():
        key = (event["code"], event["remote_addr"])
        counts[key] = counts.get(key, 0) + event["count"]
        assert event["at"] <= event["last_at"]
    assert counts == {
        ("signature.mismatch", "10.0.0.1"): 40,
        ("signature.mismatch", "10.0.0.2"): 3,
        ("signature.missing", "10.0.0.1"): 3,
        ("signature.mismatch", ""): 3,
    }
    assert rows[("signature.missing", "10.0.0.1")]["detail"] == "signature.missing from 10.0.0.1"
    db.dispose()


def test_windows_past_retention_are_pruned(db_url: str) -> None:
    db = Database(db_url)
    db.upgrade()
    inbox = Inbox(db)
    old = utcnow() - SECURITY_RETENTION - timedelta(days=1)
    with db.engine.begin() as conn:
        conn.execute(
            sa.insert(security_events).values(
                at=old,
                window_start=old,
                last_at=old,
                count=7,
                connection="shop",
                kind="webhook_signature_rejected",
                code="signature.mismatch",
                remote_addr="10.0.0.9",
                detail="old",
            )
        )
    _record(inbox)
    assert [e["remote_addr"] for e in inbox.security_events()] == ["10.0.0.1"]
    db.dispose()
