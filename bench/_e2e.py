"""End-to-end bench plumbing: the recording ERP stub, a syncwright deployment that writes to it,
signed deliveries sent and counted, memory sampled, every record checked.

The job is the n8n peer's (bench/peer/README.md): a signed shop webhook -> map -> one write to
the ERP per event. syncwright does it as a user configures it: the built-in ``example`` vendor
twice, a ``shop`` connection that takes the signed webhooks and an ``erp`` connection (role
``erp``) whose ``base_url`` is the stub; the ``account.sync_to_erp`` workflow writes each
customer with one ``PUT /api/customers/{id}``. Nothing here is a code path of the runtime.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from _harness import LoopbackProcess, Served, Worker

from syncwright.config import load_settings
from syncwright.connectors.example.signature import sign
from syncwright.sandbox._server import free_port
from syncwright.store import Database

HERE = Path(__file__).resolve().parent
SECRET = "whsec_bench_secret_0123456789"  # noqa: S105 - a throwaway secret for the bench
ERP_TOKEN = "bench-erp-token"  # noqa: S105 - the stub accepts any token
PAGE = os.sysconf("SC_PAGE_SIZE")


def _exit_on_sigterm(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def stop_on_sigterm() -> None:
    """A bench stopped with SIGTERM still stops what it started (its ``finally`` blocks run):
    the stub, serve, workers, n8n, PostgreSQL. Called by each bench's ``main``."""
    signal.signal(signal.SIGTERM, _exit_on_sigterm)


def load_average() -> str:
    """The 1-minute load average (the machine is shared: every figure is printed beside it)."""
    return Path("/proc/loadavg").read_text().split()[0]


# -- the ERP stub ---------------------------------------------------------------------------


class Stub(LoopbackProcess):
    """bench/peer/erp_stub.py in its own process on a free loopback port."""

    def __init__(self, log: Path, latency_ms: float = 0.0) -> None:
        self.port = free_port()
        self._proc = subprocess.Popen(
            [
                sys.executable,
                str(HERE / "peer" / "erp_stub.py"),
                str(self.port),
                "--latency-ms",
                str(latency_ms),
            ],
            stdout=log.open("w"),
            stderr=subprocess.STDOUT,
        )
        self._http = httpx.Client(base_url=self.url, timeout=30)
        self._seen = 0
        self.records: list[tuple[float, str, str]] = []
        poll_until(lambda: self._healthy(), 120, "the ERP stub to answer")

    def _healthy(self) -> bool:
        if self._proc.poll() is not None:
            raise SystemExit("the ERP stub exited at start")
        try:
            return self._http.get("/health").status_code == 200
        except httpx.TransportError:
            return False

    def stats(self) -> dict[str, int]:
        stats: dict[str, int] = self._http.get("/stats").json()
        return stats

    def fetch(self) -> list[tuple[float, str, str]]:
        """Every write recorded so far, as (receipt unix time, api, name)."""
        page = self._http.get("/records", params={"since": self._seen}).json()
        self.records.extend(tuple(r) for r in page["records"])
        self._seen = page["next"]
        return self.records

    def stop(self) -> None:
        self._http.close()
        self._proc.terminate()
        self._proc.wait(10)


def check_writes(records: Iterable[tuple[float, str, str]], names: list[str]) -> list[str]:
    """Problems (empty when none): every event's customer written exactly once, nothing else."""
    counts = Counter(name for _, _, name in records)
    wanted = set(names)
    missing = [n for n in names if counts[n] == 0]
    twice = [n for n in names if counts[n] > 1]
    foreign = [n for n in counts if n not in wanted]
    problems = []
    if missing:
        problems.append(f"{len(missing)} events never written to the ERP (e.g. {missing[:3]})")
    if twice:
        problems.append(f"{len(twice)} events written more than once (e.g. {twice[:3]})")
    if foreign:
        problems.append(f"{len(foreign)} unexpected records (e.g. {foreign[:3]})")
    return problems


