"""Runtimes built from the SDK, for the soak (scenario 8) and the reconnect storm (scenario 9).

Each runtime is the SDK's self-healing `RuntimeHeartbeat` (one HeartbeatStream, exponential backoff
with full jitter, re-registration of agents the daemon forgot) over a `RegistryClient` - exactly what
`AgentRegistry` runs for each runtime it registers agents for. A full `AgentRegistry` per runtime would
also keep a local view of every agent: 1,000 views of 10,000 agents do not fit in two client processes,
so routers (`trickle_worker`) are the ones that use `AgentRegistry` whole."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from typing import Any

import uvloop
from agentregistry import AgentRegistry
from agentregistry.client import HeartbeatStream, RegistryClient
from agentregistry.convert import card_from_proto
from agentregistry.heartbeat import RuntimeHeartbeat
from agentregistry.types import AgentCard, AgentRegistryConfig, HeartbeatAck, Liveness, RegistryEventType

from bench import workload

REGISTER_CONCURRENCY = 50

# The SDK logs each lost stream at WARNING; in a reconnect storm that is thousands of lines.
logging.getLogger("agentregistry").setLevel(logging.ERROR)


class CountingClient(RegistryClient):
    """A RegistryClient that counts heartbeat stream opens, and those that failed before their first ack."""

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.opens = {"attempted": 0, "failed": 0}

    def heartbeat_stream(self, runtime_id: str, liveness: Liveness | None = None) -> HeartbeatStream:
        self.opens["attempted"] += 1
        stream = super().heartbeat_stream(runtime_id, liveness)
        return _CountedStream(stream, self.opens)  # type: ignore[return-value]


class _CountedStream:
    def __init__(self, stream: HeartbeatStream, opens: dict[str, int]) -> None:
        self._stream = stream
        self._opens = opens
        self._acked = False

    async def __aenter__(self) -> _CountedStream:
        await self._stream.__aenter__()
        return self

    async def __aexit__(self, *exc: Any) -> None:
        if not self._acked:
            self._opens["failed"] += 1
        await self._stream.__aexit__(*exc)

    async def bind(self, agent_ids: Sequence[str] = ()) -> HeartbeatAck:
        ack = await self._stream.bind(agent_ids)
        self._acked = True
        return ack

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def sdk_card(i: int) -> AgentCard:
    return card_from_proto(workload.card(i))


def fleet_worker(
    address: str,
    runtimes: Sequence[int],
    per_runtime: int,
    interval: float,
    reports: Any,
    stop: Any,
    time_limit: float,
    preloaded: bool = False,
) -> dict[str, Any]:
    """Register (unless `preloaded`: the store already holds them) and keep alive `per_runtime` agents for
    each runtime number; report ("ready", n) when every stream is bound, then run until `stop`. Returns
    reconnect counts."""
    return uvloop.run(_fleet(address, runtimes, per_runtime, interval, reports, stop, time_limit, preloaded))


def _ignore_lost(runtime_id: str, agent_ids: Sequence[str]) -> None:
    """The soak counts lost agents from the daemon's events, not the SDK's callback."""


async def _fleet(
    address: str,
    runtimes: Sequence[int],
    per_runtime: int,
    interval: float,
    reports: Any,
    stop: Any,
    time_limit: float,
    preloaded: bool,
) -> dict[str, Any]:
    deadline = time.monotonic() + time_limit
    client = CountingClient(address, timeout=10.0, max_reconnect_backoff=5.0)
    gate = asyncio.Semaphore(REGISTER_CONCURRENCY)
    heartbeats: list[RuntimeHeartbeat] = []
    reregistered = 0

    async def register(runtime: str, i: int) -> str:
        async with gate:
            result = await client.register_agent(runtime, sdk_card(i), workload.agent_id(i))
            return result.agent.agent_id

    def reregisterer(runtime: str) -> Any:
        async def reregister(agent_ids: Sequence[str]) -> list[str]:
            nonlocal reregistered
            done = [await register(runtime, int(a.rpartition("-")[2])) for a in agent_ids]
            reregistered += len(done)
            return done

        return reregister

    config = AgentRegistryConfig(
        target=address, heartbeat_interval=interval, reconnect_initial_backoff=0.1, reconnect_max_backoff=5.0
    )
    try:
        await client.wait_ready(30)
        for k in runtimes:
            runtime = workload.runtime_id(k * per_runtime, per_runtime)
            agents = range(k * per_runtime, (k + 1) * per_runtime)
            ids = (
                workload.runtime_agents(k, per_runtime)
                if preloaded
                else await asyncio.gather(*(register(runtime, i) for i in agents))
            )
            heartbeat = RuntimeHeartbeat(client, runtime, config, reregisterer(runtime), _ignore_lost)
            for agent_id in ids:
                heartbeat.add(agent_id)
            heartbeats.append(heartbeat)
        await asyncio.gather(*(asyncio.wait_for(h.connected.wait(), 120) for h in heartbeats))
        reports.put(("ready", len(heartbeats)))
        await asyncio.to_thread(stop.wait, max(0.0, deadline - time.monotonic()))
        return {**client.opens, "reregistered": reregistered}
    finally:
        # half-close: the agents turn OFFLINE, which nobody counts as false
        await asyncio.gather(*(h.stop() for h in heartbeats), return_exceptions=True)
        await client.close()


def trickle_worker(
    address: str, every: float, lifetime: float, stop: Any, time_limit: float
) -> dict[str, Any]:
    """Every `every` seconds a router (a whole AgentRegistry: list, watch, subscribe) joins, registers one
    agent of its own, runs a few finds, and after `lifetime` seconds deregisters and leaves."""
    return uvloop.run(_trickle(address, every, lifetime, stop, time_limit))


async def _trickle(
    address: str, every: float, lifetime: float, stop: Any, time_limit: float
) -> dict[str, Any]:
    deadline = time.monotonic() + time_limit
    counts = {"routers": 0, "registrations": 0, "finds": 0, "events_seen": 0, "errors": 0}
    routers: set[asyncio.Task[None]] = set()

    def seen(event: Any) -> None:
        counts["events_seen"] += 1

    async def router(n: int) -> None:
        config = AgentRegistryConfig(target=address, heartbeat_timeout=30.0)
        try:
            async with AgentRegistry(config) as registry:
                registry.subscribe(RegistryEventType.AGENT_REGISTERED, seen)
                runtime = f"router-{n:05d}"
                agent_id = await registry.register_agent(sdk_card(n), runtime, f"router-agent-{n:05d}")
                counts["registrations"] += 1
                ends = time.monotonic() + lifetime
                while time.monotonic() < ends and not stop.is_set():
                    await registry.find_agents_by_capability(workload.QUERY)
                    counts["finds"] += 1
                    await asyncio.sleep(2.0)
                await registry.deregister_agent(agent_id, runtime)
        except Exception:
            counts["errors"] += 1

    n = 0
    while time.monotonic() < deadline and not stop.is_set():
        task = asyncio.create_task(router(n))
        routers.add(task)
        task.add_done_callback(routers.discard)
        counts["routers"] += 1
        n += 1
        await asyncio.sleep(every)
    if routers:
        await asyncio.wait(routers, timeout=lifetime + 30)
    return counts
