"""Per-entity order under concurrency, on SQLite and PostgreSQL: the events of one customer
are applied in arrival order while different customers proceed in parallel."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from syncwright.sandbox import FaultPlan
from tests._support import Erp, customer_event, start_stack, stats, wait_until, write_config

ENTITIES = 12
VERSIONS = 8


def test_events_of_one_entity_apply_in_order(tmp_path: Path, db_url: str, erp: Erp) -> None:
    # Uneven ERP latency gives later events every chance to overtake earlier ones.
    erp.faults.configure(FaultPlan(latency_ms=15, only_methods=frozenset({"PUT"})))
    stack = start_stack(write_config(tmp_path, db_url=db_url, erp_url=erp.url))
    try:

        def send_history(entity: int) -> None:
            for version in range(1, VERSIONS + 1):
                body = customer_event(
                    f"evt_{entity}_{version}", f"cust_{entity}", name=f"c{entity} v{version}"
                )
                assert stack.post(body).status_code == 200

        with ThreadPoolExecutor(ENTITIES) as pool:
            list(pool.map(send_history, range(ENTITIES)))
        total = ENTITIES * VERSIONS
        wait_until(lambda: stack.count("SUCCESS") == total, 180, "all workflows")
        assert erp.state.max_in_flight > 1  # entities really ran in parallel

        log = stats(erp)["write_log"]
        assert len(log) == total  # each event applied exactly once
        for entity in range(ENTITIES):
            names = [w["name"] for w in log if w["name"].startswith(f"c{entity} ")]
            assert names == [f"c{entity} v{v}" for v in range(1, VERSIONS + 1)]
        finals = {c["name"] for c in erp.state.customers.values()}
        assert finals == {f"c{e} v{VERSIONS}" for e in range(ENTITIES)}
    finally:
        stack.close()
