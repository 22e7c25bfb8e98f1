"""Helpers for tests that drive registryd.core directly (no network)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import replace

from registryd.core.events import Subscription
from registryd.core.model import Agent, AgentCard, Event, Skill
from registryd.core.registry import Registry, RegistrySettings
from registryd.store.base import Snapshot

# Tenth-of-a-second liveness for time-based tests; the expiry guard stays out of the way below 10 agents.
FAST = RegistrySettings(heartbeat_timeout=0.3, auto_deregister_timeout=0.8)
# Liveness far beyond any test's duration, for the other tests: a stall under load cannot time agents out.
STEADY = RegistrySettings(heartbeat_timeout=60, auto_deregister_timeout=120)


@asynccontextmanager
async def running(base: RegistrySettings = STEADY, **overrides: object) -> AsyncIterator[Registry]:
    """A started in-memory registry with `base` settings plus `overrides`, stopped on exit."""
    registry = Registry(replace(base, **overrides))  # type: ignore[arg-type]
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


class PersistedAgents:
    """A store holding what an earlier run committed: loads many agents fast, as a restart does."""

    def __init__(self, agents: list[Agent]) -> None:
        self._snapshot = Snapshot(agents=agents, revision=len(agents))

    async def load(self) -> Snapshot:
        return self._snapshot

    async def append(self, events: Sequence[Event]) -> None:
        return None

    async def close(self) -> None:
        return None
