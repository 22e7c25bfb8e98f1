"""`python -m bench.beat_cost`: the core's CPU cost of heartbeats (the state machine alone, no gRPC), process
time, best of 5 runs:

- per agent of a unary-style beat naming 1,000 agents of one runtime (`Registry.beat`);
- per message of a HeartbeatStream beat of every agent the stream holds, at 10, 100 and 1,000 agents per
  stream (`HeartbeatSession.beat([])`, what the SDK sends every beat interval).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from registryd import logs
from registryd.clock import SystemClock
from registryd.core.model import AgentCard
from registryd.core.registry import Registry, RegistrySettings
from registryd.core.streams import HeartbeatSession, StreamEnd

TRIALS = 5
STREAM_SIZES = (10, 100, 1_000)


async def best_of(calls: int, call: Callable[[], Awaitable[object]]) -> float:
    """The least process time per call over TRIALS runs of `calls` calls."""
    best = float("inf")
    for _ in range(TRIALS):
        started = time.process_time()
        for _ in range(calls):
            await call()
        best = min(best, (time.process_time() - started) / calls)
    return best


async def with_agents(count: int, measure: Callable[[Registry, list[str]], Awaitable[float]]) -> float:
    registry = Registry(
        RegistrySettings(heartbeat_timeout=3600, auto_deregister_timeout=7200), clock=SystemClock()
    )
    await registry.start()
    try:
        ids = [f"a{i}" for i in range(count)]
        card = AgentCard(name="x", capabilities=("code",))
        for agent_id in ids:
            await registry.register("rt", card, agent_id)
        return await measure(registry, ids)
    finally:
        await registry.stop()


async def unary_cost_per_agent(registry: Registry, ids: list[str]) -> float:
    return await best_of(100, lambda: registry.beat("rt", ids, None)) / len(ids)


async def stream_cost_per_message(registry: Registry, ids: list[str]) -> float:
    session = HeartbeatSession(registry)
    await session.bind("rt", [])
    try:
        return await best_of(max(100, 100_000 // len(ids)), lambda: session.beat([], None))
    finally:
        session.close(StreamEnd.DRAINED)


async def measure() -> list[str]:
    lines = [
        f"core unary beat of 1,000 agents: {await with_agents(1_000, unary_cost_per_agent) * 1e6:.2f} us "
        "per agent beaten"
    ]
    for size in STREAM_SIZES:
        cost = await with_agents(size, stream_cost_per_message)
        lines.append(f"core stream beat of all {size:,} agents bound: {cost * 1e6:.1f} us per message")
    return lines


def main() -> None:
    logs.configure("console", "warning")
    for line in asyncio.run(measure()):
        print(line)


if __name__ == "__main__":
    main()
