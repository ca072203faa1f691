"""Month-end burst: 100,000 events accepted at once, then drained; memory, time, nothing lost.

    python bench/burst.py [--quick] [--events 100000] [--connections 50]

The peer job (bench/peer.py, bench/_e2e.py): ``syncwright serve`` + ``syncwright worker``
(SQLite, 16 workflow threads) writing each signed shop event's customer to the recording ERP
stub. Both run from the start; ``--events`` deliveries are sent as fast as the intake takes
them (the worker drains meanwhile, as in production), then the bench waits until the last
event's customer is written. Printed: the intake's rate while the worker drains, the time to
drain (first delivery to last ERP write), and the peak RSS of the serve and the worker process
(sampled twice a second; goal < 300 MB each). Every delivery must be answered 2xx and every
event's customer written exactly once, or the problems are printed instead (exit status 1).
``--quick``: 5,000 events. The default takes about half an hour at ~60 syncs/s.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

from _e2e import (
    PeakRss,
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="5,000 events")
    parser.add_argument("--events", type=int, help="default 100,000")
    parser.add_argument("--connections", type=int, default=50)
    args = parser.parse_args()
    stop_on_sigterm()
    events = args.events or (5_000 if args.quick else 100_000)

    work = Path(tempfile.mkdtemp(prefix="syncwright-burst-"))
    stub = Stub(work / "stub.log")
    config = write_config(work, db_url=f"sqlite:///{work / 'sw.db'}", erp_url=stub.url)
    deployment = Syncwright(config, work)
    loads = [load_average()]
    try:
        deployment.start_workers()
        with PeakRss({"serve": deployment.serve_pids, "worker": deployment.worker_pids}) as rss:
            sent = send(deployment.hook_url, "burst", events, connections=args.connections)
            fail_on(sent.problems(), "burst intake")
            loads.append(load_average())
            names = [customer_name("burst", n) for n in range(events)]
            records = wait_for_writes(stub, names, 4 * 3600)
            loads.append(load_average())
        fail_on(check_writes(records, names), "burst drain")
    finally:
        deployment.stop()
        stub.stop()
    shutil.rmtree(work, ignore_errors=True)

    intake_seconds = sent.ended - sent.started
    drain_seconds = max(r[0] for r in records) - sent.started
    print(
        f"\nburst of {events:,} events (load average at start / intake done / drained: "
        f"{' / '.join(loads)})"
    )
    print(
        f"  intake: {intake_seconds:.1f} s, {events / intake_seconds:.0f} deliveries/s "
        "(while the worker drains)"
    )
    print(
        f"  drained: {drain_seconds:.1f} s from the first delivery to the last ERP write, "
        f"{events / drain_seconds:.1f} syncs/s"
    )
    print(
        f"  peak RSS: serve {rss.peak_mib['serve']:.0f} MiB, "
        f"worker {rss.peak_mib['worker']:.0f} MiB (goal < 300 MB each)"
    )
    print("every delivery answered 2xx; every event's customer written to the ERP exactly once")


if __name__ == "__main__":
    main()
