"""The store interface. The event log is the write-ahead record: every committed event carries the
agent's state after the change, so a store derives agents from the events it is given."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

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
    # A shared store's: its revision of the last change (etcd: the log key's mod revision) and the id of
    # its history (etcd: the cluster id and the prefix's creation; it changes when the history does).
    store_revision: int = 0
    history_id: str = ""


class Store(Protocol):
    async def load(self) -> Snapshot:
        """Everything committed so far."""
        ...

    async def append(self, events: Sequence[Event], streams: Mapping[str, bool]) -> None:
        """Commit events (revisions > 0, in order) and the agent states they carry, atomically, with
        whether each runtime in `streams` holds a heartbeat stream now."""
        ...

    async def close(self) -> None: ...


class Conflict(Exception):
    """A shared store refused a change: someone else's change came first (at `store_revision`)."""

    def __init__(self, store_revision: int) -> None:
        super().__init__(f"another change was committed first, at store revision {store_revision}")
        self.store_revision = store_revision


class StoreUnavailable(Exception):
    """A shared store cannot be reached now; the write did not happen (or its outcome is unknown)."""


@runtime_checkable
class SharedStore(Protocol):
    """A store several registry replicas write to (DESIGN.md section 5). Changes are committed only when
    the store's last change is still `expected` (so a change decided against a view that missed another
    replica's change is refused), and every replica applies all changes in commit order from `follow`."""

    async def load(self) -> Snapshot: ...

    async def commit(self, events: Sequence[Event], expected: int) -> int:
        """Commit one change (its events, with the agent states they carry) atomically; returns its store
        revision. Raises Conflict or StoreUnavailable."""
        ...

    def follow(self, after: int) -> AsyncIterator[tuple[int, list[Event]]]:
        """The changes committed after store revision `after`, in order, as they are committed."""
        ...

    async def read_revision(self) -> int:
        """The store revision of the last change committed, for reads that must reflect it."""
        ...

    async def close(self) -> None: ...
