"""How long registryd takes to serve again with 100k persisted agents (goal: within 3 s).

Builds a sqlite data dir by appending registration events straight to the store (seconds, not the
minutes 100k RegisterAgent calls take), then:
- in this process: times SqliteStore.load() and the registry's start on top of it (load + indexing);
- as a process: times `python -m registryd` from spawn until its ready file is written (serving, every
  agent loaded), beside the no-op server's bare start (interpreter and grpc import cost), and checks that
  GetStats reports every agent.

    .venv/bin/python -m bench.restart_100k [--agents 100000] [--profile]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import pstats
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import grpc
from agentregistry.v1 import registry_pb2 as pb
from agentregistry.v1 import registry_pb2_grpc

from bench import procs, workload
from bench.s1_unary import CALM_LIVENESS
from registryd.api.convert import card_from_proto
from registryd.clock import SystemClock
from registryd.core.model import Agent, AgentCard, AgentStatus, Event, EventType, StatusReason
from registryd.core.registry import Registry, RegistrySettings
from registryd.store.sqlite import SqliteStore

RETENTION = 10_000  # the daemon's default event_retention
GOAL_SECONDS = 3.0


def card(i: int) -> AgentCard:
    """The core value of bench.workload.card(i), as a registration would store it."""
    return card_from_proto(workload.card(i))


def registration_events(agents: int, per_runtime: int = workload.AGENTS_PER_RUNTIME) -> Iterator[Event]:
    """RUNTIME_JOINED for each runtime, then AGENT_REGISTERED for each of its agents, in revision order."""
    now = time.time()
    revision = 0
    for i in range(agents):
        runtime_id = workload.runtime_id(i, per_runtime)
        if i % per_runtime == 0:
            revision += 1
            yield Event(revision, EventType.RUNTIME_JOINED, now, runtime_id)
        revision += 1
        agent = Agent(
            workload.agent_id(i),
            runtime_id,
            card(i),
            AgentStatus.ACTIVE,
            StatusReason.REGISTERED,
            now,
            now,
            now,
            revision,
        )
        yield Event(revision, EventType.AGENT_REGISTERED, now, runtime_id, agent.agent_id, agent)


async def build(
    data_dir: Path, agents: int, per_runtime: int = workload.AGENTS_PER_RUNTIME, batch: int = 5_000
) -> None:
    store = SqliteStore(data_dir, RETENTION)
    await store.load()
    pending: list[Event] = []
    for event in registration_events(agents, per_runtime):
        pending.append(event)
        if len(pending) == batch:
            await store.append(pending, {})
            pending = []
    await store.append(pending, {})
    await store.close()


async def time_in_process(data_dir: Path, profile: bool) -> tuple[float, float, int]:
    """(seconds in SqliteStore.load, seconds in Registry.start, agents loaded)."""
    store = SqliteStore(data_dir, RETENTION)
    started = time.perf_counter()
    snapshot = await store.load()
    load_seconds = time.perf_counter() - started
    await store.close()
    registry = Registry(
        RegistrySettings(event_retention=RETENTION), SqliteStore(data_dir, RETENTION), clock=SystemClock()
    )
    profiler = cProfile.Profile() if profile else None
    gc.disable()  # as the daemon does while it loads
    started = time.perf_counter()
    if profiler:
        profiler.enable()
    await registry.start()
    if profiler:
        profiler.disable()
    start_seconds = time.perf_counter() - started
    gc.enable()
    loaded = registry.stats().total_agents
    await registry.stop()
    if profiler:
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
    assert loaded == len(snapshot.agents)
    return load_seconds, start_seconds, loaded


def time_process(data_dir: Path, workdir: Path) -> tuple[float, float, int]:
    """(seconds until registryd serves, seconds until the no-op server serves, agents it reports)."""
    started = time.monotonic()
    daemon = procs.start_server(
        "registryd", workdir, [*CALM_LIVENESS, "--store", "sqlite", "--data-dir", str(data_dir)]
    )
    serving = time.monotonic() - started
    try:
        with grpc.insecure_channel(daemon.address) as channel:
            stub = registry_pb2_grpc.RegistryServiceStub(channel)
            total = stub.GetStats(pb.GetStatsRequest(), timeout=10).total_agents
    finally:
        daemon.stop()
    started = time.monotonic()
    noop = procs.start_server("noop", workdir)
    noop_seconds = time.monotonic() - started
    noop.stop()
    return serving, noop_seconds, total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=100_000)
    parser.add_argument("--profile", action="store_true", help="cProfile the registry's start")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="registryd-restart-") as tmp:
        workdir = Path(tmp)
        data_dir = workdir / "data"
        started = time.monotonic()
        asyncio.run(build(data_dir, args.agents))
        size_mb = sum(f.stat().st_size for f in data_dir.iterdir()) / 2**20
        print(f"built {args.agents:,} agents in {time.monotonic() - started:.1f} s ({size_mb:.0f} MB)")
        load, start, loaded = asyncio.run(time_in_process(data_dir, args.profile))
        print(f"in process: store load {load:.2f} s, registry start (load + index) {start:.2f} s")
        serving, noop, total = time_process(data_dir, workdir)
        print(
            f"registryd serving {total:,} agents {serving:.2f} s after spawn "
            f"(no-op server: {noop:.2f} s; goal {GOAL_SECONDS} s)"
        )
        assert loaded == total == args.agents


if __name__ == "__main__":
    main()
