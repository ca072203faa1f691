"""Shared bench plumbing: wrk, served and worker syncwright processes, signed example deliveries."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from syncwright.connectors.example.signature import sign
from syncwright.sandbox._server import free_port

# n8n on the same job and machine class (shared/bench-peer/README.md, November 2026):
# completed requests/s with default settings, and with its fastest (legacy) expression engine.
N8N_DEFAULT_RPS = (10.0, 15.0)
N8N_FASTEST_RPS = (34.0, 41.0)


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    print("installing wrk from Debian's packages ...", flush=True)
    subprocess.run(["apt-get", "update", "-qq"], check=True)
    subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True)
    found = shutil.which("wrk")
    if not found:
        raise SystemExit("wrk is required: apt-get install wrk")
    return found


def write_signed_requests(path: Path, secret: str, count: int, prefix: str) -> None:
    """One request a line: signature TAB body. Signed now; valid for the 300 s tolerance."""
    now = int(time.time())
    with path.open("w") as out:
        for n in range(count):
            body = json.dumps(
                {
                    "id": f"{prefix}_{n}",
                    "type": "customer.updated",
                    "data": {
                        "customer": {
                            "id": f"cust_{n % 5000}",
                            "name": f"Customer {n % 5000}",
                            "email": f"c{n % 5000}@example.com",
                            "currency": "USD",
                            "subsidiary": "US",
                        }
                    },
                },
                separators=(",", ":"),
            ).encode()
            out.write(f"{sign(body, secret, now)}\t{body.decode()}\n")


LUA = r"""
local lines = {}
local i = 0
function init(args)
  for line in io.lines(args[1]) do
    local tab = string.find(line, "\t", 1, true)
    lines[#lines + 1] = {string.sub(line, 1, tab - 1), string.sub(line, tab + 1)}
  end
end
function request()
  i = i + 1
  local item = lines[((i - 1) % #lines) + 1]
  local headers = {}
  headers["Content-Type"] = "application/json"
  headers["X-Example-Signature"] = item[1]
  return wrk.format("POST", nil, headers, item[2])
end
"""


@dataclass
class WrkResult:
    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p99_ms: float
    non_2xx: int
    errors: int


def _ms(value: str) -> float:
    """wrk prints durations as 812.00us, 7.19ms, 1.02s or 2.00m."""
    found = re.match(r"([\d.]+)(us|ms|s|m)$", value.strip())
    if found is None:
        return float("nan")  # wrk prints e.g. "-nan" when a bucket is empty
    number, unit = found.groups()
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}[unit]


def run_wrk(
    wrk: str, url: str, requests_file: Path, *, connections: int, seconds: int, workdir: Path
) -> WrkResult:
    script = workdir / "signed.lua"
    script.write_text(LUA)
    done = subprocess.run(
        [
            wrk,
            "-t1",
            f"-c{connections}",
            f"-d{seconds}s",
            "--latency",
            "-s",
            str(script),
            url,
            "--",
            str(requests_file),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    out = done.stdout
    total = re.search(r"(\d+) requests in ([\d.]+)(s|m)", out)
    assert total, out
    seconds_taken = float(total.group(2)) * (60 if total.group(3) == "m" else 1)
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return WrkResult(
        requests=int(total.group(1)),
        seconds=seconds_taken,
        rps=float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore[union-attr]
        p50_ms=_ms(re.search(r"50%\s+(\S+)", out).group(1)),  # type: ignore[union-attr]
        p99_ms=_ms(re.search(r"99%\s+(\S+)", out).group(1)),  # type: ignore[union-attr]
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
        errors=sum(int(g) for g in errors.groups()) if errors else 0,
    )


class LoopbackProcess:
    """A process of the bench serving HTTP on ``port`` of 127.0.0.1."""

    port: int
    _proc: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        return self._proc.pid


class Served(LoopbackProcess):
    """``syncwright serve`` in its own process, on a free loopback port."""

    def __init__(self, config: Path, log: Path) -> None:
        self.port = free_port()
        self._proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "syncwright",
                "serve",
                "--config",
                str(config),
                "--port",
                str(self.port),
            ],
            stdout=log.open("w"),
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 120  # a loaded machine imports slowly
        while True:
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or self._proc.poll() is not None:
                self.stop()
                raise SystemExit(f"syncwright serve did not start; see {log}")
            time.sleep(0.2)

    def stop(self) -> None:
        self._proc.terminate()
        self._proc.wait(30)


class Worker:
    """``syncwright worker`` in its own process, as deployed: engine, dispatcher and poller.

    Started when the bench says so, ready once it prints its ``worker.started`` line; its CPU
    time is read from /proc, so a bench can tell whether syncwright had a core to spare."""

    def __init__(self, config: Path, log: Path) -> None:
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "syncwright", "worker", "--config", str(config), "--json"],
            stdout=subprocess.PIPE,
            stderr=log.open("w"),
            text=True,
        )
        assert self._proc.stdout is not None
        # The worker prints this line once its engine and dispatcher run, or exits on an error.
        if not any('"worker.started"' in line for line in self._proc.stdout):
            raise SystemExit(f"syncwright worker exited before it started; see {log}")
        # Keep reading what it prints later, so a full pipe can never block it.
        threading.Thread(target=self._proc.stdout.read, name="worker-stdout", daemon=True).start()

    @property
    def pid(self) -> int:
        return self._proc.pid

    def cpu_seconds(self) -> float:
        """User + system CPU time the worker has used so far (Linux /proc)."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks = int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
        return ticks / os.sysconf("SC_CLK_TCK")

    def stop(self, timeout: float = 60.0) -> None:
        """SIGTERM: the worker lets running steps finish, then exits."""
        if self._proc.poll() is None:
            self._proc.send_signal(signal.SIGTERM)
            try:
                self._proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
