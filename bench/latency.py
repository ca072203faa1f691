"""End-to-end latency at a sustainable rate: delivery accepted -> last ERP write done.

    python bench/latency.py [--quick] [--max-events 3000] [--seconds 60] [--share 0.8]

The peer job (bench/peer.py, bench/_e2e.py): ``syncwright serve`` + ``syncwright worker``
(SQLite, 16 workflow threads) writing each signed shop event's customer to the recording ERP
stub. First the maximum: a backlog of ``--max-events`` deliveries sent as fast as the intake
takes them, drained; completed syncs/s from the first delivery to the last write. Then
deliveries paced at ``--share`` (80 %) of that maximum for ``--seconds`` (an open loop: each
leaves on schedule, answered or not). An event's latency is the stub's receipt time of its
write minus the time syncwright's intake accepted it (``sw_inbox.received_at``, written in the
commit before the 2xx); both clocks are this machine's. Printed: p50, p99 and the maximum, and
the webhook answer (ack) times the sender saw. Every delivery must be answered 2xx and every
event's customer written exactly once, or the problems are printed instead (exit status 1).
``--quick``: 1,000 events for the maximum, 20 s paced.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa
from _e2e import (
    Stub,
    Syncwright,
    check_writes,
    customer_name,
    deliver_and_drain,
    fail_on,
    load_average,
    send,
    stop_on_sigterm,
    wait_for_writes,
    write_config,
)

from syncwright._time import as_utc
from syncwright.store.tables import inbox


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def accepted_at(deployment: Syncwright, prefix: str) -> dict[str, float]:
    """Event id -> unix time the intake accepted it, from the inbox."""
    query = sa.select(inbox.c.vendor_event_id, inbox.c.received_at).where(
        inbox.c.vendor_event_id.like(f"evt_{prefix}_%")
    )
    with deployment.db.engine.connect() as conn:
        return {row[0]: as_utc(row[1]).timestamp() for row in conn.execute(query)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--max-events", type=int)
    parser.add_argument("--seconds", type=float)
    parser.add_argument("--share", type=float, default=0.8)
    parser.add_argument("--connections", type=int, default=50)
    args = parser.parse_args()
    stop_on_sigterm()
    max_events = args.max_events or (1000 if args.quick else 3000)
    seconds = args.seconds or (20.0 if args.quick else 60.0)

    work = Path(tempfile.mkdtemp(prefix="syncwright-latency-"))
    stub = Stub(work / "stub.log")
    config = write_config(work, db_url=f"sqlite:///{work / 'sw.db'}", erp_url=stub.url)
    deployment = Syncwright(config, work)
    try:
        deployment.start_workers()
        warm = deliver_and_drain(
            deployment.hook_url, stub, "warm", 100, connections=args.connections, drain_timeout=300
        )
        fail_on(warm.problems, "warm-up")
        load_max = load_average()
        backlog = deliver_and_drain(
            deployment.hook_url,
            stub,
            "max",
            max_events,
            connections=args.connections,
            drain_timeout=3600,
        )
        fail_on(backlog.problems, "maximum")
        rate = args.share * backlog.rate
        count = int(rate * seconds)
        print(
            f"maximum {backlog.rate:.1f} syncs/s ({max_events} events, load {load_max}); "
            f"pacing {count} events at {rate:.1f}/s",
            flush=True,
        )
        load_paced = load_average()
        paced = send(deployment.hook_url, "paced", count, connections=args.connections, rate=rate)
        fail_on(paced.problems(), "paced run")
        names = [customer_name("paced", n) for n in range(count)]
        records = wait_for_writes(stub, names, 600)
        fail_on(check_writes(records, names), "paced run")
        accepted = accepted_at(deployment, "paced")
    finally:
        deployment.stop()
        stub.stop()
    written = {name: at for at, _, name in records}
    latencies = [
        (written[customer_name("paced", n)] - accepted[f"evt_paced_{n}"]) * 1000
        for n in range(count)
    ]
    acks = [(paced.answered_at[n] - (paced.started + n / rate)) * 1000 for n in range(count)]
    achieved = count / (max(written.values()) - paced.started)
    shutil.rmtree(work, ignore_errors=True)

    print(f"\nend-to-end latency at {args.share:.0%} of the maximum ({time.strftime('%Y-%m-%d')})")
    print(f"  offered {rate:.1f}/s, completed {achieved:.1f}/s, {count} events, load {load_paced}")
    print(
        f"  accepted -> ERP write: p50 {percentile(latencies, 0.5):.0f} ms, "
        f"p99 {percentile(latencies, 0.99):.0f} ms, max {max(latencies):.0f} ms, "
        f"mean {statistics.fmean(latencies):.0f} ms"
    )
    print(f"  webhook ack: p50 {percentile(acks, 0.5):.1f} ms, p99 {percentile(acks, 0.99):.1f} ms")
    if achieved < 0.95 * rate:
        print(
            f"  NOT SUSTAINED: completed {achieved:.1f}/s of {rate:.1f}/s offered, so a backlog "
            "grew and these latencies include waiting in it (the maximum was measured at "
            "another moment of a machine whose load changes)"
        )
    print("every delivery answered 2xx; every event's customer written to the ERP exactly once")


if __name__ == "__main__":
    main()
