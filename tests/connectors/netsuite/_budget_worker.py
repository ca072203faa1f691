"""One stand-in worker process for ``test_ns_shared_budget``: builds a Runtime from the config,
says it is ready, waits for the go, then sends GETs to NetSuite from several threads and prints
what it saw as JSON. Run as ``python -m tests.connectors.netsuite._budget_worker``."""

from __future__ import annotations

import json
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from syncwright.config import load_settings
from syncwright.connectors.netsuite.connector import NetSuiteConnector
from syncwright.errors import SyncwrightError
from syncwright.runtime import Runtime


def main(config: str, ready: str, go: str, requests: int, threads: int) -> None:
    runtime = Runtime(load_settings(Path(config)), upgrade=False)  # the test migrated it
    connector = runtime.connection("netsuite")
    assert isinstance(connector, NetSuiteConnector)
    client = connector.client
    Path(ready).touch()
    deadline = time.monotonic() + 120
    while not Path(go).exists():
        if time.monotonic() > deadline:
            sys.exit("no go within 120 s")
        time.sleep(0.01)

    def one(_: int) -> str:
        try:
            client.get("customer", "110")
        except SyncwrightError as exc:
            return exc.code
        return "ok"

    with ThreadPoolExecutor(threads) as pool:
        outcomes = list(pool.map(one, range(requests)))
    print(json.dumps({"outcomes": outcomes, "max_in_flight": connector.limiter.max_in_flight}))
    runtime.close()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))
