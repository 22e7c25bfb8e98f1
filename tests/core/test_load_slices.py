"""A restart's load of the stored agents yields to the event loop between slices: at 1M agents it held the
loop for 19 s in one turn."""

from __future__ import annotations

import asyncio
import random

from core_support import STEADY, FakeClock, PersistedAgents, card, stored_agent

from registryd.core.registry import LOAD_SLICE, Registry

AGENTS = 10 * LOAD_SLICE


async def test_loading_yields_between_slices_and_keeps_every_agent_in_id_order(clock: FakeClock):
    stored = [
        stored_agent(f"agent-{i:05d}", f"rt-{i // 100:03d}", card("x"), clock.wall(), i + 1)
        for i in range(AGENTS)
    ]
    random.Random(7).shuffle(stored)  # a store need not hand them over sorted
    registry = Registry(STEADY, store=PersistedAgents(stored), clock=clock)
    turns = 0

    async def count_turns() -> None:
        nonlocal turns
        while True:
            turns += 1
            await asyncio.sleep(0)

    counter = asyncio.get_running_loop().create_task(count_turns())
    try:
        await registry.start()
    finally:
        counter.cancel()
    try:
        assert turns >= AGENTS // LOAD_SLICE  # a turn of other work for each slice at least
        listed = [a.agent_id for a in registry.list_agents(limit=AGENTS).agents]
        listed += [a.agent_id for a in registry.list_agents(after=listed[-1], limit=AGENTS).agents]
        assert listed == sorted(a.agent_id for a in stored)
        assert registry.stats().total_agents == AGENTS
    finally:
        await registry.stop()
