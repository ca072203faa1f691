"""Scale-out on PostgreSQL: 1 -> 2 -> 4 ``syncwright worker`` processes on one backlog, with the
ERP's concurrency budget shared by all of them and never breached.

    python bench/scale.py [--quick] [--events 6000] [--workers 1,2,4] [--erp-latency-ms 50]
                          [--concurrency 8]

The peer job (bench/peer.py, bench/_e2e.py), on PostgreSQL (started from Debian's binaries as
the tests do, tests/_postgres.py: fsync off, a throwaway cluster). For each worker count: a
fresh database and a fresh ERP stub that holds each write ``--erp-latency-ms`` and counts the
writes in flight; ``syncwright serve`` accepts ``--events`` signed deliveries (no worker
running), then that many workers start together (16 workflow threads each, their own
``executor_id``), with ``connections.erp.limits: {concurrency: N, scope: shared}``. The
throughput is the writes received after the last worker started, divided by the time from then
to the last write. The stub's largest in-flight count must stay within the budget, every
delivery must be answered 2xx and every event's customer written exactly once, or the problems
are printed instead of figures (exit status 1). ``--quick``: 1,500 events per worker count.
On this 2-core machine the workers share two cores with PostgreSQL, the stub and the bench.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

from _e2e import (
    Stub,
    Syncwright,
    check_writes,
    customer_name,
    fail_on,
    load_average,
    send,
    stop_on_sigterm,
    wait_for_writes,
    write_config,
)

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository: tests._postgres
from tests._postgres import PostgresServer


def run(
    server: PostgresServer, work: Path, workers: int, args: argparse.Namespace, events: int
) -> tuple[float, int, str]:
    """(syncs/s, the stub's most writes in flight, load average) for ``workers`` workers."""
    work.mkdir(parents=True)
    stub = Stub(work / "stub.log", latency_ms=args.erp_latency_ms)
    db_url = server.create_database().replace("postgresql://", "postgresql+psycopg://")
    limits = f"      concurrency: {args.concurrency}\n      scope: shared\n"
    configs = [
        write_config(
            work / f"w{n}", db_url=db_url, erp_url=stub.url, executor_id=f"w{n}", erp_limits=limits
        )
        for n in range(workers)
    ]
    deployment = Syncwright(configs[0], work, worker_configs=configs)
    try:
        sent = send(deployment.hook_url, "scale", events, connections=50)
        fail_on(sent.problems(), f"{workers} workers: backlog")
        deployment.start_workers()  # together; returns when the last one runs
        all_running = time.time()
        load = load_average()
        names = [customer_name("scale", n) for n in range(events)]
        records = wait_for_writes(stub, names, 3600)
        fail_on(check_writes(records, names), f"{workers} workers")
        in_flight = stub.stats()["max_in_flight"]
    finally:
        deployment.stop()
        stub.stop()
    after = [r[0] for r in records if r[0] >= all_running]
    if len(after) < events // 2:
        fail_on(
            [
                f"only {len(after)} of {events} writes came after the last worker started; "
                "use more --events"
            ],
            f"{workers} workers",
        )
    rate = len(after) / (max(after) - all_running)
    fail_on(
        [f"{in_flight} ERP writes in flight at once, budget {args.concurrency}"]
        if in_flight > args.concurrency
        else [],
        f"{workers} workers",
    )
    print(
        f"  {workers} workers: {rate:.1f} syncs/s, at most {in_flight} of {args.concurrency} "
        f"in flight, load {load}",
        flush=True,
    )
    return rate, in_flight, load


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="1,500 events per worker count")
    parser.add_argument("--events", type=int, help="per worker count (default 6000)")
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--erp-latency-ms", type=float, default=50.0)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    stop_on_sigterm()
    events = args.events or (1500 if args.quick else 6000)
    counts = [int(n) for n in args.workers.split(",")]

    server = PostgresServer().start()
    work = Path(tempfile.mkdtemp(prefix="syncwright-scale-"))
    results = []
    try:
        for workers in counts:
            results.append((workers, *run(server, work / f"k{workers}", workers, args, events)))
    finally:
        server.stop()
    shutil.rmtree(work, ignore_errors=True)

    ceiling = args.concurrency / (args.erp_latency_ms / 1000)
    print(
        f"\nscale-out on PostgreSQL, {events} events per worker count, ERP latency "
        f"{args.erp_latency_ms:.0f} ms, shared budget {args.concurrency} concurrent "
        f"(at most {ceiling:.0f} writes/s)"
    )
    print(f"{'workers':>7} {'syncs/s':>8} {'x 1 worker':>10} {'max in flight':>14} {'load':>5}")
    for workers, rate, in_flight, load in results:
        print(
            f"{workers:>7} {rate:>8.1f} {rate / results[0][1]:>9.2f}x "
            f"{in_flight:>8} of {args.concurrency:<3} {load:>5}"
        )
    print(
        "budget never breached; every delivery answered 2xx; every event's customer written "
        "to the ERP exactly once"
    )


if __name__ == "__main__":
    main()
