"""Stripe -> NetSuite drain benchmark: how fully syncwright keeps NetSuite's concurrency busy.

    python bench/stripe_to_netsuite.py [--events 10000] [--netsuite-latency-ms 100] [--limit 5]
                                       [--workers 16]

Topology as deployed: both vendor emulators run in this process, syncwright runs as its own
``syncwright worker`` process (engine, dispatcher, poller) on the same SQLite file. First,
with syncwright's intake served here and no worker running, ``drive_scenario`` creates
customers, subscriptions, upgrades, failed payments, credit notes and cancellations through the
Stripe SDK until about ``--events`` webhook deliveries sit in the inbox. The Stripe endpoint is
subscribed to the event types syncwright maps (``MAPPED_EVENT_TYPES``), as a production
endpoint would be, so every inbox row is an event syncwright syncs; the bench checks that each
one Stripe emitted is in the inbox, and that an events poll finds nothing more, before the
clock starts. Then NetSuite gets ``--netsuite-latency-ms`` on every request and an account
concurrency limit of ``--limit``, the worker starts, and the drain is timed from its
``worker.started`` line until no delivery is pending and no run is unfinished. A sampler
thread reads NetSuite's in-flight count every 5 ms (time-weighted share of the limit in use,
and its maximum); the emulator's exact integral (utilisation, goal >= 95 %) is printed beside
it, with the CPU the worker used and its database statements and write transactions per
event (read from the worker's own /metrics before and after the drain). NetSuite is then
compared with Stripe record by record (``compare``). Exit status 1 on a breach of the limit,
a comparison problem, or a delivery not synced.

Default latency, 100 ms. Real NetSuite REST calls take hundreds of milliseconds, so 100 ms is
a fast NetSuite. Each request also spends ~2.5 ms outside NetSuite's count while it holds one
of syncwright's slots (HTTP on both sides, loopback, reading the response): an ideal client
reaches at most latency / (latency + 2.5 ms) of the limit, ~97.5 % at 100 ms but ~91 % at
25 ms, whatever its speed. Shorter latencies are there to measure syncwright's own throughput
(1,000 events: ~85 % at 25 ms, ~92 % at 50 ms, ~96 % at 100 ms), and
``--netsuite-latency-ms 300 --events 500`` gives NetSuite-like timing.

The n8n figures (shared/bench-peer) are webhooks/s through map -> one ERP POST -> reply,
against a stub that answers at once with no concurrency limit. Here each event costs several
NetSuite requests, each taking the injected latency, at most ``--limit`` at a time; the ratios
compare synced events/s and ERP writes/s with n8n's completed webhook -> ERP POST per second.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from _harness import N8N_DEFAULT_RPS, N8N_FASTEST_RPS, Worker

from syncwright.config import load_settings
from syncwright.connectors.stripe.inbound import MAPPED_EVENT_TYPES
from syncwright.demo import stripe_netsuite
from syncwright.demo.billing_world import BillingWorld, start_billing_world
from syncwright.demo.stripe_netsuite import Comparison, Scenario, compare, drive_scenario
from syncwright.runtime import Runtime
from syncwright.sandbox import FaultPlan
from syncwright.sandbox._server import free_port

CHUNK_CUSTOMERS = 250  # customers per drive_scenario call (~4.5 synced events each)
SAMPLE_SECONDS = 0.005
NONCE_WINDOW_SECONDS = 15
POLL_SECONDS = 0.2  # drain-done check, and the queue depths reported
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

# DBOS's run table, counted with SQL: the runtime's own check (world.wait_settled ->
# Engine.unfinished) decodes the input of every queued run each 0.3 s, which with thousands
# queued takes a large share of the GIL from the system under test.
RUN_STATUSES = sa.text("SELECT status, count(*) FROM workflow_status GROUP BY status")


# -- measuring -----------------------------------------------------------------------------


class InFlightSampler:
    """Reads an in-flight count every ``period`` seconds from a thread: time-weighted mean
    (each reading holds until the next) and maximum."""

    def __init__(self, read: Callable[[], int], period: float = SAMPLE_SECONDS) -> None:
        self._read = read
        self._period = period
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="in-flight-sampler", daemon=True)
        self.area = 0.0  # integral of in-flight over time (request-seconds)
        self.elapsed = 0.0
        self.max = 0
        self.samples = 0

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        last = time.monotonic()
        value = self._read()
        started = last
        while not self._stop.wait(self._period):
            now = time.monotonic()
            self.area += value * (now - last)
            last = now
            value = self._read()
            self.max = max(self.max, value)
            self.samples += 1
        now = time.monotonic()
        self.area += value * (now - last)
        self.elapsed = now - started


class MethodCounter:
    """Counts the HTTP methods NetSuite's emulator admits. Its gate asks the fault injector
    once per authenticated request, so wrapping ``draw`` sees each request and changes nothing."""

    def __init__(self, world: BillingWorld) -> None:
        self.counts: Counter[str] = Counter()
        injector = world.netsuite_faults
        draw = injector.draw

        def counted(method: str) -> Any:
            self.counts[method.upper()] += 1
            return draw(method)

        injector.draw = counted  # type: ignore[method-assign]

    @property
    def writes(self) -> int:
        return sum(n for method, n in self.counts.items() if method in WRITE_METHODS)


def run_statuses(runtime: Runtime) -> dict[str, int]:
    with runtime.db.engine.connect() as conn:
        return {str(status): int(n) for status, n in conn.execute(RUN_STATUSES)}


@contextmanager
def never_active_once() -> Iterator[None]:
    """``compare`` re-lists the failed customers' subscriptions for every subscription it
    checks (subscriptions x failed customers Stripe calls: hours at 2,000 customers). The
    answer cannot change during one comparison, so it is computed once per scenario."""
    original = stripe_netsuite._never_active
    cache: dict[int, set[str]] = {}

    def once(world: BillingWorld, scenario: Scenario) -> set[str]:
        if id(scenario) not in cache:
            cache[id(scenario)] = original(world, scenario)
        return cache[id(scenario)]

    stripe_netsuite._never_active = once
    try:
        yield
    finally:
        stripe_netsuite._never_active = original


# -- the backlog ---------------------------------------------------------------------------


def synced_events_emitted(world: BillingWorld) -> int:
    return sum(1 for t in world.stripe_state.event_types() if t in MAPPED_EVENT_TYPES)


def drain_webhooks(world: BillingWorld, timeout: float = 300.0) -> None:
    deadline = time.monotonic() + timeout
    while not world.stripe_state.drain_webhooks(10):
        if time.monotonic() > deadline:
            raise SystemExit("Stripe webhooks did not drain into syncwright's inbox")


@contextmanager
def customers_on_a_test_clock(world: BillingWorld) -> Iterator[None]:
    """Every customer created meanwhile is attached to one Stripe test clock, left frozen.

    Before each API request the Stripe emulator lets wall-clock time pass for objects *not* on a
    test clock: it scans every subscription and, for each, every subscription item, which is
    O(subscriptions x items) per request, all of it GIL time taken from syncwright (it made the
    10,000-event backlog take 486 s instead of 82 s). Nothing falls due in a bench's minutes
    anyway (periods are monthly), and objects on a test clock are skipped by that scan after
    one lookup. What Stripe emits and syncwright syncs is otherwise unchanged.
    """
    clock = world.stripe.v1.test_helpers.test_clocks.create({"frozen_time": int(time.time())})
    service = world.stripe.v1.customers
    create = service.create

    def on_clock(params: dict[str, Any], options: Any = None) -> Any:
        return create({**params, "test_clock": clock.id}, options)

    service.create = on_clock  # type: ignore[method-assign, assignment]
    try:
        yield
    finally:
        service.create = create  # type: ignore[method-assign]


def build_backlog(world: BillingWorld, target: int) -> Scenario:
    """Drive Stripe in chunks until about ``target`` deliveries are pending in the inbox."""
    assert world.runtime is not None
    inbox = world.runtime.inbox
    scenario = Scenario()
    per_customer = 4.5
    chunk = 0
    with customers_on_a_test_clock(world):
        while (count := inbox.count()) < target * 0.99:
            customers = max(1, min(CHUNK_CUSTOMERS, round((target - count) / per_customer)))
            part = drive_scenario(world, customers, seed=7 + chunk)
            for f in dataclasses.fields(Scenario):
                getattr(scenario, f.name).extend(getattr(part, f.name))
            drain_webhooks(world)
            chunk += 1
            per_customer = max(1.0, inbox.count() / len(scenario.customers))
            print(f"  backlog: {inbox.count():>6} deliveries, {len(scenario.customers)} customers")
    return scenario


# -- the run -------------------------------------------------------------------------------


@dataclasses.dataclass
class Drain:
    events: int
    seconds: float
    runs: dict[str, int]
    requests: int
    methods: Counter[str]
    kinds: Counter[str]  # NetSuite's own count by method and record type (stats)
    writes: int
    utilisation_sampled: float
    utilisation_exact: float
    worker_cpu: float  # CPU seconds syncwright's worker process used during the drain
    db: dict[str, float]  # the worker's statements (read, write) and commits during the drain
    bench_cpu: float  # ... and this process: both emulators, the sampler, the bench loop
    max_in_flight: int
    samples: int
    breaches: int
    stats: dict[str, Any]
    open_exceptions: int
    not_dispatched: int
    mean_queued: float  # runs enqueued, waiting for a worker
    mean_running: float  # runs started and not finished


def time_drain(world: BillingWorld, runtime: Runtime, args: argparse.Namespace) -> Drain:
    """Start ``syncwright worker`` on the backlog and time it until nothing is left to run.

    ``runtime`` is this process's read-only view of the same database (inbox, run table,
    exceptions); the worker process does all the syncing."""
    netsuite, inbox = world.netsuite, runtime.inbox
    events = inbox.count("pending")
    netsuite.configure_faults(FaultPlan(latency_ms=args.netsuite_latency_ms))
    netsuite.set_concurrency_limit(args.limit)
    # The same counter stats()["in_flight"] reports, read without building the rest of stats().
    sampler = InFlightSampler(lambda: netsuite.governor.in_flight)
    metrics_port = free_port()
    config = world.workdir / "worker.yaml"  # the world's config, with the worker's /metrics on
    config.write_text(
        world.config_path.read_text() + f"\ntelemetry:\n  worker_metrics_port: {metrics_port}\n"
    )
    worker = Worker(config, world.workdir / "worker.log")
    try:
        counter = MethodCounter(world)
        before = netsuite.stats()
        requests_before = before["requests"]
        netsuite.governor.reset()
        sampler.start()
        db_before = worker.db_counts(metrics_port)
        started, worker_cpu, bench_cpu = time.monotonic(), worker.cpu_seconds(), time.process_time()
        stalled_since: float | None = None
        last_unfinished = -1
        polls = queued_sum = running_sum = 0
        while True:
            pending = inbox.count("pending")
            statuses = run_statuses(runtime)
            queued, running = statuses.get("ENQUEUED", 0), statuses.get("PENDING", 0)
            unfinished = queued + running
            if pending == 0 and unfinished == 0:
                break
            polls, queued_sum, running_sum = polls + 1, queued_sum + queued, running_sum + running
            now = time.monotonic()
            if now - started > args.timeout:
                raise SystemExit(f"drain did not finish in {args.timeout:.0f}s: {statuses}")
            # Parked runs wait for an operator: once nothing moves for 10 s, stop and report.
            if unfinished != last_unfinished or pending:
                stalled_since, last_unfinished = now, unfinished
            elif stalled_since and now - stalled_since > 10 and runtime.exceptions.count_open():
                break
            time.sleep(POLL_SECONDS)
        seconds = time.monotonic() - started
        worker_cpu = worker.cpu_seconds() - worker_cpu
        bench_cpu = time.process_time() - bench_cpu
        db_after = worker.db_counts(metrics_port)
        db = {k: db_after[k] - db_before.get(k, 0.0) for k in db_after}
        sampler.stop()
        stats = netsuite.stats()
    finally:
        worker.stop()
    limit = args.limit
    return Drain(
        events=events,
        seconds=seconds,
        runs=run_statuses(runtime),
        requests=stats["requests"] - requests_before,
        methods=Counter(counter.counts),
        kinds=Counter(stats["requests_by_kind"]) - Counter(before["requests_by_kind"]),
        writes=counter.writes,
        utilisation_sampled=sampler.area / (limit * sampler.elapsed) if sampler.elapsed else 0.0,
        utilisation_exact=float(stats["utilisation"]),
        worker_cpu=worker_cpu,
        db=db,
        bench_cpu=bench_cpu,
        max_in_flight=max(sampler.max, int(stats["max_in_flight_observed"])),
        samples=sampler.samples,
        breaches=int(stats["breaches"]),
        stats=stats,
        open_exceptions=runtime.exceptions.count_open(),
        not_dispatched=inbox.count() - inbox.count("dispatched"),
        mean_queued=queued_sum / max(polls, 1),
        mean_running=running_sum / max(polls, 1),
    )


def report(args: argparse.Namespace, drain: Drain, comparison: Comparison) -> list[str]:
    """Print the figures; return what failed."""
    latency = args.netsuite_latency_ms
    events_per_s = drain.events / drain.seconds
    requests_per_s = drain.requests / drain.seconds
    writes_per_s = drain.writes / drain.seconds
    ceiling = args.limit / (latency / 1000) if latency > 0 else float("inf")
    methods = ", ".join(f"{m} {n}" for m, n in sorted(drain.methods.items()))
    per = max(drain.events, 1)
    rows = [
        ("events in backlog (inbox rows)", f"{drain.events}"),
        ("workflow runs", ", ".join(f"{s} {n}" for s, n in sorted(drain.runs.items()))),
        ("drain seconds", f"{drain.seconds:.1f}"),
        ("synced events/s", f"{events_per_s:.1f}"),
        ("NetSuite requests", f"{drain.requests} ({methods})"),
        ("NetSuite requests/event", f"{drain.requests / max(drain.events, 1):.2f}"),
        ("NetSuite requests/s", f"{requests_per_s:.1f} (ceiling {ceiling:.0f} = limit/latency)"),
        ("NetSuite writes/s", f"{writes_per_s:.1f}"),
        (
            "utilisation of the limit",
            f"{drain.utilisation_sampled:.1%} sampled ({drain.samples} samples), "
            f"{drain.utilisation_exact:.1%} exact (goal >= 95 %)",
        ),
        (
            "CPU during the drain",
            f"syncwright worker {drain.worker_cpu / drain.seconds:.0%} of a core, emulators and "
            f"bench {drain.bench_cpu / drain.seconds:.0%} ({os.cpu_count()} cores)",
        ),
        (
            "worker per event",
            f"{drain.worker_cpu * 1000 / per:.1f} ms CPU, "
            f"{(drain.db['read'] + drain.db['write']) / per:.1f} database statements "
            f"({drain.db['write'] / per:.1f} writes), {drain.db['commits'] / per:.1f} write "
            f"transactions ({(drain.db['commits'] - drain.db['engine_commits']) / per:.1f} "
            f"syncwright's, {drain.db['engine_commits'] / per:.1f} DBOS's) "
            f"+ {drain.db['read_commits'] / per:.1f} read-only",
        ),
        (
            "  runs during the drain",
            f"{drain.mean_running:.1f} running of {args.workers} workers, "
            f"{drain.mean_queued:.1f} enqueued (means)",
        ),
        ("max in flight / limit", f"{drain.max_in_flight} / {args.limit}"),
        ("breaches (429 refused)", f"{drain.breaches} (goal 0)"),
        ("faults injected", f"{drain.stats['faults_injected']}"),
        ("open exceptions", f"{drain.open_exceptions}"),
        ("deliveries not dispatched", f"{drain.not_dispatched}"),
        ("records compared (amounts)", f"{comparison.amounts_checked}"),
        ("duplicates in NetSuite", f"{comparison.duplicates}"),
        ("comparison problems", f"{len(comparison.problems)} (must be 0)"),
    ]
    print(
        f"\nsyncwright Stripe -> NetSuite drain: NetSuite latency {latency:g} ms, "
        f"concurrency limit {args.limit}, {args.workers} workflow workers"
    )
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"  {name:<{width}}  {value}")
    print("\n  NetSuite requests by kind (per event)")
    for kind, n in drain.kinds.most_common():
        print(f"    {kind:<32} {n:>7}  {n / max(drain.events, 1):5.2f}")
    print(f"\n  {'records':<14} {'in Stripe':>10} {'in NetSuite':>12}")
    for what, (want, have) in comparison.counts.items():
        print(f"  {what:<14} {want:>10} {have:>12}")
    for problem in comparison.problems[:20]:
        print(f"  PROBLEM: {problem}")

    default, fastest = N8N_DEFAULT_RPS[1], N8N_FASTEST_RPS[1]
    print(
        f"\n  vs n8n (shared/bench-peer, 2 cores: {N8N_DEFAULT_RPS[0]:.0f}-{default:.0f} "
        f"webhooks/s default, {N8N_FASTEST_RPS[0]:.0f}-{fastest:.0f}/s fastest, each one ERP "
        "POST to a stub that answers at once, no concurrency limit; ratios use the upper figure)"
    )
    print(
        f"  synced events/s   {events_per_s:>7.1f}  = {events_per_s / default:5.1f}x default, "
        f"{events_per_s / fastest:5.2f}x fastest"
    )
    print(
        f"  ERP writes/s      {writes_per_s:>7.1f}  = {writes_per_s / default:5.1f}x default, "
        f"{writes_per_s / fastest:5.2f}x fastest"
    )
    print(
        f"  ERP requests/s    {requests_per_s:>7.1f}  = {requests_per_s / default:5.1f}x default, "
        f"{requests_per_s / fastest:5.2f}x fastest"
    )
    print(
        f"  Here each event costs {drain.requests / max(drain.events, 1):.1f} NetSuite requests "
        f"of {latency:g} ms, at most {args.limit} at once: no client can exceed "
        f"{ceiling:.0f} requests/s against this account. n8n's figures had neither cap."
    )

    failed = []
    if drain.breaches:
        failed.append(f"{drain.breaches} requests over NetSuite's concurrency limit")
    if drain.max_in_flight > args.limit:
        failed.append(f"{drain.max_in_flight} requests in flight, limit {args.limit}")
    if comparison.problems:
        failed.append(f"{len(comparison.problems)} comparison problems")
    if drain.not_dispatched or drain.open_exceptions:
        failed.append(
            f"{drain.not_dispatched} deliveries not dispatched, "
            f"{drain.open_exceptions} open exceptions"
        )
    unfinished = sum(n for s, n in drain.runs.items() if s != "SUCCESS")
    if unfinished:
        failed.append(f"{unfinished} workflow runs did not succeed: {drain.runs}")
    return failed


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=10_000, help="backlog size (about)")
    parser.add_argument("--netsuite-latency-ms", type=float, default=100.0)
    parser.add_argument("--limit", type=int, default=5, help="NetSuite concurrency limit")
    parser.add_argument("--workers", type=int, default=16, help="engine workflow workers")
    parser.add_argument("--timeout", type=float, default=3600.0, help="drain timeout, seconds")
    args = parser.parse_args()

    load = os.getloadavg()
    print(
        f"Stripe -> NetSuite drain bench: ~{args.events} events, NetSuite latency "
        f"{args.netsuite_latency_ms:g} ms, limit {args.limit}, {args.workers} workers; "
        f"{os.cpu_count()} CPUs, load average {load[0]:.2f}"
    )
    with tempfile.TemporaryDirectory(prefix="syncwright-bench-") as tmp:
        world = start_billing_world(
            Path(tmp) / "world",
            netsuite_concurrency=args.limit,
            workers=args.workers,
            ns_timeout=max(5.0, args.netsuite_latency_ms / 100),  # 10 x the latency
        )
        try:
            # The NetSuite emulator keeps each TBA nonce for twice its timestamp window and, once
            # it holds 10,000, rebuilds that store on every request: with the default 300 s
            # window, every request after the 10,000th copies tens of thousands of entries under
            # the GIL. A 15 s window (nonces kept 30 s) keeps replay protection whole (an older
            # timestamp is refused anyway) and the store under 10,000 up to ~300 requests/s.
            world.netsuite.verifier.timestamp_window = NONCE_WINDOW_SECONDS
            # Subscribe the endpoint to what syncwright maps, as a production endpoint would.
            for endpoint in world.stripe.v1.webhook_endpoints.list().data:
                world.stripe.v1.webhook_endpoints.update(
                    endpoint.id, {"enabled_events": list(MAPPED_EVENT_TYPES)}
                )
            runtime = world.start_syncwright(poll=False, dispatch=False)
            started = time.monotonic()
            scenario = build_backlog(world, args.events)
            emitted = synced_events_emitted(world)
            stored = runtime.inbox.count("pending")
            print(
                f"  backlog built in {time.monotonic() - started:.0f}s: Stripe emitted {emitted} "
                f"events syncwright maps, {stored} are pending in the inbox"
            )
            if stored != emitted or runtime.inbox.count() != stored:
                raise SystemExit(f"MISSING DELIVERIES: {emitted} emitted, {stored} pending")
            # One events poll, as the worker's poller would have made meanwhile: it must find
            # nothing the webhooks missed, and it leaves the cursor at Stripe's newest event.
            assert world.poller is not None
            missed = sum(r.accepted for r in world.poller.poll_all().values())
            if missed:
                raise SystemExit(f"MISSING DELIVERIES: the events poll found {missed} more")
            # The intake's work is done; syncwright's worker process takes it from here.
            world.stop_syncwright()
            world.runtime = runtime = Runtime(load_settings(world.config_path))

            print("  draining (syncwright worker process) ...", flush=True)
            drain = time_drain(world, runtime, args)
            with never_active_once():
                comparison = compare(world, scenario)
        finally:
            world.close()

    failed = report(args, drain, comparison)
    load = os.getloadavg()
    print(f"\n  load average after the run: {load[0]:.2f} (1 min), {load[1]:.2f} (5 min)")
    if failed:
        raise SystemExit("FAILED: " + "; ".join(failed))


if __name__ == "__main__":
    main()
