"""`python -m bench.stall_ops [--agents 1000000] [--per-runtime 100] [--clock cpu] [--mass-expiry 50000]`: how long single operations hold the event loop at scale
(goal: none over 20 ms at 1M agents). The registry is loaded from a snapshot as a restart does (its load
time and the longest turn of the loop while it loads are reported too), agents bound to streams of 100,
then each operation is timed, wall clock (`--clock cpu`: the thread's CPU time, which a busy machine
inflates less), worst of a few runs (`--per-runtime 1`: as many runtimes as agents):

- a page of ListAgents (1,000 agents, converted to protobuf at once, and the longest turn of the loop when
  converted a slice a turn as the servicer does), unfiltered, by a
  status no agent has (the scan is bounded), and of one runtime; GetStats; a page of ListRuntimes, first
  and from the middle; GetStats after a registration and a deregistration changed two runtimes' sizes;
- a stream's beat of all its agents; a mass timeout, slice by slice (the longest slice);
- a full collection of Python's cyclic garbage collector, which runs on its own whenever the objects that
  survived earlier collections grew by a quarter and walks every tracked object: before the daemon
  freezes what it loaded (gc.freeze, registryd/server.py), and at the end, with the reload frozen.

`--mass-expiry N` instead runs the liveness timer for real on N agents (1 s heartbeat timeout, 5 s expiry)
that all stop beating at once, and reports the longest turn of the event loop (the gap a task that yields
all the time sees) while they time out and while they expire, and how long after its deadline the last of
each happened (goal: within 1 s, never early).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import time
from collections.abc import Callable

from registryd import collector, logs
from registryd.api import convert
from registryd.clock import SystemClock
from registryd.core.model import Agent, AgentCard, AgentStatus, StatusReason
from registryd.core.registry import Registry, RegistrySettings
from registryd.core.streams import HeartbeatSession
from registryd.store.base import Snapshot

GOAL_MS = 20.0
BUSY = 0.001  # a turn of the loop that took longer did work (the probe's own turns take microseconds)
CLOCKS = {"wall": time.perf_counter, "cpu": time.thread_time}
clock = time.perf_counter


class Loaded:
    """A store that hands the registry `agents` at start, and keeps nothing."""

    def __init__(self, agents: list[Agent]) -> None:
        self.snapshot = Snapshot(agents=agents, revision=len(agents))

    async def load(self) -> Snapshot:
        return self.snapshot

    async def append(self, *_: object) -> None:
        return None

    async def close(self) -> None:
        return None


def agents(n: int, per_runtime: int) -> list[Agent]:
    card = AgentCard(name="worker", capabilities=("code", "review"))
    now = time.time()
    return [
        Agent(
            f"agent-{i:07}",
            f"rt-{i // per_runtime:07}",
            card,
            AgentStatus.ACTIVE,
            StatusReason.REGISTERED,
            now,
            now,
            now,
            i + 1,
        )
        for i in range(n)
    ]


def worst_ms(operation: Callable[[], object], runs: int = 5) -> float:
    worst = 0.0
    for _ in range(runs):
        started = clock()
        operation()
        worst = max(worst, clock() - started)
    return worst * 1e3


async def measure(n: int, per_runtime: int) -> dict[str, float]:
    results: dict[str, float] = {}
    settings = RegistrySettings(
        heartbeat_timeout=3600, auto_deregister_timeout=7200, expiry_guard_threshold=1.0
    )
    registry = Registry(settings, Loaded(agents(n, per_runtime)), clock=SystemClock())  # type: ignore[arg-type]
    runtimes = max(1, n // per_runtime)
    started = clock()
    gc.disable()  # as the daemon loads (registryd/server.py)
    loading = asyncio.get_running_loop().create_task(registry.start())
    longest, last = 0.0, clock()
    while not loading.done():
        await asyncio.sleep(0)
        longest, last = max(longest, clock() - last), clock()
    await loading
    gc.enable()
    results["reload before serving"] = (clock() - started) * 1e3
    results["reload: longest turn of the loop"] = longest * 1e3
    results["full cyclic GC collection, the reload not yet frozen"] = worst_ms(gc.collect, runs=1)
    gc.freeze()  # as the daemon does once it has loaded (registryd/server.py)
    try:
        middle = f"agent-{n // 2:07}"
        page = lambda **kw: [convert.agent_to_proto(a) for a in registry.list_agents(limit=1000, **kw).agents]  # noqa: E731
        results["ListAgents page of 1,000"] = worst_ms(lambda: page(after=middle))
        results["ListAgents page of 1,000: longest turn, converted in slices"] = longest_turn_ms(
            registry, f"agent-{n // 3:07}"
        )
        results["ListAgents page, status no agent has"] = worst_ms(
            lambda: page(statuses=[AgentStatus.OFFLINE])
        )
        results["ListAgents page of one runtime"] = worst_ms(
            lambda: page(runtime_id=f"rt-{runtimes // 2:07}")
        )
        results["GetStats"] = worst_ms(registry.stats)
        results["ListRuntimes page of 100"] = worst_ms(lambda: registry.runtimes(limit=100))
        results["ListRuntimes page of 100 from the middle"] = worst_ms(
            lambda: registry.runtimes(after=f"rt-{runtimes // 2:07}", limit=100)
        )
        card = AgentCard(name="worker", capabilities=("code",))
        await registry.deregister(f"agent-{n // 2:07}")  # first: the registry holds at most 1M agents
        await registry.register(f"rt-{runtimes // 3:07}", card, "agent-extra")
        results["GetStats after two runtimes changed size"] = worst_ms(registry.stats, runs=1)
        sessions = []
        for r in range(0, runtimes, max(1, runtimes // 100)):  # 100 streams suffice here
            session = HeartbeatSession(registry)
            await session.bind(f"rt-{r:07}", [])
            sessions.append(session)
        beat_started = clock()
        for session in sessions:
            await session.beat([], None)
        results[f"stream beat of {per_runtime} agents (mean)"] = (
            (clock() - beat_started) / len(sessions) * 1e3
        )
        results["full cyclic GC collection, the reload frozen"] = worst_ms(gc.collect, runs=1)
        results["mass timeout: longest slice (1M new agent records: GC again)"] = await mass_timeout(registry)
    finally:
        await registry.stop()
    return results


def longest_turn_ms(registry: Registry, after: str, runs: int = 5) -> float:
    """A page of new records as the servicer builds it (convert.agent_messages): the core's page and the
    first slice in one turn of the loop, then a slice a turn. The longest turn, worst of `runs` pages."""
    longest = 0.0
    for _ in range(runs):
        started = clock()
        agents = registry.list_agents(limit=1000, after=after).agents
        for start in range(0, len(agents), convert.CONVERT_SLICE):
            [convert.agent_to_proto(a) for a in agents[start : start + convert.CONVERT_SLICE]]
            longest = max(longest, clock() - started)
            started = clock()
        after = agents[-1].agent_id  # the next page: records not converted yet
    return longest * 1e3


async def mass_timeout(registry: Registry) -> float:
    """Every agent times out at once: the longest turn of the loop the deadline timer takes."""
    longest = 0.0
    now = registry._sweeper.now() + registry.settings.heartbeat_timeout + 1
    while registry._tracker.next_deadline() is not None and registry._tracker.next_deadline() <= now:
        started = clock()
        registry.expire_due(now)
        longest = max(longest, clock() - started)
        await asyncio.sleep(0)
    return longest * 1e3


async def mass_expiry(n: int) -> dict[str, float]:
    """N agents loaded at once time out together after 1 s and expire together after 5 s. A turn's length
    is the loop thread's CPU time between two wakeups of a task that yields all the time (CPU time: other
    processes on a shared machine do not lengthen it)."""
    settings = RegistrySettings(
        heartbeat_timeout=1.0, auto_deregister_timeout=5.0, expiry_guard_threshold=1.0
    )
    registry = Registry(settings, Loaded(agents(n, 100)), clock=SystemClock())  # type: ignore[arg-type]
    loop = asyncio.get_running_loop()  # asyncio's: its time() is time.monotonic(), as SystemClock's
    with collector.loading():  # as the daemon loads (registryd/server.py)
        await registry.start()
    deadline = registry._started_at + settings.heartbeat_timeout  # every clock started then
    collector.install()
    results: dict[str, float] = {}
    try:
        for phase, done, at in (
            ("timeout", "status_changes:HEARTBEAT_TIMEOUT:UNHEALTHY", deadline),
            ("expiry", "deregistrations:EXPIRED", deadline + 4.0),
        ):
            longest, turns, busy, last = 0.0, 0, 0.0, time.thread_time()
            while registry.counters[done] < n:
                await asyncio.sleep(0)
                now = time.thread_time()
                if loop.time() >= at and now - last > BUSY:
                    longest, turns, busy = max(longest, now - last), turns + 1, busy + now - last
                last = now
            results[f"mass {phase} of {n:,}: longest turn of the loop (CPU)"] = longest * 1e3
            results[f"mass {phase} of {n:,}: CPU of those turns, all told"] = busy * 1e3
            results[f"mass {phase} of {n:,}: done after its deadline (wall)"] = (loop.time() - at) * 1e3
            results[f"mass {phase} of {n:,}: turns over 1 ms (a count, not ms)"] = turns
    finally:
        collector.uninstall()
        await registry.stop()
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--agents", type=int, default=1_000_000)
    parser.add_argument("--mass-expiry", type=int, default=0, metavar="N")
    parser.add_argument("--per-runtime", type=int, default=100, help="agents per runtime (and stream)")
    parser.add_argument("--clock", choices=sorted(CLOCKS), default="wall")
    args = parser.parse_args()
    global clock
    clock = CLOCKS[args.clock]
    logs.configure("console", "warning")
    probe = mass_expiry(args.mass_expiry) if args.mass_expiry else measure(args.agents, args.per_runtime)
    for name, ms in asyncio.run(probe).items():
        print(f"{name:62} {ms:9.1f} ms")


if __name__ == "__main__":
    main()
