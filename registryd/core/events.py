"""The event log and fan-out: retention with resume, and one bounded queue per subscriber.

The hub never waits on a subscriber: publishing appends to each matching subscriber's queue, and a
subscriber whose queue is full is cut off (it resumes from the last revision it was sent). The hub
publishes a commit's events together, and a subscriber that had room when they came takes them all: one
change with more events than the queue holds never cuts off a subscriber that keeps up.
"""

from __future__ import annotations

import asyncio
from collections import Counter, deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from itertools import islice

from registryd.core.errors import RevisionCompacted, SubscriberOverflow
from registryd.core.filters import Term, facets_of
from registryd.core.model import Event, EventType, HeartbeatDigest

DEFAULT_TYPES = frozenset(EventType) - {EventType.AGENT_HEARTBEAT}
DIGEST_CHUNK = 20_000  # beats per digest message: about 1 MB, well inside a default client's 4 MiB


class SubscriptionClosed(Exception):
    """The subscription was closed by the registry (shutdown) or by its owner."""


@dataclass(frozen=True, slots=True)
class EventFilter:
    types: frozenset[EventType] = DEFAULT_TYPES
    runtime_id: str = ""
    agent_id: str = ""
    heartbeat_digests: bool = False
    # A compiled AgentFilter (core/filters.py): only events of agents that pass it, as the event's agent
    # is (a change that makes an agent stop passing is not sent); runtime events are not sent.
    agent_terms: tuple[Term, ...] = ()

    def matches(self, event: Event) -> bool:
        return (
            event.type in self.types
            and (not self.runtime_id or event.runtime_id == self.runtime_id)
            and (not self.agent_id or event.agent_id == self.agent_id)
            and (not self.agent_terms or self._passes(event))
        )

    def _passes(self, event: Event) -> bool:
        if event.agent is None:
            return False
        facets = facets_of(event.agent)
        return all(term.holds(facets) for term in self.agent_terms)


class EventLog:
    """The last `retention` events, contiguous in revision."""

    def __init__(self, retention: int, events: Iterable[Event] = (), compacted_revision: int = 0) -> None:
        self._events: deque[Event] = deque(events, maxlen=retention)
        self._compacted = compacted_revision
        if self._events:
            self._compacted = self._events[0].revision - 1

    @property
    def compacted_revision(self) -> int:
        """Events at or below this revision are gone."""
        return self._compacted

    @property
    def last_revision(self) -> int:
        return self._events[-1].revision if self._events else self._compacted

    def append(self, event: Event) -> None:
        if self._events and len(self._events) == self._events.maxlen:
            self._compacted = self._events[0].revision
        self._events.append(event)

    def since(self, revision: int) -> list[Event]:
        """Retained events with revision >= `revision`."""
        if revision <= self._compacted:
            raise RevisionCompacted(revision, self._compacted)
        start = revision - self._compacted - 1
        return list(islice(self._events, start, None)) if start < len(self._events) else []


class Subscription:
    """One subscriber: replayed events first, then live ones through a bounded queue."""

    def __init__(
        self, hub: EventHub, event_filter: EventFilter, queue_size: int, replay: list[Event], from_rev: int
    ) -> None:
        self._hub = hub
        self.filter = event_filter
        self._queue_size = queue_size
        self._replay = deque(e for e in replay if event_filter.matches(e))
        self._queue: deque[Event] = deque()
        self._beats: dict[str, float] = {}  # agent_id -> last heartbeat, for the next digest
        self._ready = asyncio.Event()
        self._from_revision = from_rev
        self._overflow: SubscriberOverflow | None = None
        self._closed = False
        self.on_overflow: Callable[[], object] | None = None  # lets the owner stop a write it is blocked in
        self.on_close: Callable[[], object] | None = None  # gives back the registry's slot
        # Every matching event up to here has been handed out by next().
        # A resume ahead of the hub claims no more than the hub has: a client that resumes from a
        # revision the daemon never reached (it restarted without its data) sees the real one.
        self.last_revision = min(from_rev - 1, hub.revision) if from_rev else hub.revision

    def offer(self, events: Sequence[Event], continued: bool = False) -> None:
        """Called by the hub with the events of one commit (or, `continued`, the rest of the last one, which
        comes a slice at a time); never blocks. They are queued together if the queue had room before the
        commit, so the queue holds at most queue_size plus one commit's events."""
        if self._closed:
            return
        wanted = [e for e in events if self.filter.matches(e) and not (0 < e.revision < self._from_revision)]
        if wanted:
            self._enqueue(wanted, continued)

    def offer_beats(self, beats: dict[str, float]) -> None:
        """Heartbeat times for the next digest. They coalesce with those not yet sent (the newest time per
        agent wins), so a slow reader holds at most one entry per agent, and digests never overflow it."""
        if not self._closed:
            self._beats.update(beats)
            self._ready.set()

    def _enqueue(self, items: Sequence[Event], continued: bool) -> None:
        if len(self._queue) >= self._queue_size and not continued:
            self._overflow = SubscriberOverflow(self.last_revision, self._queue_size)
            self._hub.dropped_subscribers += 1
            self._hub.dropped_events += len(self._queue) + len(items)
            self._queue.clear()
            self.close()
            if self.on_overflow is not None:
                self.on_overflow()
            return
        self._queue.extend(items)
        self._ready.set()

    async def next(self, timeout: float | None = None) -> Event | HeartbeatDigest | None:
        """The next event or digest, or None when `timeout` passes with nothing to send (the caller bookmarks).

        Raises SubscriberOverflow when the subscriber was cut off.
        """
        while True:
            if self._replay:
                return self._hand_out(self._replay.popleft())
            if self._queue:
                return self._hand_out(self._queue.popleft())
            if self._beats:
                return self._digest()
            if self._overflow is not None:
                raise self._overflow
            if self._closed:
                raise SubscriptionClosed
            self._ready.clear()
            try:
                # asyncio.timeout, not wait_for: in 3.11 wait_for wraps the wait in a task of its own,
                # once per event per subscriber.
                async with asyncio.timeout(timeout):
                    await self._ready.wait()
            except TimeoutError:
                return None

    def bookmark(self) -> int:
        """The revision up to which this subscriber has seen everything that matched (nothing is queued)."""
        # A stream that resumed ahead of the hub starts at from_revision: events below it are not sent, so
        # until the hub reaches it the bookmark stays at the real revision it started from, never between.
        if not self._replay and not self._queue and self._hub.revision >= self._from_revision - 1:
            self.last_revision = max(self.last_revision, self._hub.revision)
        return self.last_revision

    def _hand_out(self, event: Event) -> Event:
        if event.revision:
            self.last_revision = event.revision
        return event

    def _digest(self) -> HeartbeatDigest:
        if len(self._beats) <= DIGEST_CHUNK:
            beats, self._beats = self._beats, {}
        else:
            beats = dict(islice(self._beats.items(), DIGEST_CHUNK))
            for agent_id in beats:
                del self._beats[agent_id]
        return HeartbeatDigest(tuple(beats.items()))

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._hub.remove(self)
            self._ready.set()
            if self.on_close is not None:
                self.on_close()

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def overflow(self) -> SubscriberOverflow | None:
        return self._overflow


