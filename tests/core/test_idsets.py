"""Sets of ids give their memory back: after most agents leave a status, walking that status's set costs
what it holds, not what it once held (CPython never shrinks a set's table on removal)."""

from __future__ import annotations

import asyncio
import statistics
import sys
import time

from core_support import STEADY, FakeClock, PersistedAgents, advance, card, stored_agent

from registryd.core import idsets
from registryd.core.registry import Registry
from registryd.core.streams import HeartbeatSession

AGENTS = 20_000
PER_RUNTIME = 100


def test_a_set_that_shrank_far_is_replaced_by_one_of_its_size_with_the_same_members():
    sets = {"k": {f"a{i}" for i in range(100_000)}, "small": {"x", "y"}}
    grown = sets["k"]
    for i in range(100_000 - 10):
        idsets.discard(sets, "k", f"a{i}")
    assert sets["k"] == {f"a{i}" for i in range(100_000 - 10, 100_000)}
    assert sets["k"] is not grown
    assert sys.getsizeof(sets["k"]) < sys.getsizeof(grown) / 100
    small = sets["small"]
    assert idsets.discard(sets, "small", "x") is small == {"y"}  # a set that never grew stays itself


async def test_under_a_running_loop_the_copy_and_the_freeing_each_take_a_turn_of_their_own():
    sets = {"k": {f"a{i}" for i in range(100_000)}}
    grown = sets["k"]
    held = sys.getrefcount(grown)  # by `sets` and by this test
    for i in range(100_000 - 10):
        assert idsets.discard(sets, "k", f"a{i}") is grown  # the removing turn only removes
    assert sets["k"] is grown
    await asyncio.sleep(0)  # the copy's turn
    assert sets["k"] is not grown and sets["k"] == {f"a{i}" for i in range(100_000 - 10, 100_000)}
    assert sys.getrefcount(grown) == held  # `sets` let it go; the freeing call holds it in its place ...
    await asyncio.sleep(0)
    assert sys.getrefcount(grown) == held - 1  # ... until its own turn


def persisted(now: float) -> PersistedAgents:
    x = card("x")
    return PersistedAgents(
        [stored_agent(f"agent-{i:06d}", f"rt-{i // PER_RUNTIME:04d}", x, now, i + 1) for i in range(AGENTS)]
    )


async def beat_median(session: HeartbeatSession) -> float:
    """CPU time of the thread: a busy machine slows the wall clock, not this."""
    timings = []
    for _ in range(51):
        started = time.thread_time()
        await session.beat([], None)
        timings.append(time.thread_time() - started)
    return statistics.median(timings)


async def test_a_stream_beat_costs_the_same_after_every_agent_timed_out_and_came_back(clock: FakeClock):
    registry = Registry(STEADY, store=persisted(clock.wall()), clock=clock)
    await registry.start()
    try:
        sessions = []
        for r in range(AGENTS // PER_RUNTIME):
            session = HeartbeatSession(registry)
            await session.bind(f"rt-{r:04d}", [])
            sessions.append(session)
        before = await beat_median(sessions[0])
        await advance(clock, registry, STEADY.heartbeat_timeout + 1)  # every stream falls silent ...
        assert registry.stats().status_distribution["UNHEALTHY"] == AGENTS
        for session in sessions:  # ... and beats again: UNHEALTHY held ~20k agents, now none
            await session.beat([], None)
        await registry.committer.barrier()
        assert registry.stats().status_distribution["UNHEALTHY"] == 0
        after = await beat_median(sessions[0])
        assert after < 10 * before + 0.00005, (before, after)  # without the copies: 50x and more
    finally:
        await registry.stop()
