"""Helpers for tests that drive registryd.core directly (no network)."""

from __future__ import annotations

import heapq
import itertools
import random
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import replace

from registryd.clock import SystemClock
from registryd.core.clock import Clock
from registryd.core.events import Subscription
from registryd.core.model import Agent, AgentCard, AgentStatus, Event, EventType, Skill, StatusReason
from registryd.core.placement import Placement
from registryd.core.registry import Registry, RegistrySettings
from registryd.store.base import Snapshot, Store

# Tenth-of-a-second liveness for time-based tests; the expiry guard stays out of the way below 10 agents.
FAST = RegistrySettings(heartbeat_timeout=0.3, auto_deregister_timeout=0.8)
# Liveness far beyond any test's duration, for the other tests: a stall under load cannot time agents out.
STEADY = RegistrySettings(heartbeat_timeout=60, auto_deregister_timeout=120)


class FakeTimer:
    def __init__(self) -> None:
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class FakeClock:
    """Time that moves only when a test says so; timers fire in deadline order as it moves."""

    WALL_OFFSET = 1_700_000_000.0

    def __init__(self) -> None:
        self._now = 1000.0
        self._timers: list[tuple[float, int, Callable[[], object], FakeTimer]] = []
        self._seq = itertools.count()

    def monotonic(self) -> float:
        return self._now

    def wall(self) -> float:
        return self.WALL_OFFSET + self._now

    def schedule(self, delay: float, callback: Callable[[], object]) -> FakeTimer:
        timer = FakeTimer()
        heapq.heappush(self._timers, (self._now + max(0.0, delay), next(self._seq), callback, timer))
        return timer

    def advance(self, seconds: float) -> None:
        """Let `seconds` pass with the loop running: every timer fires at its own deadline."""
        self._fire_until(self._now + seconds, stalled=False)

    def stall(self, seconds: float) -> None:
        """Let `seconds` pass with the loop stopped (SIGSTOP), then fire what is overdue, late."""
        self._now += seconds
        self._fire_until(self._now, stalled=True)

    def _fire_until(self, until: float, stalled: bool) -> None:
        while self._timers and self._timers[0][0] <= until:
            deadline, _, callback, timer = heapq.heappop(self._timers)
            if timer.cancelled:
                continue
            if not stalled:
                self._now = max(self._now, deadline)
            callback()
        self._now = max(self._now, until)


@asynccontextmanager
async def running(
    base: RegistrySettings = STEADY,
    clock: Clock | None = None,
    store: Store | None = None,
    **overrides: object,
) -> AsyncIterator[Registry]:
    """A started registry (in memory unless `store` is given) with `base` settings plus `overrides`,
    stopped on exit."""
    settings = replace(base, **overrides)  # type: ignore[arg-type]
    registry = Registry(settings, store, clock=clock or SystemClock())
    await registry.start()
    try:
        yield registry
    finally:
        await registry.stop()


def card(*capabilities: str, name: str = "agent", skills: tuple[Skill, ...] = ()) -> AgentCard:
    return AgentCard(name=name, capabilities=capabilities, skills=skills)


async def queued(sub: Subscription) -> list[Event]:
    """Every event the subscription holds right now, without waiting for more."""
    events = []
    while (event := await sub.next(0)) is not None:
        events.append(event)
    return events


async def advance(clock: FakeClock, registry: Registry, seconds: float) -> None:
    """Let `seconds` pass on the fake clock, then wait until what the timers decided is committed."""
    clock.advance(seconds)
    await registry.committer.barrier()


def changes(events: Sequence[Event]) -> list[tuple[str, AgentStatus | None, StatusReason | None]]:
    """(agent id, new status, reason) of each AGENT_STATUS_CHANGED among `events`."""
    return [
        (e.agent_id, e.new_status, e.status_reason)
        for e in events
        if e.type is EventType.AGENT_STATUS_CHANGED
    ]


async def status_changes(
    registry: Registry, sub: Subscription
) -> list[tuple[str, AgentStatus | None, StatusReason | None]]:
    """The status changes `sub` holds once everything decided so far is committed."""
    await registry.committer.barrier()
    return changes(await queued(sub))


def stored_agent(agent_id: str, runtime_id: str, card: AgentCard, now: float, revision: int) -> Agent:
    """An ACTIVE agent as a store keeps it, registered and last seen at `now`."""
    return Agent(
        agent_id, runtime_id, card, AgentStatus.ACTIVE, StatusReason.REGISTERED, now, now, now, revision
    )


class PersistedAgents:
    """A store holding what an earlier run committed: loads many agents fast, as a restart does."""

    def __init__(self, agents: list[Agent]) -> None:
        self.snapshot = Snapshot(agents=agents, revision=len(agents))
        self.streams: dict[str, bool] = {}  # what was written about stream holders

    async def load(self) -> Snapshot:
        return self.snapshot

    async def append(self, events: Sequence[Event], streams: Mapping[str, bool]) -> None:
        self.streams.update(streams)

    async def close(self) -> None:
        return None


@asynccontextmanager
async def with_seeded_placement(clock: FakeClock) -> AsyncIterator[Registry]:
    """A registry on `clock` whose SelectAgent draws from a seeded random, so choices repeat."""
    async with running(STEADY, clock) as registry:
        registry.placement = Placement(registry, registry.loads, registry.counters, clock, random.Random(7))
        yield registry
