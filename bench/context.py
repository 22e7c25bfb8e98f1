"""What every scenario gets: the sizes, a pool of load-client processes, and server launchers."""

from __future__ import annotations

import os
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing.managers import SyncManager
from pathlib import Path
from typing import Any

from bench import procs
from bench.plan import Sizes
from bench.procs import ServerProcess

CLIENT_PROCESSES = 3  # scenarios load from two at most (one per core); the soak adds a third, light one


@dataclass
class Context:
    sizes: Sizes
    workdir: Path
    h2load: bool
    registryd_help: str
    pool: ProcessPoolExecutor = field(init=False)
    _manager: SyncManager | None = field(init=False, default=None)
    _servers: list[ServerProcess] = field(init=False, default_factory=list)
    notes: list[str] = field(default_factory=list)
    # name -> (registryd latencies, no-op latencies) in seconds, for the distribution plots
    latencies: dict[str, tuple[list[float], list[float]]] = field(default_factory=dict)
    # label -> [(agents, seconds per query)], for the discovery plot
    discovery: dict[str, list[tuple[int, float]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.pool = ProcessPoolExecutor(
            CLIENT_PROCESSES, mp_context=procs.spawn_context(), initializer=procs.raise_fd_limit
        )

    def close(self) -> None:
        """Stop what is still running: the pool, the manager, and any server a failed scenario left."""
        for server in self._servers:
            server.stop()
        self.pool.shutdown(cancel_futures=True)
        if self._manager is not None:
            self._manager.shutdown()

    def manager(self) -> SyncManager:
        """Queues and events the parent and the load workers share (started on first use)."""
        if self._manager is None:
            self._manager = procs.spawn_context().Manager()
        return self._manager

    def note(self, text: str) -> None:
        print(f"  . {text}", flush=True)
        self.notes.append(text)

    def has_store(self, kind: str) -> bool:
        return "--store" in self.registryd_help and kind in self.registryd_help

    def store_args(self, kind: str, data_dir: Path | None = None) -> list[str]:
        """`--store kind` (with a fresh --data-dir for sqlite), or nothing on a registryd without --store."""
        if not self.has_store(kind):
            return []
        if kind == "memory":
            return ["--store", "memory"]
        data_dir = data_dir or self.workdir / f"data-{time.monotonic_ns()}"
        return ["--store", kind, "--data-dir", str(data_dir)]

    def start_registryd(self, args: list[str], **kw: Any) -> ServerProcess:
        server = procs.start_server("registryd", self.workdir, args, **kw)
        self._servers.append(server)
        return server

    def start_noop(self) -> ServerProcess:
        server = procs.start_server("noop", self.workdir)
        self._servers.append(server)
        return server


def machine() -> dict[str, object]:
    """Where the numbers come from."""
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        "unknown",
    )
    load = Path("/proc/loadavg").read_text().split()[:3]
    mem = next(line for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal"))
    return {
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "memory": mem.split(":", 1)[1].strip(),
        "loadavg_at_start": " ".join(load),
        "kernel": os.uname().release,
    }
