"""Cluster mode against the single daemon's stores, in one run (`python -m bench.cluster`).

Core level (no gRPC): registrations/s through 1 and 2 etcd-backed replicas sharing one etcd (writers
spread over the replicas), the memory and sqlite stores for comparison, CPU seconds per write of this
process, event latency from a write on replica A to a subscriber on replica B, and what a consistent
read on B costs (one etcd range for the revision, then the read). Loopback only;
every loop is bounded in count."""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from registryd.clock import SystemClock
from registryd.core.events import EventFilter
from registryd.core.model import AgentCard
from registryd.core.registry import Registry
from registryd.store.etcd import EtcdOptions, EtcdStore
from registryd.store.memory import MemoryStore
from registryd.store.sqlite import SqliteStore
from scripts.etcd_server import start_etcd

WRITES = 2000
CONCURRENCY = 32
CARD = AgentCard(name="bench", capabilities=("python",))


async def writes_per_second(registries: list[Registry]) -> tuple[float, float]:
    queue = iter(range(WRITES))

    async def writer(registry: Registry) -> None:
        for i in queue:
            await registry.register(f"rt-{i % 50}", CARD, f"a-{i}")

    cpu, wall = time.process_time(), time.perf_counter()
    await asyncio.gather(*[writer(registries[w % len(registries)]) for w in range(CONCURRENCY)])
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return WRITES / wall, cpu / WRITES * 1e6


async def event_latency(a: Registry, b: Registry, samples: int = 200) -> tuple[float, float]:
    sub = b.subscribe(EventFilter())
    latencies = []
    for i in range(samples):
        started = time.perf_counter()
        await a.register("lat", CARD, f"lat-{i}")
        while True:
            event = await sub.next(timeout=5)
            assert event is not None
            if getattr(event, "agent_id", "") == f"lat-{i}":
                break
        latencies.append((time.perf_counter() - started) * 1e3)
    latencies.sort()
    return statistics.median(latencies), latencies[int(len(latencies) * 0.99) - 1]


async def consistent_read(b: Registry, samples: int = 500) -> tuple[float, float]:
    """CPU microseconds of this process and wall p50 (ms) per consistent GetAgent on a replica."""
    walls = []
    cpu = time.process_time()
    for _ in range(samples):
        started = time.perf_counter()
        await b.sync()
        b.get("lat-0")
        walls.append((time.perf_counter() - started) * 1e3)
    cpu = time.process_time() - cpu
    return cpu / samples * 1e6, statistics.median(walls)


async def run(etcd_endpoint: str, workdir: Path) -> None:
    rows = []
    single = (
        ("memory", MemoryStore()),
        ("sqlite", SqliteStore(workdir / "sqlite", 10_000)),
        ("etcd x1", EtcdStore(EtcdOptions((etcd_endpoint,), f"/b-{uuid.uuid4().hex[:8]}"))),
    )
    for name, store in single:
        registry = Registry(store=store, clock=SystemClock())
        await registry.start()
        rate, cpu = await writes_per_second([registry])
        rows.append((name, rate, cpu))
        await registry.stop()
    prefix = f"/b-{uuid.uuid4().hex[:8]}"
    replicas = [
        Registry(store=EtcdStore(EtcdOptions((etcd_endpoint,), prefix)), clock=SystemClock())
        for _ in range(2)
    ]
    for registry in replicas:
        await registry.start()
    rate, cpu = await writes_per_second(replicas)
    rows.append(("etcd x2 (one process)", rate, cpu))
    p50, p99 = await event_latency(*replicas)
    read_cpu, read_wall = await consistent_read(replicas[1])
    for registry in replicas:
        await registry.stop()
    print(f"{'store':24} {'writes/s':>10} {'CPU us/write':>13}")
    for name, rate, cpu in rows:
        print(f"{name:24} {rate:10.0f} {cpu:13.0f}")
    print(f"event latency write on A -> subscriber on B: p50 {p50:.2f} ms, p99 {p99:.2f} ms")
    print(f"consistent read on B: {read_cpu:.0f} us CPU, p50 {read_wall:.2f} ms")


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        server = start_etcd(Path(tmp))
        try:
            asyncio.run(run(server.endpoint, Path(tmp)))
        finally:
            server.stop()


if __name__ == "__main__":
    main()
