"""The store interface. The event log is the write-ahead record: every committed event carries the
agent's state after the change, so a store derives agents from the events it is given."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from registryd.core.model import Agent, Event


class StoreError(Exception):
    """The store cannot be used (locked by another daemon, unreadable, corrupt); the daemon must not start."""


@dataclass(slots=True)
class Snapshot:
    agents: list[Agent] = field(default_factory=list)
    revision: int = 0
    events: list[Event] = field(default_factory=list)  # the retained tail, in revision order
    compacted_revision: int = 0
    stream_runtimes: set[str] = field(default_factory=set)  # runtimes that held a heartbeat stream


class Store(Protocol):
    async def load(self) -> Snapshot:
        """Everything committed so far."""
        ...

    async def append(self, events: Sequence[Event], streams: Mapping[str, bool]) -> None:
        """Commit events (revisions > 0, in order) and the agent states they carry, atomically, with
        whether each runtime in `streams` holds a heartbeat stream now."""
        ...

    async def close(self) -> None: ...
