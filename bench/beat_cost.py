"""`python -m bench.beat_cost`: the core's CPU cost per agent of a heartbeat (the state machine alone, no
gRPC): 1,000 agents of one runtime beaten together, process time, best of 5 runs of 100 beats."""

from __future__ import annotations

import asyncio
import time

from registryd import logs
from registryd.clock import SystemClock
from registryd.core.model import AgentCard
from registryd.core.registry import Registry, RegistrySettings

AGENTS, BEATS, TRIALS = 1_000, 100, 5


async def cost_per_agent() -> float:
    registry = Registry(
        RegistrySettings(heartbeat_timeout=3600, auto_deregister_timeout=7200), clock=SystemClock()
    )
    await registry.start()
    try:
        ids = [f"a{i}" for i in range(AGENTS)]
        for agent_id in ids:
            await registry.register("rt", AgentCard(name="x", capabilities=("code",)), agent_id)
        best = float("inf")
        for _ in range(TRIALS):
            started = time.process_time()
            for _ in range(BEATS):
                await registry.beat("rt", ids, None)
            best = min(best, (time.process_time() - started) / (BEATS * AGENTS))
        return best
    finally:
        await registry.stop()


def main() -> None:
    logs.configure("console", "warning")
    print(f"core heartbeat cost: {asyncio.run(cost_per_agent()) * 1e6:.2f} us per agent beaten")


if __name__ == "__main__":
    main()