class EventHub:
    """Retains and fans out committed events in revision order."""

    def __init__(
        self,
        retention: int,
        queue_size: int,
        agent_holds: Callable[[str, tuple[Term, ...]], bool] = lambda agent_id, terms: not terms,
    ) -> None:
        self.log = EventLog(retention)
        self._agent_holds = agent_holds  # whether a registered agent passes a filter, for digests
        self._retention = retention
        self._queue_size = queue_size
        self._subscribers: set[Subscription] = set()
        self._wanted: Counter[EventType] = Counter()
        self._digest_subscribers: set[Subscription] = set()
        self._beats: dict[
            str, tuple[str, float]
        ] = {}  # agent_id -> (runtime_id, time), since the last digest
        self.dropped_subscribers = 0  # cut off because their queue overflowed
        self.dropped_events = 0  # events those subscribers had not been sent (they resume to get them)

    def restore(self, events: Sequence[Event], compacted_revision: int) -> None:
        """Load the retained tail of a previous run (before anyone subscribes)."""
        self.log = EventLog(self._retention, events, compacted_revision)

    def wants(self, event_type: EventType) -> bool:
        """Whether any subscriber asked for this type (so unwanted ephemeral events are not even built)."""
        return self._wanted[event_type] > 0

    @property
    def revision(self) -> int:
        """The last published revision."""
        return self.log.last_revision

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)

    def subscribe(self, event_filter: EventFilter, from_revision: int = 0) -> Subscription:
        """Live events only when from_revision is 0; otherwise retained events from it, then live ones."""
        replay = self.log.since(from_revision) if from_revision else []
        sub = Subscription(self, event_filter, self._queue_size, replay, from_revision)
        self._subscribers.add(sub)
        self._wanted.update(event_filter.types)
        if event_filter.heartbeat_digests:
            self._digest_subscribers.add(sub)
        return sub

    def publish(self, events: Sequence[Event], continued: bool = False) -> None:
        """Publish the events of one commit, in revision order (`continued`: more of the last commit's)."""
        for event in events:
            if event.revision:
                self.log.append(event)
        for sub in tuple(self._subscribers):
            sub.offer(events, continued)

    @property
    def wants_digests(self) -> bool:
        return bool(self._digest_subscribers)

    def note_beat(self, agent_id: str, runtime_id: str, at: float) -> None:
        """Remember a beat for the next digest (only called while someone wants digests)."""
        self._beats[agent_id] = (runtime_id, at)

    def send_digests(self) -> None:
        """Hand every digest subscriber the beats since the last digest that match its filter."""
        beats, self._beats = self._beats, {}
        if not beats:
            return
        everything = {agent_id: at for agent_id, (_, at) in beats.items()}
        for sub in tuple(self._digest_subscribers):
            wanted = sub.filter
            if not wanted.runtime_id and not wanted.agent_id and not wanted.agent_terms:
                sub.offer_beats(everything)
                continue
            entries = {
                agent_id: at
                for agent_id, (runtime_id, at) in beats.items()
                if (not wanted.runtime_id or runtime_id == wanted.runtime_id)
                and (not wanted.agent_id or agent_id == wanted.agent_id)
                and (not wanted.agent_terms or self._agent_holds(agent_id, wanted.agent_terms))
            }
            if entries:
                sub.offer_beats(entries)

    def remove(self, sub: Subscription) -> None:
        if sub in self._subscribers:
            self._subscribers.remove(sub)
            self._wanted.subtract(sub.filter.types)
            self._digest_subscribers.discard(sub)

    def close_all(self) -> None:
        for sub in tuple(self._subscribers):
            sub.close()
