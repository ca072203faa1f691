"""Webhook intake benchmark: signed deliveries durably accepted per second, and ack latency.

    python bench/intake.py [--seconds 15] [--connections 10,50]

Starts ``syncwright serve`` (one process, SQLite in WAL mode) and drives it with wrk from
pre-signed, distinct deliveries. Every answer must be a 2xx (a non-2xx answer or a failed
request - connect, read, write, timeout - fails the bench: the problems are printed instead of
figures, exit status 1), and after each run it counts the inbox rows: every 2xx must be a
durable row. It prints throughput, p50/p99 ack latency and the ratio to n8n's figures on the
same job (shared/bench-peer). Targets on 2 cores: >= 1,000 deliveries/s, p99 < 20 ms.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from _harness import (
    N8N_DEFAULT_RPS,
    N8N_FASTEST_RPS,
    Served,
    ensure_wrk,
    run_wrk,
    write_signed_requests,
)

from syncwright.config import load_settings
from syncwright.intake import Inbox
from syncwright.store import Database

SECRET = "whsec_bench_secret_0123456789"  # noqa: S105 - a throwaway secret for the bench


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--connections", default="10,50")
    args = parser.parse_args()
    wrk = ensure_wrk()

    with tempfile.TemporaryDirectory(prefix="syncwright-bench-") as tmp:
        work = Path(tmp)
        (work / "secret").write_text(SECRET)
        config = work / "syncwright.yaml"
        config.write_text(
            f"database:\n  url: sqlite:///{work / 'bench.db'}\n"
            "connections:\n  shop:\n    vendor: example\n"
            "    webhook:\n      secrets: ['file:secret']\n"
        )
        db = Database(load_settings(config).database.url)
        db.upgrade()
        inbox = Inbox(db)
        server = Served(config, work / "serve.log")
        rows = []
        try:
            # Warm-up (not reported): imports, connection pools, SQLite page cache.
            warm = work / "warm.tsv"
            write_signed_requests(warm, SECRET, 2_000, "warm")
            run_wrk(wrk, f"{server.url}/hooks/shop", warm, connections=10, seconds=2, workdir=work)
            for connections in (int(c) for c in args.connections.split(",")):
                before = inbox.count()
                requests = work / f"req{connections}.tsv"
                # Enough distinct events that no delivery in a run is a duplicate.
                write_signed_requests(requests, SECRET, 10_000 * args.seconds, f"c{connections}")
                result = run_wrk(
                    wrk,
                    f"{server.url}/hooks/shop",
                    requests,
                    connections=connections,
                    seconds=args.seconds,
                    workdir=work,
                )
                stored = inbox.count() - before
                rows.append((connections, result, stored))
        finally:
            server.stop()
            db.dispose()

    problems = []
    for connections, result, stored in rows:
        if result.non_2xx or result.errors:
            problems.append(
                f"{connections} connections: {result.non_2xx} answers not 2xx, "
                f"{result.errors} requests failed (connect, read, write or timeout)"
            )
        # wrk's count is of 2xx answers here (none other, checked above); a delivery answered
        # 2xx is stored. More rows than answers: requests still in flight when wrk stopped.
        if stored < result.requests:
            problems.append(
                f"{connections} connections: LOST DELIVERIES: {result.requests} answered 2xx, "
                f"{stored} stored"
            )
    if problems:
        print("\nwebhook intake: NO FIGURE, the run had problems:")
        for problem in problems:
            print(f"  - {problem}")
        raise SystemExit(1)

    print(
        "\nsyncwright webhook intake (signed, durably written to SQLite before the 2xx; every "
        "answer 2xx, every one stored)"
    )
    print(
        f"{'conns':>5} {'deliveries/s':>13} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'stored':>8} {'x n8n default':>14} {'x n8n fastest':>14}"
    )
    for connections, result, stored in rows:
        print(
            f"{connections:>5} {result.rps:>13.0f} {result.p50_ms:>8.2f} {result.p99_ms:>8.2f} "
            f"{stored:>8} "
            f"{result.rps / N8N_DEFAULT_RPS[1]:>13.0f}x {result.rps / N8N_FASTEST_RPS[1]:>13.0f}x"
        )
    print(
        f"\nn8n reference (shared/bench-peer, same job, 2 cores): {N8N_DEFAULT_RPS[0]:.0f}-"
        f"{N8N_DEFAULT_RPS[1]:.0f}/s default, {N8N_FASTEST_RPS[0]:.0f}-{N8N_FASTEST_RPS[1]:.0f}/s "
        "fastest; ratios use the upper figure. n8n answers after its ERP call; syncwright "
        "answers after a durable write and syncs afterwards (see bench/stripe_to_netsuite.py)."
    )


if __name__ == "__main__":
    main()