def wait_for_writes(stub: Stub, names: list[str], timeout: float) -> list[tuple[float, str, str]]:
    """Polls the stub until every name is written (or ``timeout`` seconds pass); the records
    of these names, in receipt order. Reads only what is new at each poll."""
    wanted = set(names)
    mine: list[tuple[float, str, str]] = []
    seen: set[str] = set()
    read = 0
    pause = 0.25 if len(wanted) < 10_000 else 2.0
    started = time.monotonic()
    deadline, report = started + timeout, started + 30
    while True:
        records = stub.fetch()
        for record in records[read:]:
            if record[2] in wanted:
                mine.append(record)
                seen.add(record[2])
        read = len(records)
        now = time.monotonic()
        if len(seen) >= len(wanted) or now > deadline:
            return mine
        if now > report:  # a long drain says how far it is
            print(
                f"    {len(seen)} of {len(wanted)} written after {now - started:.0f} s "
                f"(load {load_average()})",
                flush=True,
            )
            report = now + 30
        time.sleep(pause)


def poll_until(ready: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.1)


# -- events ---------------------------------------------------------------------------------


def event_body(prefix: str, n: int) -> bytes:
    """One shop ``customer.updated`` event; every event names a customer of its own."""
    return json.dumps(
        {
            "id": f"evt_{prefix}_{n}",
            "type": "customer.updated",
            "data": {
                "customer": {
                    "id": f"cus_{prefix}_{n}",
                    "name": customer_name(prefix, n),
                    "email": f"ap{n}@{prefix}.example",
                    "currency": "USD",
                    "subsidiary": "US",
                }
            },
        },
        separators=(",", ":"),
    ).encode()


def customer_name(prefix: str, n: int) -> str:
    return f"{prefix} customer {n}"


@dataclass
class Sent:
    """What a sender saw: answers by status, failures, and when each delivery was answered."""

    count: int
    started: float = 0.0  # unix time of the first request
    ended: float = 0.0  # unix time of the last answer
    statuses: Counter[int] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    answered_at: dict[int, float] = field(default_factory=dict)  # event n -> unix time of 2xx

    @property
    def ok(self) -> int:
        return sum(n for status, n in self.statuses.items() if 200 <= status < 300)

    def problems(self) -> list[str]:
        bad = {s: n for s, n in self.statuses.items() if not 200 <= s < 300}
        found = []
        if bad:
            found.append(f"non-2xx answers: {bad}")
        if self.errors:
            found.append(f"{len(self.errors)} requests failed (e.g. {self.errors[:2]})")
        if self.ok != self.count:
            found.append(f"{self.ok} of {self.count} deliveries answered 2xx")
        return found


def send(
    url: str,
    prefix: str,
    count: int,
    *,
    connections: int,
    rate: float | None = None,
    timeout: float = 120.0,
) -> Sent:
    """POSTs ``count`` signed events to ``url`` over ``connections`` keep-alive connections,
    as fast as they are answered, or paced at ``rate`` per second (an open loop: a delivery
    leaves on schedule whether or not earlier ones were answered)."""
    return asyncio.run(_send(url, prefix, count, connections, rate, timeout))


async def _send(
    url: str, prefix: str, count: int, connections: int, rate: float | None, timeout: float
) -> Sent:
    sent = Sent(count)
    # An idle connection is dropped after 1 s, before the server's keep-alive timeout (uvicorn's
    # and node's are 5 s): otherwise a request sent as the server closes it fails (ReadError).
    limits = httpx.Limits(
        max_connections=connections, max_keepalive_connections=connections, keepalive_expiry=1.0
    )
    async with httpx.AsyncClient(limits=limits, timeout=timeout) as client:

        async def one(n: int) -> None:
            body = event_body(prefix, n)
            headers = {
                "Content-Type": "application/json",
                "X-Example-Signature": sign(body, SECRET),
            }
            try:
                response = await client.post(url, content=body, headers=headers)
            except httpx.HTTPError as exc:
                sent.errors.append(f"{type(exc).__name__}: {exc}")
                return
            sent.statuses[response.status_code] += 1
            if 200 <= response.status_code < 300:
                sent.answered_at[n] = time.time()

        sent.started = time.time()
        if rate is None:
            numbers = iter(range(count))

            async def connection() -> None:  # one keep-alive connection's sequence of requests
                for n in numbers:
                    await one(n)

            await asyncio.gather(*(connection() for _ in range(connections)))
        else:
            tasks = []
            origin = time.monotonic()
            for n in range(count):
                delay = origin + n / rate - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                tasks.append(asyncio.create_task(one(n)))
            await asyncio.gather(*tasks)
        sent.ended = time.time()
    return sent


