"""The audit chain: one line under concurrent writer processes, and every kind of tampering
caught by ``syncwright audit verify`` (a separate process) and ``GET /api/v1/audit/verify``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from syncwright.api import create_api
from syncwright.config import load_settings
from syncwright.engine import EngineClient
from syncwright.ledger import AuditEntry, AuditTrail, request_digest
from syncwright.ledger._chain import GENESIS, entry_hash
from syncwright.runtime import Runtime
from syncwright.sandbox import ServerThread
from syncwright.store import Database
from syncwright.store.tables import audit, audit_head
from tests._support import VIEWER_TOKEN, bearer, write_config

ROOT = Path(__file__).resolve().parents[2]
KEY = "audit-chain-test-key"  # a test value, not a secret
AUDIT_CONFIG = "audit:\n  key: ${AUDIT_KEY}\n"


def _entry(n: int) -> AuditEntry:
    return AuditEntry(
        correlation_id=f"cor_{n}",
        connection="erp",
        action="netsuite.invoice.upsert",
        payload_digest=request_digest({"n": n}),
        workflow_id=f"wf_{n}",
        native_id=str(100 + n),
        amount_minor=1000 * n,
        currency="EUR",
    )


def test_processes_appending_at_once_keep_one_chain(db_url: str, tmp_path: Path) -> None:
    db = Database(db_url)
    db.upgrade()
    start = tmp_path / "start"
    env = {**os.environ, "AUDIT_TEST_KEY": KEY}
    writers = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.ledger._append", db_url, str(start), f"w{i}", "25"],
            cwd=ROOT,
            env=env,
        )
        for i in range(4)
    ]
    start.touch()
    assert [w.wait(240) for w in writers] == [0, 0, 0, 0]
    trail = AuditTrail(db, key=KEY.encode())
    report = trail.verify()
    assert report.ok, report.problem
    rows = list(trail.entries())
    assert [r["seq"] for r in rows] == list(range(1, 101))
    assert [r["prev_hash"] for r in rows] == [GENESIS] + [r["hash"] for r in rows[:-1]]
    assert {r["native_id"] for r in rows} == {f"w{i}-{n}" for i in range(4) for n in range(25)}
    assert trail.head().sequence == 100 and trail.head().hash == rows[-1]["hash"]
    db.dispose()


def test_hash_covers_the_time_and_needs_the_key(sqlite_url: str) -> None:
    db = Database(sqlite_url)
    db.upgrade()
    AuditTrail(db, key=KEY.encode()).append(_entry(1))
    [row] = [dict(r) for r in db.engine.connect().execute(sa.select(audit)).mappings()]
    assert row["keyed"] is True
    assert entry_hash(row, KEY.encode()) == row["hash"]
    assert entry_hash(row, None) != row["hash"]
    assert entry_hash(row, b"another key") != row["hash"]
    later = {**row, "at": row["at"].replace(microsecond=(row["at"].microsecond + 1) % 10**6)}
    assert entry_hash(later, KEY.encode()) != row["hash"]
    # Without the key the keyed chain cannot be checked, and says so.
    report = AuditTrail(db).verify()
    assert report.problem is not None and report.problem.kind == "key_required"
    db.dispose()


# -- tampering -------------------------------------------------------------------------------

Tamper = Callable[[Connection], None]


def _ids(conn: Connection) -> list[int]:
    return list(conn.execute(sa.select(audit.c.id).order_by(audit.c.seq)).scalars())


def _alter_field(conn: Connection) -> None:
    conn.execute(sa.update(audit).where(audit.c.seq == 3).values(amount_minor=1))


def _alter_time(conn: Connection) -> None:
    at = conn.execute(sa.select(audit.c.at).where(audit.c.seq == 3)).scalar_one()
    conn.execute(sa.update(audit).where(audit.c.seq == 3).values(at=at.replace(year=2020)))


def _delete_row(conn: Connection) -> None:
    conn.execute(sa.delete(audit).where(audit.c.seq == 3))


def _insert_row(conn: Connection) -> None:
    """A forged entry 4 (hashed with plain SHA-256: the forger has no key), later ones moved."""
    for seq in (6, 5, 4):
        conn.execute(sa.update(audit).where(audit.c.seq == seq).values(seq=seq + 1))
    prev = conn.execute(sa.select(audit.c.hash).where(audit.c.seq == 3)).scalar_one()
    row = dict(conn.execute(sa.select(audit).where(audit.c.seq == 3)).mappings().one())
    forged = {**row, "seq": 4, "amount_minor": 99, "prev_hash": prev, "keyed": False}
    forged.pop("id")
    forged["hash"] = entry_hash(forged, None)
    conn.execute(sa.insert(audit).values(**forged))


def _swap_rows(conn: Connection) -> None:
    conn.execute(sa.update(audit).where(audit.c.seq == 3).values(seq=-3))
    conn.execute(sa.update(audit).where(audit.c.seq == 4).values(seq=3))
    conn.execute(sa.update(audit).where(audit.c.seq == -3).values(seq=4))


def _truncate_tail(conn: Connection) -> None:
    """The last two entries removed, and the head row moved back to match: only an exported
    head shows it."""
    conn.execute(sa.delete(audit).where(audit.c.seq >= 5))
    last = conn.execute(sa.select(audit.c.hash).where(audit.c.seq == 4)).scalar_one()
    conn.execute(sa.update(audit_head).values(seq=4, hash=last))


def _recompute_without_key(conn: Connection) -> None:
    """Entry 2 changed and every hash from there recomputed, as a database writer could."""
    rows = [dict(r) for r in conn.execute(sa.select(audit).order_by(audit.c.seq)).mappings()]
    prev = rows[0]["hash"]
    for row in rows[1:]:
        if row["seq"] == 2:
            row["amount_minor"] = 5
        row.update(prev_hash=prev, keyed=False)
        row["hash"] = entry_hash(row, None)
        conn.execute(
            sa.update(audit)
            .where(audit.c.id == row["id"])
            .values(amount_minor=row["amount_minor"], prev_hash=prev, keyed=False, hash=row["hash"])
        )
        prev = row["hash"]
    conn.execute(sa.update(audit_head).values(hash=prev))


TAMPERING: dict[str, tuple[Tamper, str, int]] = {
    "alter a field": (_alter_field, "altered", 3),
    "alter the time": (_alter_time, "altered", 3),
    "delete a row": (_delete_row, "removed", 3),
    "insert a row": (_insert_row, "inserted", 4),
    "swap two rows": (_swap_rows, "reordered", 3),
    "truncate the tail": (_truncate_tail, "truncated", 5),
    "recompute without the key": (_recompute_without_key, "unkeyed", 2),
}


@dataclass
class Audited:
    config: Path
    runtime: Runtime
    head_file: Path
    api: ServerThread


@pytest.fixture
def audited(tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Audited]:
    """Six keyed entries, their head exported to a file, the API serving the database."""
    monkeypatch.setenv("AUDIT_KEY", KEY)
    config = write_config(tmp_path, db_url=db_url, erp_url="http://127.0.0.1:9", extra=AUDIT_CONFIG)
    runtime = Runtime(load_settings(config))
    for n in range(1, 7):
        runtime.audit.append(_entry(n))
    head_file = tmp_path / "head.json"
    head_file.write_text(json.dumps(runtime.audit.head().as_json()))
    client = EngineClient(runtime.db)
    api = ServerThread(create_api(runtime, client)).start()
    try:
        yield Audited(config, runtime, head_file, api)
    finally:
        api.stop()
        client.close()
        runtime.close()


def _cli(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "syncwright", *args, "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=ROOT,
        env={**os.environ, "AUDIT_KEY": KEY},
    )


def _api_verify(audited: Audited, **params: object) -> dict[str, object]:
    response = httpx.get(
        f"{audited.api.url}/api/v1/audit/verify",
        params=params,
        timeout=30,
        headers=bearer(VIEWER_TOKEN),
    )
    assert response.status_code == 200, response.text
    result: dict[str, object] = response.json()
    return result


def test_an_intact_chain_verifies(audited: Audited) -> None:
    exported = _cli(audited.config, "audit", "head", "--json")
    assert exported.returncode == 0, exported.stderr
    assert json.loads(exported.stdout) == json.loads(audited.head_file.read_text())
    assert json.loads(exported.stdout)["sequence"] == 6
    plain = _cli(audited.config, "audit", "verify")
    assert plain.returncode == 0 and "intact: 6 entries" in plain.stdout
    done = _cli(audited.config, "audit", "verify", "--head", str(audited.head_file), "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(done.stdout)
    assert report["ok"] is True and report["entries"] == 6 and report["keyed"] is True
    head = json.loads(audited.head_file.read_text())
    assert report["head"] == head
    api = _api_verify(audited, sequence=head["sequence"], hash=head["hash"])
    assert api["ok"] is True and api["head"] == head
    assert KEY not in done.stdout + done.stderr


@pytest.mark.parametrize("case", list(TAMPERING))
def test_tampering_is_caught(audited: Audited, case: str) -> None:
    tamper, kind, sequence = TAMPERING[case]
    with audited.runtime.db.engine.begin() as conn:
        tamper(conn)
    done = _cli(audited.config, "audit", "verify", "--head", str(audited.head_file), "--json")
    assert done.returncode == 1, done.stdout + done.stderr
    problem = json.loads(done.stdout)["problem"]
    assert (problem["kind"], problem["sequence"]) == (kind, sequence), problem
    head = json.loads(audited.head_file.read_text())
    api = _api_verify(audited, sequence=head["sequence"], hash=head["hash"])
    assert api["ok"] is False and api["problem"] == problem


def test_a_bad_head_file_is_a_clear_usage_error(audited: Audited, tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"sequence": "six"}')
    done = _cli(audited.config, "audit", "verify", "--head", str(bad), "--json")
    assert done.returncode == 2
    assert "sequence" in json.loads(done.stdout)["error"]
    half = httpx.get(
        f"{audited.api.url}/api/v1/audit/verify",
        params={"sequence": 6},
        headers=bearer(VIEWER_TOKEN),
    )
    assert half.status_code == 422
