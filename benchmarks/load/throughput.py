"""Requests per second of the app's endpoints against the bare yardstick, under gunicorn.

Both run in the same gunicorn, on the same database, alternately, in the same
run, so the ratio is fair however fast or slow the machine is.
"""

from __future__ import annotations

import http.client
import itertools
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from async_image_upload.local.s3 import LOCAL_CREDENTIALS

ROOT = Path(__file__).resolve().parents[2]
#: (path, body, headers) for the n-th request.
RequestFactory = Callable[[int], tuple[str, bytes, dict[str, str]]]


@dataclass(frozen=True)
class Throughput:
    requests: int
    errors: int
    seconds: float
    latency_ms_p50: float

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds


def start_gunicorn(port: int, workers: int, database_url: str) -> subprocess.Popen[bytes]:
    """gunicorn's sync workers, one per core: the textbook deployment."""
    env = {
        **os.environ,
        # The endpoints only sign forms; these never reach AWS (nothing is uploaded).
        **LOCAL_CREDENTIALS,
        "DJANGO_SETTINGS_MODULE": "benchmarks.load.settings",
        "DATABASE_URL": database_url,
        "PYTHONPATH": str(ROOT),
    }
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and fixed arguments
        [
            sys.executable, "-m", "gunicorn", "benchmarks.load.wsgi:application",
            "--bind", f"127.0.0.1:{port}", "--workers", str(workers), "--log-level", "warning",
        ],
        cwd=ROOT,
        env=env,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return process
        if process.poll() is not None:
            raise RuntimeError("gunicorn exited at start")
        time.sleep(0.2)
    stop(process)
    raise RuntimeError("gunicorn did not start listening within 30 s")


def process_tree(pid: int) -> list[int]:
    """``pid`` and its children (gunicorn's master and workers), from /proc."""
    pids = [pid]
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return pids
    return pids + [int(child) for child in children]


def cpu_seconds(pids: list[int]) -> float | None:
    """User + system CPU time of ``pids`` so far; None where /proc is missing (not Linux).

    Throughput on a shared 2-core box swings with whatever else runs, the
    load-generating client included; CPU time spent by the server per request
    does not, so the benchmark reports both.
    """
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            if not Path("/proc/self/stat").exists():
                return None
            continue  # the process ended; its time is gone either way
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / tick


def stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def hammer(
    port: int,
    make_request: RequestFactory,
    *,
    duration_s: float,
    max_requests: int,
    threads: int,
    expect: int,
) -> Throughput:
    """Closed loop: ``threads`` clients send back to back until time or requests run out."""
    counter = itertools.count()
    lock = threading.Lock()
    latencies: list[float] = []
    errors = [0]
    deadline = time.monotonic() + duration_s

    def client() -> None:
        while time.monotonic() < deadline:
            with lock:
                n = next(counter)
            if n >= max_requests:
                return
            path, body, headers = make_request(n)
            started = time.perf_counter()
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            try:
                connection.request("POST", path, body=body, headers=headers)
                response = connection.getresponse()
                response.read()
                ok = response.status == expect
            except OSError:
                ok = False
            finally:
                connection.close()
            with lock:
                latencies.append((time.perf_counter() - started) * 1000)
                errors[0] += 0 if ok else 1

    started = time.perf_counter()
    workers = [threading.Thread(target=client) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    elapsed = time.perf_counter() - started
    return Throughput(
        requests=len(latencies),
        errors=errors[0],
        seconds=elapsed,
        latency_ms_p50=statistics.median(latencies) if latencies else float("nan"),
    )
