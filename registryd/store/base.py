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
    # A shared store's revision of the last change (etcd: the log key's mod revision).
    store_revision: int = 0
    # The id of the store's history, which changes when the history does (etcd: the cluster id and the
    # prefix's creation; SQLite: made with the data file, new after a restore; memory: each start).
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
    """A shared store refused changes: someone else's change came first (at `store_revision`). The first
    `committed` of the changes were committed before it (a write too large for one transaction is a chain)."""

    def __init__(self, store_revision: int, committed: int = 0) -> None:
        super().__init__(f"another change was committed first, at store revision {store_revision}")
        self.store_revision = store_revision
        self.committed = committed


class Fenced(Exception):
    """A shared store refused changes because the fences of those at `fenced` (indexes) no longer hold (the
    runtime's session is held elsewhere now, or this replica no longer leads): they must not happen. The
    first `committed` changes were committed, the last of them at `store_revision`; the others were not."""

    def __init__(self, store_revision: int, fenced: frozenset[int], committed: int = 0) -> None:
        super().__init__(f"the fences of changes {sorted(fenced)} no longer hold")
        self.store_revision = store_revision
        self.fenced = fenced
        self.committed = committed


@dataclass(frozen=True, slots=True)
class Fence:
    """Conditions a shared store checks in the same transaction as a change (cluster mode)."""

    leader: bool = False  # this replica still leads
    held_here: str = ""  # a runtime whose session this replica must still hold (its lease)
    unheld: str = ""  # a runtime that must hold no session anywhere
    release: bool = False  # end held_here's session in the same transaction (released, not dead)


@dataclass(frozen=True, slots=True)
class Change:
    """A decided change for a shared store: its events (revisions > 0, with the agent states they carry)
    and the fence it must be committed under."""

    events: Sequence[Event]
    fence: Fence | None = None


class StoreUnavailable(Exception):
    """A shared store cannot be reached now; the write did not happen (or its outcome is unknown)."""


class SessionListener(Protocol):
    """What a replica's liveness hears from the other replicas through the shared store."""

    def session_changed(self, runtime_id: str, held_here: bool | None) -> None:
        """A runtime's session is now held by this replica (True), by another (False), or by none (None:
        its holder ended it, or the holder's lease expired)."""

    def session_released(self, runtime_id: str) -> None:
        """A runtime's holder ended its session (the stream ended on a live replica) in the transaction of
        the change the end made to the agents it bound: no death, the runtime's agents keep their deadlines."""

    def leadership_changed(self, leading: bool) -> None: ...

    def beats_heard(self, agent_ids: Sequence[str]) -> None:
        """Agents beaten through another replica (coalesced, a moment ago)."""

    def lease_renewed(self) -> None:
        """This replica's lease had expired (it was cut off or stopped) and a new one was granted: the
        sessions it still holds must be taken again."""


class SessionPort(Protocol):
    """A replica's lease, its runtimes' session keys, the leader election, and beat times shared through
    the store (DESIGN.md section 5, liveness)."""

    replica_id: str  # this replica's, made at start: the leadership key names it while it leads

    async def start(self, listener: SessionListener) -> None:
        """Take a lease, keep it alive, campaign for leadership and follow the sessions and beats."""
        ...

    async def hold(self, runtime_id: str, take: bool = True) -> None:
        """Write the runtime's session key with this replica's lease (`take=False`: only if no replica
        holds it, so a replica back from a lost lease never takes a runtime that re-bound elsewhere)."""
        ...

    async def publish_beats(self, agent_ids: Sequence[str]) -> None: ...

    async def stop(self) -> None:
        """Stop renewing (the lease runs out by itself: runtimes get its TTL to re-bind elsewhere)."""
        ...


@runtime_checkable
class SharedStore(Protocol):
    """A store several registry replicas write to (DESIGN.md section 5). Changes are committed only when
    the store's last change is still `expected` (so a change decided against a view that missed another
    replica's change is refused), and every replica applies all changes in commit order from `follow`."""

    async def load(self) -> Snapshot: ...

    async def commit(self, changes: Sequence[Change], expected: int) -> int:
        """Commit changes, in order, each if its fence holds: atomically, or as a chain of atomic parts when
        they are larger than the store takes at once. Returns the store revision of the last part. Raises
        Conflict, Fenced or StoreUnavailable."""
        ...

    def follow(self, after: int) -> AsyncIterator[tuple[int, list[Event]]]:
        """The changes committed after store revision `after`, in order, as they are committed."""
        ...

    async def read_revision(self) -> int:
        """The store revision of the last change committed, for reads that must reflect it."""
        ...

    @property
    def timeout(self) -> float:
        """Seconds a request may take (a consistent read also waits at most this long to catch up)."""
        ...

    def sessions(self) -> SessionPort:
        """Leases, session keys, leadership and shared beat times (core/cluster_liveness.py uses them)."""
        ...

    async def close(self) -> None: ...