# -- memory ---------------------------------------------------------------------------------


def _process_table() -> dict[int, tuple[int, int]]:
    """pid -> (parent pid, resident bytes) of every process (Linux /proc)."""
    table = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        table[int(entry)] = (int(fields[1]), int(fields[21]) * PAGE)
    return table


def tree_rss(roots: Iterable[int]) -> int:
    """Resident bytes of ``roots`` and all their descendants together."""
    table = _process_table()
    members, frontier = set(), [r for r in roots if r in table]
    while frontier:
        pid = frontier.pop()
        if pid in members:
            continue
        members.add(pid)
        frontier.extend(child for child, (parent, _) in table.items() if parent == pid)
    return sum(table[pid][1] for pid in members)


class PeakRss:
    """Samples the resident memory of process trees twice a second in a thread; the peak of
    each named group (each group's processes summed at the same instant)."""

    def __init__(self, groups: dict[str, Callable[[], list[int]]]) -> None:
        self._groups = groups
        self.peak_mib = dict.fromkeys(groups, 0.0)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *_: Any) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while True:
            for name, pids in self._groups.items():
                mib = tree_rss(pids()) / 2**20
                self.peak_mib[name] = max(self.peak_mib[name], mib)
            if self._stop.wait(0.5):
                return


# -- CPU and database work per event ---------------------------------------------------------

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
_DB_SERIES = {
    'syncwright_db_statements_total{kind="read"}': "reads",
    'syncwright_db_statements_total{kind="write"}': "writes",
    'syncwright_db_commits_total{kind="write",tables="syncwright"}': "our_commits",
    'syncwright_db_commits_total{kind="write",tables="engine"}': "engine_commits",
}


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds the process has used so far (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def db_counts(metrics_url: str) -> dict[str, float]:
    """A process's database statements and write transactions so far, from its /metrics."""
    counts = dict.fromkeys(_DB_SERIES.values(), 0.0)
    for line in httpx.get(metrics_url, timeout=10).text.splitlines():
        series, _, value = line.rpartition(" ")
        if series in _DB_SERIES:
            counts[_DB_SERIES[series]] += float(value)
    return counts


@dataclass
class WorkPerEvent:
    """What one process group spent per event between two snapshots."""

    cpu_ms: dict[str, float]  # group -> CPU milliseconds per event
    db: dict[str, float]  # reads, writes, our_commits, engine_commits per event (all processes)

    def describe(self) -> str:
        cpu = ", ".join(f"{name} {ms:.1f}" for name, ms in self.cpu_ms.items())
        statements = self.db["reads"] + self.db["writes"]
        return (
            f"CPU ms/event: {cpu}; database per event: {statements:.1f} statements "
            f"({self.db['writes']:.1f} writes), "
            f"{self.db['our_commits'] + self.db['engine_commits']:.1f} write transactions "
            f"({self.db['our_commits']:.1f} syncwright's, {self.db['engine_commits']:.1f} DBOS's)"
        )


class WorkProbe:
    """Snapshots CPU seconds of process groups and database counts of /metrics endpoints; the
    difference of two snapshots divided by the events processed in between."""

    def __init__(self, groups: dict[str, Callable[[], list[int]]], metrics: list[str]) -> None:
        self._groups = groups
        self._metrics = metrics

    def snapshot(self) -> tuple[dict[str, float], dict[str, float]]:
        cpu = {name: sum(cpu_seconds(p) for p in pids()) for name, pids in self._groups.items()}
        db = dict.fromkeys(_DB_SERIES.values(), 0.0)
        for url in self._metrics:
            for key, value in db_counts(url).items():
                db[key] += value
        return cpu, db

    @staticmethod
    def per_event(
        before: tuple[dict[str, float], dict[str, float]],
        after: tuple[dict[str, float], dict[str, float]],
        events: int,
    ) -> WorkPerEvent:
        cpu = {name: (after[0][name] - before[0][name]) * 1000 / events for name in after[0]}
        db = {key: (after[1][key] - before[1][key]) / events for key in after[1]}
        return WorkPerEvent(cpu, db)


# -- a syncwright deployment writing to the stub -------------------------------------------


def write_config(
    work: Path,
    *,
    db_url: str,
    erp_url: str,
    workers: int = 16,
    executor_id: str = "bench",
    erp_limits: str = "",
    worker_metrics_port: int | None = None,
) -> Path:
    """What a user writes for this job: a shop sending signed webhooks, an ERP to write to.
    ``erp_limits``: lines under ``connections.erp.limits`` (each indented six spaces);
    ``worker_metrics_port``: the worker's own /metrics (the bench reads its statement counts)."""
    telemetry = (
        ""
        if worker_metrics_port is None
        else f"telemetry:\n  worker_metrics_port: {worker_metrics_port}\n"
    )
    work.mkdir(parents=True, exist_ok=True)
    (work / "shop_secret").write_text(SECRET)
    (work / "erp_token").write_text(ERP_TOKEN)
    config = work / "syncwright.yaml"
    config.write_text(
        f"""\
database:
  url: {db_url}
engine:
  workers: {workers}
  executor_id: {executor_id}
connections:
  shop:
    vendor: example
    webhook:
      secrets: ["file:shop_secret"]
  erp:
    vendor: example
    base_url: {erp_url}
    credentials:
      token: "file:erp_token"
    limits:
      timeout_seconds: 30
{erp_limits}    options:
      role: erp
{telemetry}"""
    )
    return config


@dataclass
class Drain:
    """Events sent and the ERP writes they became: the figures, or the problems instead."""

    sent: Sent
    records: list[tuple[float, str, str]]
    problems: list[str]

    @property
    def seconds(self) -> float:
        """From the first delivery sent to the last ERP write received."""
        return max(r[0] for r in self.records) - self.sent.started

    @property
    def rate(self) -> float:
        return self.sent.count / self.seconds


def deliver_and_drain(
    url: str, stub: Stub, prefix: str, count: int, *, connections: int, drain_timeout: float
) -> Drain:
    """Sends ``count`` events as fast as ``url`` takes them, waits for their ERP writes and
    checks every one: all answered 2xx, each event's customer written exactly once."""
    sent = send(url, prefix, count, connections=connections)
    names = [customer_name(prefix, n) for n in range(count)]
    records = wait_for_writes(stub, names, drain_timeout) if not sent.problems() else []
    return Drain(sent, records, sent.problems() or check_writes(records, names))


class Syncwright:
    """``syncwright serve`` and ``syncwright worker`` processes of one deployment: the database
    migrated, then the server, then one worker per config (each its own ``executor_id``)."""

    def __init__(self, config: Path, work: Path, worker_configs: list[Path] | None = None) -> None:
        self.db = Database(load_settings(config).database.url)
        self.db.upgrade()
        self.served = Served(config, work / "serve.log")
        self.workers: list[Worker] = []
        self._worker_configs = worker_configs or [config]
        self._work = work

    def start_workers(self) -> None:
        """Starts every worker at once; returns when all of them run (or one failed to)."""
        failed: list[BaseException] = []

        def start(n: int, config: Path) -> None:
            try:
                self.workers.append(Worker(config, self._work / f"worker{n}.log"))
            except BaseException as exc:  # SystemExit from a worker that did not start
                failed.append(exc)

        starters = [
            threading.Thread(target=start, args=(n, config))
            for n, config in enumerate(self._worker_configs)
        ]
        for starter in starters:
            starter.start()
        for starter in starters:
            starter.join()
        if failed:
            raise failed[0]

    @property
    def hook_url(self) -> str:
        return f"{self.served.url}/hooks/shop"

    def serve_pids(self) -> list[int]:
        return [self.served.pid]

    def worker_pids(self) -> list[int]:
        return [w.pid for w in self.workers]

    def stop(self) -> None:
        for worker in self.workers:
            worker.stop()
        self.served.stop()
        self.db.dispose()


def fail_on(problems: list[str], what: str) -> None:
    """A bench prints its errors instead of a figure, and exits non-zero."""
    if problems:
        print(f"\n{what}: NO FIGURE, the run had problems:")
        for problem in problems:
            print(f"  - {problem}")
        raise SystemExit(1)
