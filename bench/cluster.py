"""Cluster mode against the single daemon, real daemons over gRPC, in one run (`python -m bench.cluster`).

Setups: the single daemon on SQLite, then 1, 2 and 3 etcd replicas over one local etcd (each setup its own
prefix). For each: RegisterAgent/s and FindAgents/s with CONCURRENCY calls in flight spread over the
replicas (and consistent GetAgent reads: `consistent` set, so each first asks the store for its revision),
and the daemons' CPU per call (user + system time of the registryd processes from /proc; etcd's
own CPU per write beside it), which predicts scaling better than wall time on a shared 2-core machine.
Then event latency from a write on replica A to a subscriber on replica B (the same daemon when there is
one), stream-loss latency A -> B (a HeartbeatStream cancelled on A until B's subscriber sees UNHEALTHY),
and, with 2+ replicas, failover: A killed (-9) -> its runtime's stream re-bound on B -> agents ACTIVE on
B. Loopback only, every loop bounded in count. Writes the table to bench/results/cluster.md.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import grpc
from agentregistry.v1 import registry_pb2 as pb
from agentregistry.v1 import registry_pb2_grpc

from bench.procs import ServerProcess, cpu_seconds, start_server
from scripts.etcd_server import EtcdServer, start_etcd

RESULTS = Path(__file__).resolve().parent / "results" / "cluster.md"
CONCURRENCY = 32
CARD = pb.AgentCard(name="bench", capability_phrases=["python coding"], description="a benchmark agent")


@dataclass
class Sizes:
    writes: int = 2000
    finds: int = 2000
    reads: int = 2000
    latency_samples: int = 200
    stream_losses: int = 50


@dataclass
class Row:
    setup: str
    writes_per_s: float = 0.0
    write_cpu_us: float = 0.0
    etcd_cpu_us: float = 0.0
    finds_per_s: float = 0.0
    find_cpu_us: float = 0.0
    reads_per_s: float = 0.0  # consistent GetAgent
    read_cpu_us: float = 0.0
    event_p50_ms: float = 0.0
    event_p99_ms: float = 0.0
    loss_p50_ms: float = 0.0
    loss_p99_ms: float = 0.0
    failover_s: float | None = None


class Replica:
    def __init__(self, server: ServerProcess) -> None:
        self.server = server
        self.channel = grpc.aio.insecure_channel(server.address)
        self.stub = registry_pb2_grpc.RegistryServiceStub(self.channel)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


async def spread(replicas: list[Replica], count: int, call) -> float:  # type: ignore[no-untyped-def]
    """`count` calls, CONCURRENCY in flight, round robin over the replicas; returns the wall seconds."""
    numbers = iter(range(count))

    async def worker(w: int) -> None:
        for i in numbers:
            await call(replicas[(w + i) % len(replicas)].stub, i)

    started = time.perf_counter()
    await asyncio.gather(*[worker(w) for w in range(CONCURRENCY)])
    return time.perf_counter() - started


def daemons_cpu(replicas: list[Replica]) -> float:
    return sum(r.server.cpu_seconds() for r in replicas)


async def throughput(row: Row, replicas: list[Replica], etcd: EtcdServer | None, sizes: Sizes) -> None:
    async def register(stub: registry_pb2_grpc.RegistryServiceStub, i: int) -> None:
        await stub.RegisterAgent(
            pb.RegisterAgentRequest(runtime_id=f"rt-{i % 50}", agent_id=f"w-{i}", card=CARD)
        )

    async def find(stub: registry_pb2_grpc.RegistryServiceStub, i: int) -> None:
        await stub.FindAgents(pb.FindAgentsRequest(capability="python", limit=10))

    async def read(stub: registry_pb2_grpc.RegistryServiceStub, i: int) -> None:
        await stub.GetAgent(pb.GetAgentRequest(agent_id=f"w-{i % sizes.writes}", consistent=True))

    cpu, etcd_cpu = daemons_cpu(replicas), cpu_seconds(etcd.proc.pid) if etcd else 0.0
    wall = await spread(replicas, sizes.writes, register)
    row.writes_per_s = sizes.writes / wall
    row.write_cpu_us = (daemons_cpu(replicas) - cpu) / sizes.writes * 1e6
    if etcd is not None:
        row.etcd_cpu_us = (cpu_seconds(etcd.proc.pid) - etcd_cpu) / sizes.writes * 1e6
    for replica in replicas:  # every replica has applied every write before the reads start
        await replica.stub.RegisterAgent(
            pb.RegisterAgentRequest(runtime_id="sync", agent_id="sync", card=CARD)
        )
    cpu = daemons_cpu(replicas)
    wall = await spread(replicas, sizes.finds, find)
    row.finds_per_s = sizes.finds / wall
    row.find_cpu_us = (daemons_cpu(replicas) - cpu) / sizes.finds * 1e6
    cpu = daemons_cpu(replicas)
    wall = await spread(replicas, sizes.reads, read)
    row.reads_per_s = sizes.reads / wall
    row.read_cpu_us = (daemons_cpu(replicas) - cpu) / sizes.reads * 1e6


class Watch:
    """A subscription read by a background task, each event with the moment it arrived."""

    def __init__(self, stub: registry_pb2_grpc.RegistryServiceStub, request: pb.SubscribeRequest) -> None:
        self.call = stub.Subscribe(request)
        self.events: asyncio.Queue[tuple[float, pb.Event]] = asyncio.Queue()
        self.task = asyncio.get_running_loop().create_task(self._read())
        self.ready = asyncio.Event()

    async def _read(self) -> None:
        async for message in self.call:
            if message.WhichOneof("kind") == "bookmark":
                self.ready.set()
            else:
                self.events.put_nowait((time.perf_counter(), message.event))

    async def until(self, match, timeout: float = 10.0) -> float:  # type: ignore[no-untyped-def]
        """The moment the first event that `match`es arrived."""
        while True:
            at, event = await asyncio.wait_for(self.events.get(), timeout)
            if match(event):
                return at

    def close(self) -> None:
        self.call.cancel()
        self.task.cancel()


async def event_latency(row: Row, a: Replica, b: Replica, sizes: Sizes) -> None:
    watch = Watch(b.stub, pb.SubscribeRequest(types=[pb.EVENT_TYPE_AGENT_REGISTERED]))
    await asyncio.wait_for(watch.ready.wait(), 10)
    latencies = []
    for i in range(sizes.latency_samples):
        agent_id = f"lat-{i}"
        started = time.perf_counter()
        await a.stub.RegisterAgent(pb.RegisterAgentRequest(runtime_id="lat", agent_id=agent_id, card=CARD))
        arrived = await watch.until(lambda e, agent_id=agent_id: e.agent_id == agent_id)
        latencies.append((arrived - started) * 1e3)
    watch.close()
    row.event_p50_ms, row.event_p99_ms = statistics.median(latencies), percentile(latencies, 0.99)


async def bind(stub: registry_pb2_grpc.RegistryServiceStub, runtime_id: str) -> grpc.aio.StreamStreamCall:
    call = stub.HeartbeatStream()
    await call.write(pb.HeartbeatStreamRequest(sequence=1, bind=pb.Bind(runtime_id=runtime_id)))
    await call.read()  # the bind's ack: the session is held (on a replica: its session key is written)
    return call


async def stream_loss_latency(row: Row, a: Replica, b: Replica, sizes: Sizes) -> None:
    await a.stub.RegisterAgent(pb.RegisterAgentRequest(runtime_id="lossy", agent_id="lossy-1", card=CARD))
    watch = Watch(b.stub, pb.SubscribeRequest(types=[pb.EVENT_TYPE_AGENT_STATUS_CHANGED], agent_id="lossy-1"))
    await asyncio.wait_for(watch.ready.wait(), 10)
    latencies = []
    for round_ in range(sizes.stream_losses):
        call = await bind(a.stub, "lossy")
        if round_:  # bound again: ACTIVE again before the next loss
            await watch.until(lambda e: e.new_status == pb.AGENT_STATUS_ACTIVE)
        lost = time.perf_counter()
        call.cancel()
        arrived = await watch.until(lambda e: e.new_status == pb.AGENT_STATUS_UNHEALTHY)
        latencies.append((arrived - lost) * 1e3)
    watch.close()
    row.loss_p50_ms, row.loss_p99_ms = statistics.median(latencies), percentile(latencies, 0.99)


async def failover(row: Row, a: Replica, b: Replica) -> None:
    """A runtime streaming to A; A is killed; the runtime re-binds on B at once (as the SDK does after its
    first backoff) -> its agents ACTIVE on B, whose own stream holds them."""
    agent_ids = [f"fo-{i}" for i in range(10)]
    for agent_id in agent_ids:
        await a.stub.RegisterAgent(pb.RegisterAgentRequest(runtime_id="fo", agent_id=agent_id, card=CARD))
    call = await bind(a.stub, "fo")
    killed = time.perf_counter()
    a.server.proc.kill()
    a.server.proc.wait(10)
    call.cancel()
    moved = await bind(b.stub, "fo")
    for _ in range(2000):  # bounded: 10 s at 5 ms
        statuses = [(await b.stub.GetAgent(pb.GetAgentRequest(agent_id=i))).agent.status for i in agent_ids]
        if all(status == pb.AGENT_STATUS_ACTIVE for status in statuses):
            break
        await asyncio.sleep(0.005)
    row.failover_s = time.perf_counter() - killed
    moved.cancel()


async def measure(setup: str, servers: list[ServerProcess], etcd: EtcdServer | None, sizes: Sizes) -> Row:
    replicas = [Replica(server) for server in servers]
    row = Row(setup)
    try:
        await throughput(row, replicas, etcd, sizes)
        a, b = replicas[0], replicas[-1]
        await event_latency(row, a, b, sizes)
        await stream_loss_latency(row, a, b, sizes)
        if len(replicas) > 1:
            await failover(row, a, b)
    finally:
        for replica in replicas:
            await replica.channel.close()
    return row


def table(rows: list[Row]) -> str:
    lines = [
        "| setup | writes/s | CPU us/write (registryd) | CPU us/write (etcd) | FindAgents/s | CPU us/find "
        "| consistent GetAgent/s | CPU us/consistent read "
        "| event A->B p50 / p99 ms | stream loss A->B p50 / p99 ms | failover s |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r.setup} | {r.writes_per_s:,.0f} | {r.write_cpu_us:,.0f} | "
            f"{r.etcd_cpu_us:,.0f} | {r.finds_per_s:,.0f} | {r.find_cpu_us:,.0f} | "
            f"{r.reads_per_s:,.0f} | {r.read_cpu_us:,.0f} | "
            f"{r.event_p50_ms:.1f} / {r.event_p99_ms:.1f} | {r.loss_p50_ms:.1f} / {r.loss_p99_ms:.1f} | "
            + (f"{r.failover_s:.3f}" if r.failover_s is not None else "-")
            + " |"
        )
    return "\n".join(lines)


async def run(workdir: Path, sizes: Sizes) -> list[Row]:
    etcd = start_etcd(workdir)
    rows = []
    try:
        sqlite = start_server(
            "registryd", workdir / "sqlite", ["--store", "sqlite", "--data-dir", str(workdir / "db")]
        )
        try:
            rows.append(await measure("sqlite, single daemon", [sqlite], None, sizes))
        finally:
            sqlite.stop()
        for count in (1, 2, 3):
            prefix = f"/bench-{uuid.uuid4().hex[:8]}"
            args = ["--store", "etcd", "--etcd-endpoints", etcd.endpoint, "--etcd-prefix", prefix]
            servers: list[ServerProcess] = []
            try:
                for _ in range(count):
                    servers.append(start_server("registryd", workdir / f"etcd{count}", args))
                rows.append(
                    await measure(f"etcd, {count} replica{'s' if count > 1 else ''}", servers, etcd, sizes)
                )
            finally:
                for server in servers:
                    server.stop()
    finally:
        etcd.stop()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a tenth of the calls, for a trial")
    parser.add_argument("--no-write", action="store_true", help=f"print only, leave {RESULTS.name} alone")
    options = parser.parse_args()
    sizes = Sizes()
    if options.quick:
        sizes = Sizes(writes=200, finds=200, reads=200, latency_samples=20, stream_losses=10)
    with tempfile.TemporaryDirectory() as tmp:
        rows = asyncio.run(run(Path(tmp), sizes))
    text = table(rows)
    print(text)
    if not options.no_write:
        RESULTS.write_text(
            "# Cluster mode against the single daemon (`python -m bench.cluster`)\n\n"
            f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {os.cpu_count()} cores, load average "
            f"{os.getloadavg()[0]:.1f} at the end (a shared machine: wall-time figures are noisy, CPU per "
            "call less so); daemons over gRPC on loopback, "
            f"{CONCURRENCY} calls in flight spread over the replicas; CPU is the daemons' user + system time "
            "per call (and etcd's beside it). Event latency: a write on replica A until a subscriber on "
            "replica B has it (A = B for one daemon); stream loss: a HeartbeatStream cancelled on A until B's "
            "subscriber sees UNHEALTHY; failover: A killed (-9) -> its runtime re-bound on B -> agents ACTIVE.\n\n"
            f"{text}\n"
        )


if __name__ == "__main__":
    main()
