"""Processes: the two servers under test (registryd and the no-op server) and the load-client workers.

Servers and clients are always separate processes on 127.0.0.1. Every process gets the hard file
descriptor limit as its soft limit, because the stream scenarios hold thousands of connections.
"""

from __future__ import annotations

import multiprocessing
import os
import queue
import resource
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


def raise_fd_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def cpu_seconds(pid: int) -> float:
    """User + system CPU time process `pid` has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


@dataclass
class ServerProcess:
    """A server under test: registryd (`kind="registryd"`) or the no-op server (`kind="noop"`)."""

    kind: str
    proc: subprocess.Popen[bytes]
    address: str
    log_path: Path

    @property
    def pid(self) -> int:
        return self.proc.pid

    def rss_bytes(self) -> int:
        pages = Path(f"/proc/{self.pid}/statm").read_text().split()[1]
        return int(pages) * PAGE_SIZE

    def cpu_seconds(self) -> float:
        """User + system CPU time the server has used so far."""
        return cpu_seconds(self.pid)

    def stop(self, timeout: float = 15.0) -> float:
        """SIGTERM and wait; returns the seconds it took to exit (kills it after `timeout`)."""
        started = time.monotonic()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        return time.monotonic() - started

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def start_server(
    kind: str,
    workdir: Path,
    args: list[str] | None = None,
    module: str = "",
    listen: str = "127.0.0.1:0",
    env: dict[str, str] | None = None,
    timeout: float = 300.0,
) -> ServerProcess:
    """Start a server on a free loopback port and wait until it has written its ready file."""
    workdir.mkdir(parents=True, exist_ok=True)
    stamp = time.monotonic_ns()
    ready = workdir / f"{kind}-{stamp}.ready"
    log_path = workdir / f"{kind}-{stamp}.log"
    module = module or ("registryd" if kind == "registryd" else "bench.noop.server")
    command = [
        sys.executable,
        "-m",
        module,
        "--listen",
        listen,
        "--ready-file",
        str(ready),
        *(args or []),
    ]
    raise_fd_limit()  # inherited; not in a preexec_fn, which is unsafe once gRPC's threads run here
    with log_path.open("wb") as log_file:
        proc = subprocess.Popen(
            command,
            cwd=ROOT,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {})},
        )
    deadline = time.monotonic() + timeout
    while not ready.exists() or not ready.read_text():
        if proc.poll() is not None:
            raise RuntimeError(f"{kind} exited with {proc.returncode}:\n{log_path.read_text()}")
        if time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"{kind} did not become ready in {timeout} s:\n{log_path.read_text()}")
        time.sleep(0.01)
    return ServerProcess(kind, proc, ready.read_text(), log_path)


def registryd_options() -> str:
    """registryd's --help text, to tell which optional features (e.g. --store) this checkout has."""
    result = subprocess.run(
        [sys.executable, "-m", "registryd", "--help"], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    return result.stdout


def _worker_main(fn: Callable[..., Any], args: tuple[Any, ...], results: Any) -> None:
    raise_fd_limit()
    try:
        results.put(("ok", fn(*args)))
    except BaseException as error:
        results.put(("error", f"{type(error).__name__}: {error}"))
        raise


def run_workers(fn: Callable[..., Any], arg_sets: list[tuple[Any, ...]], timeout: float) -> list[Any]:
    """Run `fn(*args)` in one spawned process per arg set and return their results, in any order.

    `fn` must be a module-level function; each worker runs its own event loop."""
    ctx = multiprocessing.get_context("spawn")
    results = ctx.Queue()
    procs = [ctx.Process(target=_worker_main, args=(fn, args, results), daemon=True) for args in arg_sets]
    for proc in procs:
        proc.start()
    collected: list[Any] = []
    deadline = time.monotonic() + timeout
    try:
        while len(collected) < len(procs):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(
                    f"{len(procs) - len(collected)} load workers did not finish in {timeout} s"
                )
            try:
                status, value = results.get(timeout=remaining)
            except queue.Empty:
                continue
            if status == "error":
                raise RuntimeError(f"a load worker failed: {value}")
            collected.append(value)
    finally:
        for proc in procs:
            proc.join(5)
            if proc.is_alive():
                proc.kill()
    return collected


def spawn_context() -> Any:
    return multiprocessing.get_context("spawn")
