"""Peer benchmark: syncwright and n8n on the identical job, in one run, every record checked.

    python bench/peer.py [--quick] [--events 6000] [--n8n-events 1200] [--connections 50]
                         [--skip-n8n]

The job (bench/peer/README.md): a signed shop webhook (``customer.updated``, the Stripe family
of signature) -> map the customer -> one write to the ERP stub per event. One stub
(bench/peer/erp_stub.py) serves the whole run and records every write.

1. syncwright: ``syncwright serve`` + ``syncwright worker`` (SQLite, 16 workflow threads),
   configured as a user would (bench/_e2e.py: two ``example`` connections, the ``erp`` one
   pointed at the stub; ``account.sync_to_erp`` writes each customer with one PUT).
2. n8n with its default settings, then 3. n8n with ``N8N_EXPRESSION_ENGINE=legacy`` (its
   fastest), both from the same workflow (bench/peer/workflow.json: webhook -> Set -> HTTP POST)
   installed by bench/peer/install_n8n.sh under ``$PEER_DIR`` (default ~/.cache/syncwright-peer).

Each side gets a warm-up (not measured), then ``--events`` deliveries as fast as it takes them
over ``--connections`` connections. The figure is completed syncs per second: events divided by
the time from the first delivery sent to the last ERP write the stub received. n8n answers after
its ERP call; syncwright answers after a durable write and syncs after, so its figure includes
draining the backlog its intake accepted. Peak RSS is sampled twice a second over each side's
processes together (n8n: its main process and task runner; syncwright: serve and worker).
Before any figure is printed every delivery must have been answered 2xx and every event's
customer written exactly once (no loss, no duplicate); otherwise the problems are printed and the
exit status is 1. ``--quick`` runs 1,500 / 300 events (a few minutes with n8n's start-ups).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
from _e2e import (
    HERE,
    PeakRss,
    Stub,
    Syncwright,
    WorkProbe,
    deliver_and_drain,
    event_body,
    fail_on,
    load_average,
    stop_on_sigterm,
    write_config,
)

from syncwright.sandbox._server import free_port

PEER_DIR = Path(os.environ.get("PEER_DIR", Path.home() / ".cache" / "syncwright-peer"))
N8N_BIN = PEER_DIR / "n8n" / "node_modules" / ".bin" / "n8n"
WARMUP_EVENTS = 100


@dataclass
class Side:
    label: str
    rate: float
    seconds: float
    events: int
    rss_mib: float
    load: str


class N8n:
    """n8n from bench/peer's environment (n8n_env.sh: loopback only, telemetry off, SQLite),
    with its own user folder under the bench's work directory."""

    def __init__(self, work: Path, stub_url: str) -> None:
        if not N8N_BIN.exists():
            raise SystemExit(
                f"n8n is not installed under {PEER_DIR}: run `bash bench/peer/install_n8n.sh` "
                "once (about 8 minutes), or pass --skip-n8n"
            )
        self._work = work
        self._home = work / "n8n-home"
        self._home.mkdir()
        self.port = free_port()
        self._broker = free_port()
        workflow = work / "workflow.json"
        workflow.write_text(
            (HERE / "peer" / "workflow.json")
            .read_text()
            .replace("http://127.0.0.1:18081", stub_url)
        )
        self._proc: subprocess.Popen[bytes] | None = None
        for command in (
            ["import:workflow", f"--input={workflow}"],
            ["publish:workflow", "--id=PeerShopSync01"],
        ):
            done = self._run(command, engine=None, wait=True)
            if done.returncode:
                raise SystemExit(f"n8n {command[0]} failed; see {work / 'n8n-cli.log'}")

    def _run(self, args: list[str], *, engine: str | None, wait: bool) -> subprocess.Popen[bytes]:
        env = {
            **os.environ,
            "PEER_DIR": str(PEER_DIR),
            "N8N_PORT": str(self.port),
            "N8N_RUNNERS_BROKER_PORT": str(self._broker),
        }
        env.pop("N8N_EXPRESSION_ENGINE", None)
        if engine:
            env["N8N_EXPRESSION_ENGINE"] = engine
        script = (
            f'source "{HERE / "peer" / "n8n_env.sh"}"; '
            f'export N8N_USER_FOLDER="{self._home}"; exec n8n "$@"'
        )
        log = (self._work / ("n8n-cli.log" if wait else f"n8n-{engine or 'default'}.log")).open("a")
        proc = subprocess.Popen(
            ["bash", "-c", script, "n8n", *args], env=env, stdout=log, stderr=subprocess.STDOUT
        )
        if wait:
            proc.wait(600)
        return proc

    @property
    def hook_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/webhook/shop"

    def start(self, engine: str | None, ready_prefix: str) -> None:
        self._proc = self._run(["start"], engine=engine, wait=False)
        deadline = time.monotonic() + 300
        with httpx.Client(timeout=30) as client:
            while True:
                if self._proc.poll() is not None:
                    raise SystemExit(f"n8n exited at start; see {self._work}/n8n-*.log")
                try:
                    answer = client.post(
                        self.hook_url,
                        content=event_body(ready_prefix, 0),
                        headers={"Content-Type": "application/json"},
                    )
                    if answer.status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise SystemExit("n8n's webhook never answered 200")
                time.sleep(0.5)

    @property
    def pid(self) -> int:
        assert self._proc is not None
        return self._proc.pid

    def stop(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(60)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        self._proc = None


def measure(
    label: str,
    url: str,
    stub: Stub,
    events: int,
    connections: int,
    rss: PeakRss,
    probe: WorkProbe | None = None,
) -> Side:
    prefix = label.replace(" ", "-").replace("(", "").replace(")", "").replace("=", "-")
    warm = deliver_and_drain(
        url, stub, f"{prefix}-warm", WARMUP_EVENTS, connections=connections, drain_timeout=300
    )
    fail_on(warm.problems, f"{label} warm-up")
    load = load_average()
    before = probe.snapshot() if probe else None
    drained = deliver_and_drain(
        url, stub, prefix, events, connections=connections, drain_timeout=3600
    )
    fail_on(drained.problems, label)
    work = WorkProbe.per_event(before, probe.snapshot(), events) if probe and before else None
    side = Side(label, drained.rate, drained.seconds, events, rss.peak_mib["side"], load)
    accepted = drained.sent.ended - drained.sent.started
    print(
        f"  {label}: {side.rate:.1f} syncs/s ({events} events in {side.seconds:.1f} s, all "
        f"answered in {accepted:.1f} s), peak RSS {side.rss_mib:.0f} MiB, load {load}",
        flush=True,
    )
    if work is not None:
        print(f"    {work.describe()}", flush=True)
    return side


def run_syncwright(work: Path, stub: Stub, events: int, connections: int) -> Side:
    metrics_port = free_port()
    config = write_config(
        work / "syncwright",
        db_url=f"sqlite:///{work / 'sw.db'}",
        erp_url=stub.url,
        worker_metrics_port=metrics_port,
    )
    deployment = Syncwright(config, work / "syncwright")
    try:
        deployment.start_workers()
        probe = WorkProbe(
            {"worker": deployment.worker_pids, "serve": deployment.serve_pids},
            [f"{deployment.served.url}/metrics", f"http://127.0.0.1:{metrics_port}/metrics"],
        )
        with PeakRss({"side": lambda: deployment.serve_pids() + deployment.worker_pids()}) as rss:
            return measure("syncwright", deployment.hook_url, stub, events, connections, rss, probe)
    finally:
        deployment.stop()


def run_n8n(n8n: N8n, engine: str | None, stub: Stub, events: int, connections: int) -> Side:
    label = f"n8n ({engine or 'default'})"
    n8n.start(engine, ready_prefix=f"ready-{engine or 'default'}")
    try:
        with PeakRss({"side": lambda: [n8n.pid]}) as rss:
            return measure(label, n8n.hook_url, stub, events, connections, rss)
    finally:
        n8n.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="1,500 / 300 events")
    parser.add_argument("--events", type=int, help="syncwright's events (default 6000)")
    parser.add_argument("--n8n-events", type=int, help="events per n8n run (default 1200)")
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--skip-n8n", action="store_true", help="syncwright alone, no ratios")
    args = parser.parse_args()
    stop_on_sigterm()
    events = args.events or (1500 if args.quick else 6000)
    n8n_events = args.n8n_events or (300 if args.quick else 1200)

    print(f"peer benchmark on {os.cpu_count()} cores, load average {load_average()}", flush=True)
    work = Path(tempfile.mkdtemp(prefix="syncwright-peer-"))
    stub = Stub(work / "stub.log")
    sides: list[Side] = []
    try:
        sides.append(run_syncwright(work, stub, events, args.connections))
        if not args.skip_n8n:
            n8n = N8n(work, stub.url)
            for engine in (None, "legacy"):
                sides.append(run_n8n(n8n, engine, stub, n8n_events, args.connections))
        bad = stub.stats()["bad"]
        fail_on([f"the stub refused {bad} malformed writes"] if bad else [], "peer")
    finally:
        stub.stop()
    shutil.rmtree(work, ignore_errors=True)

    print(
        f"\n{'side':<16} {'syncs/s':>9} {'events':>7} {'seconds':>8} {'peak RSS MiB':>13} "
        f"{'load':>5}"
    )
    for side in sides:
        print(
            f"{side.label:<16} {side.rate:>9.1f} {side.events:>7} {side.seconds:>8.1f} "
            f"{side.rss_mib:>13.0f} {side.load:>5}"
        )
    print("every delivery answered 2xx; every event's customer written to the ERP exactly once")
    ours = sides[0]
    for peer in sides[1:]:
        print(
            f"syncwright vs {peer.label}: {ours.rate / peer.rate:.1f}x the syncs/s, "
            f"{ours.rss_mib / peer.rss_mib:.2f} of the memory"
        )


if __name__ == "__main__":
    main()
