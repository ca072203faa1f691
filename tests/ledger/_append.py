"""One writer process of the concurrency test: wait for the start file, then append entries.

``python -m tests.ledger._append DB_URL START_FILE WRITER COUNT`` (key from AUDIT_TEST_KEY).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from syncwright.ledger import AuditEntry, AuditTrail, request_digest
from syncwright.store import Database


def main(url: str, start: Path, writer: str, count: int) -> None:
    db = Database(url)
    key = os.environ.get("AUDIT_TEST_KEY")
    trail = AuditTrail(db, key=key.encode() if key else None)
    while not start.exists():  # all writers begin together; no timing is asserted
        time.sleep(0.01)
    for n in range(count):
        trail.append(
            AuditEntry(
                correlation_id=f"cor_{writer}_{n}",
                connection="erp",
                action="netsuite.invoice.upsert",
                payload_digest=request_digest({"writer": writer, "n": n}),
                native_id=f"{writer}-{n}",
                amount_minor=n,
                currency="EUR",
            )
        )
    db.dispose()


if __name__ == "__main__":
    main(sys.argv[1], Path(sys.argv[2]), sys.argv[3], int(sys.argv[4]))
