"""FindAgents' core time at 100k agents, ~1% of which match. Run with -s to see the number.

The agents are loaded the way a restarted daemon loads them from its store (registering 100k one by one
would take the test several seconds longer and measure nothing more)."""

from __future__ import annotations

import statistics
import time

from core_support import STEADY, PersistedAgents, stored_agent

from registryd.clock import SystemClock
from registryd.core.filters import AgentFilter
from registryd.core.model import Agent, AgentCard
from registryd.core.registry import Registry

AGENTS = 100_000
MATCH_EVERY = 100  # 1% of the agents match the query
DISTINCT_OTHER_CARDS = 2000


def agents() -> list[Agent]:
    other = [
        AgentCard(
            name="a", capabilities=(f"data-{i:04d} analysis", "translation"), labels=(("tier", "gold"),)
        )
        for i in range(DISTINCT_OTHER_CARDS)
    ]
    matching = AgentCard(
        name="a", capabilities=("Python code generation",), description="the 1%", labels=(("tier", "gold"),)
    )
    now = time.time()
    return [
        stored_agent(
            f"agent-{i:06d}",
            f"rt{i % 100}",
            matching if i % MATCH_EVERY == 0 else other[i % DISTINCT_OTHER_CARDS],
            now,
            i + 1,
        )
        for i in range(AGENTS)
    ]


async def test_find_at_100k_agents_takes_milliseconds():
    registry = Registry(STEADY, store=PersistedAgents(agents()), clock=SystemClock())
    await registry.start()
    try:
        for limit in (100, 1000):
            timings = []
            for _ in range(21):
                started = time.perf_counter()
                found = registry.find("python", limit=limit)
                timings.append(time.perf_counter() - started)
            median_ms = statistics.median(timings) * 1000
            print(
                f"\nFindAgents core time at {AGENTS} agents ({AGENTS // MATCH_EVERY} matching), "
                f"limit {limit}: median {median_ms:.2f} ms, max {max(timings) * 1000:.2f} ms"
            )
            assert len(found) == limit
            assert median_ms < 50  # the seed's linear scan took ~161 ms here
        # A filter every agent passes: checked on the text's matches only, not on the 99% that do not.
        gold = AgentFilter(label_selector="tier=gold,!canary")
        timings = []
        for _ in range(21):
            started = time.perf_counter()
            found = registry.find("python", limit=100, agent_filter=gold)
            timings.append(time.perf_counter() - started)
        print(f"with a filter every agent passes: median {statistics.median(timings) * 1000:.2f} ms")
        assert len(found) == 100 and statistics.median(timings) < 0.05
    finally:
        await registry.stop()
