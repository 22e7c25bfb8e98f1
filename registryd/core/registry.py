"""The registry: agents, runtimes, statuses, liveness and events, as one asyncio state machine.

A mutation decides a change against the view (without changing it: the status rule is core/status.py),
hands the decision to the committer, and answers once the view has applied the committed change. The view
changes only in `_apply`, from committed events, whoever decided them (in cluster mode, any replica); beat
times and liveness deadlines are this process's own. Secondary structures (per-runtime, per-status, the
capability index, sorted ids) are kept by `_put`/`_drop` only, so they cannot drift apart.
"""

from __future__ import annotations

import asyncio
import heapq
import logging
import math
import uuid
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import structlog
from sortedcontainers import SortedList

from registryd.core import idsets
from registryd.core.clock import Clock, Timer
from registryd.core.cluster import ClusterCommitter
from registryd.core.cluster_liveness import ClusterLiveness
from registryd.core.commit import Committer, Decision
from registryd.core.decided import Decided
from registryd.core.encoded_size import agent_size, runtime_size, text_size
from registryd.core.errors import (
    AlreadyExists,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    ResourceExhausted,
)
from registryd.core.events import EventFilter, EventHub, Subscription
from registryd.core.filters import NO_FILTER, AgentFilter, FilterIndex, Term, compile_filter
from registryd.core.index import CapabilityIndex, normalize
from registryd.core.liveness import EXPIRY_SLICE, DeadlineTracker, Due, ExpiryGuard, Terms
from registryd.core.load import AgentLoadReport, LoadBook, assign
from registryd.core.model import (
    Agent,
    AgentCard,
    AgentStatus,
    BeatResult,
    DeregisterReason,
    Event,
    EventType,
    FoundAgent,
    MatchKind,
    Page,
    Replica,
    RuntimeInfo,
    RuntimePage,
    Stats,
    StatusReason,
)
from registryd.core.placement import SELECTABLE, Placement
from registryd.core.query_cache import QueryCache
from registryd.core.runtime_order import RuntimeOrder
from registryd.core.slots import CallerSlots
from registryd.core.status import (
    SELF_REPORTABLE,
    Trigger,
    apply,
    beat_trigger,
    operator_trigger,
    unchanged_by,
)
from registryd.core.sweeper import LagHistogram, Sweeper
from registryd.core.validation import (
    Limits,
    validate_card,
    validate_id,
    validate_ids,
    validate_query,
    validate_stored,
)
from registryd.store.base import Fence, SharedStore, StoreError
from registryd.store.memory import MemoryStore

if TYPE_CHECKING:
    from registryd.core.streams import HeartbeatSession
    from registryd.store.base import Store

log = structlog.get_logger("registryd.registry")

ALL_STATUSES = frozenset(AgentStatus)
ANYWHERE = Fence()  # a change this process may always make (one daemon; the local store ignores fences)
DIGEST_INTERVAL = 1.0  # seconds between heartbeat digests
LOAD_SLICE = 500  # stored agents checked and indexed per turn of the event loop at start (10-20 us each)
FIND_CACHE_SIZE = 256  # distinct FindAgents queries (text, statuses, limit, filter) whose answers are kept
STATS_TOP_RUNTIMES = 100  # runtimes named in Stats.runtime_distribution (the largest)
# Agents a page of ListAgents looks at, at most: a filter few agents pass ends the page early (with a token
# to go on), rather than scanning a million agents in one turn of the loop.
LIST_SCAN = 20_000


@dataclass(frozen=True, slots=True)
class RegistrySettings:
    heartbeat_timeout: float = 30.0
    auto_deregister_timeout: float = 60.0
    event_queue_size: int = 100
    event_retention: int = 10_000
    expiry_guard_threshold: float = 0.5  # share of stale agents that pauses expiry; 1.0 disables
    expiry_guard_min_agents: int = 10
    expiry_guard_max_hold: float | None = None  # default: auto_deregister_timeout
    # After a restart, agents of runtimes that held a heartbeat stream turn UNHEALTHY unless the runtime
    # binds a stream again within this long.
    rebind_grace: float = 5.0
    # A heartbeat stream that has not bound a runtime this long after it opened is ended.
    bind_timeout: float = 10.0
    # Bounds on the liveness terms a runtime may ask for (requests outside them are clamped).
    min_heartbeat_timeout: float | None = None  # default: 1 s, or heartbeat_timeout if that is shorter
    max_heartbeat_timeout: float = 3600.0
    max_auto_deregister_timeout: float = 86400.0
    limits: Limits = field(default_factory=Limits)
    # Whether a card's signature verifies against a key the operator configured (registryd/signing.py);
    # None: no keys, no agent is verified.
    verify_card: Callable[[AgentCard], bool] | None = None

    def __post_init__(self) -> None:
        for name in (
            "heartbeat_timeout",
            "auto_deregister_timeout",
            "rebind_grace",
            "bind_timeout",
            "max_heartbeat_timeout",
            "max_auto_deregister_timeout",
        ):
            value = getattr(self, name)
            if not math.isfinite(value) or value < 0:
                raise ValueError(f"{name} must be a finite number of seconds, not negative (got {value})")
        if self.heartbeat_timeout <= 0:
            raise ValueError(f"heartbeat_timeout must be positive (got {self.heartbeat_timeout})")
        if self.bind_timeout <= 0:
            raise ValueError(f"bind_timeout must be positive (got {self.bind_timeout})")
        if not self.min_heartbeat <= self.heartbeat_timeout <= self.max_heartbeat_timeout:
            raise ValueError(
                f"heartbeat_timeout ({self.heartbeat_timeout}) must be within min_heartbeat_timeout "
                f"({self.min_heartbeat}) and max_heartbeat_timeout ({self.max_heartbeat_timeout})"
            )
        if not self.auto_deregister_timeout <= self.max_auto_deregister_timeout:
            raise ValueError(
                f"auto_deregister_timeout ({self.auto_deregister_timeout}) must not exceed "
                f"max_auto_deregister_timeout ({self.max_auto_deregister_timeout})"
            )
        if self.max_auto_deregister_timeout <= self.max_heartbeat_timeout:
            raise ValueError(
                f"max_auto_deregister_timeout ({self.max_auto_deregister_timeout}) must be greater than "
                f"max_heartbeat_timeout ({self.max_heartbeat_timeout})"
            )
        if self.auto_deregister_timeout <= self.heartbeat_timeout:
            raise ValueError(
                f"auto_deregister_timeout ({self.auto_deregister_timeout}) must be greater than "
                f"heartbeat_timeout ({self.heartbeat_timeout})"
            )
        if self.event_queue_size < 1:
            raise ValueError(f"event_queue_size must be at least 1 (got {self.event_queue_size})")
        if self.event_retention < 1:
            raise ValueError(f"event_retention must be at least 1 (got {self.event_retention})")
        if not 0.0 < self.expiry_guard_threshold <= 1.0:
            raise ValueError(f"expiry_guard_threshold must be in (0, 1] (got {self.expiry_guard_threshold})")
        if self.expiry_guard_max_hold is not None and self.expiry_guard_max_hold < 0:
            raise ValueError(f"expiry_guard_max_hold must not be negative (got {self.expiry_guard_max_hold})")
        if self.min_heartbeat_timeout is not None and not 0 < self.min_heartbeat_timeout < math.inf:
            raise ValueError(f"min_heartbeat_timeout must be positive (got {self.min_heartbeat_timeout})")

    @property
    def min_heartbeat(self) -> float:
        if self.min_heartbeat_timeout is not None:
            return self.min_heartbeat_timeout
        return min(1.0, self.heartbeat_timeout)

    @property
    def default_terms(self) -> Terms:
        return Terms(self.heartbeat_timeout, self.auto_deregister_timeout)

    def terms(self, heartbeat_timeout: float | None, auto_deregister_timeout: float | None) -> Terms:
        """The terms in force when a runtime asks for these (None: not asked), within the bounds.

        Without an auto-deregister timeout, the default applies, or twice the heartbeat timeout if that
        is longer (so a long heartbeat timeout alone is valid, as in the original registry)."""
        for name, value in (
            ("heartbeat_timeout", heartbeat_timeout),
            ("auto_deregister_timeout", auto_deregister_timeout),
        ):
            if value is not None and not 0 < value < math.inf:
                raise InvalidArgument(
                    f"{name} must be a positive number of seconds (got {value})", field=name
                )
        if (
            heartbeat_timeout is not None
            and auto_deregister_timeout is not None
            and auto_deregister_timeout <= heartbeat_timeout
        ):
            raise InvalidArgument(
                f"auto_deregister_timeout ({auto_deregister_timeout}) must be greater than "
                f"heartbeat_timeout ({heartbeat_timeout})",
                field="auto_deregister_timeout",
            )
        hb = self.heartbeat_timeout if heartbeat_timeout is None else heartbeat_timeout
        hb = min(max(hb, self.min_heartbeat), self.max_heartbeat_timeout)
        auto = auto_deregister_timeout or max(self.auto_deregister_timeout, 2 * hb)
        auto = min(auto, self.max_auto_deregister_timeout)
        if auto <= hb:
            auto = min(2 * hb, self.max_auto_deregister_timeout)
        return Terms(hb, auto)


class Registry:
    def __init__(
        self,
        settings: RegistrySettings | None = None,
        store: Store | SharedStore | None = None,
        on_store_failure: Callable[[BaseException], None] | None = None,
        *,
        clock: Clock,
        on_store_availability: Callable[[bool], None] | None = None,
    ) -> None:
        self.settings = settings or RegistrySettings()
        self._clock = clock
        self.limits = self.settings.limits
        self._store: Store | SharedStore = store if store is not None else MemoryStore()
        self._agents: dict[str, Agent] = {}
        self._wire_sizes: dict[str, int] = {}  # see _encoded_size
        self._sorted_ids: SortedList = SortedList()  # every agent id
        self._runtimes: dict[str, set[str]] = {}
        self._runtime_order = RuntimeOrder()  # the runtimes by id and by size, for paging and GetStats
        self._by_status: dict[AgentStatus, set[str]] = {s: set() for s in AgentStatus}
        self._index = CapabilityIndex()  # capability phrases, skill names and tags
        self._described = CapabilityIndex()  # descriptions and skill examples, ranked below
        self._filters = FilterIndex()
        self._found: QueryCache[tuple[tuple[str, str, MatchKind], ...]] = QueryCache(FIND_CACHE_SIZE)
        self._tracker = DeadlineTracker()
        self._sweeper = Sweeper(clock, self._on_deadline)
        self._default_terms = self.settings.default_terms
        self._terms: dict[str, Terms] = {}  # runtimes that asked for their own terms
        max_hold = self.settings.expiry_guard_max_hold
        self._guard = ExpiryGuard(
            self.settings.expiry_guard_threshold,
            self.settings.expiry_guard_min_agents,
            self.settings.auto_deregister_timeout if max_hold is None else max_hold,
        )
        self._bound: dict[str, HeartbeatSession] = {}
        self._sessions: dict[HeartbeatSession, tuple[Callable[[], None], Timer]] = {}  # slot, bind timer
        limits = self.limits
        self._stream_slots = CallerSlots(
            "heartbeat streams",
            limits.max_streams,
            limits.max_streams_per_caller,
            "max_streams",
            "max_streams_per_caller",
        )
        self._subscriber_slots = CallerSlots(
            "subscribers",
            limits.max_subscribers,
            limits.max_subscribers_per_caller,
            "max_subscribers",
            "max_subscribers_per_caller",
        )
        self._streaming: Counter[str] = Counter()  # runtime_id -> sessions bound to it
        self._awaiting_rebind: set[str] = set()  # runtimes that held a stream before a restart
        self._rebind_timer: Timer | None = None
        self._digest_timer: Timer | None = None
        self._started_at = 0.0
        self._started_wall = 0.0
        self._revision = 0  # the last revision handed out (a decision in flight may be ahead of the view)
        self._applied_revision = 0  # the revision of the last event the view applied: what reads reflect
        self.hub = EventHub(
            self.settings.event_retention, self.settings.event_queue_size, self._filters.holds
        )
        self.committer: Committer | ClusterCommitter
        self.cluster: ClusterLiveness | None = None  # cluster mode: who judges which agents' liveness
        # decisions read agents through this (cluster mode: several decided changes share one write)
        self._decided = Decided(self._agents, self._runtimes)
        if isinstance(self._store, SharedStore):
            self.committer = ClusterCommitter(
                self._store,
                self._apply,
                self.hub.publish,
                self._rewind,
                self._decided,
                on_store_availability,
            )
            sessions = self._store.sessions()
            self.cluster = ClusterLiveness(sessions, self, clock)
            self.replica_id = sessions.replica_id
        else:
            self.committer = Committer(self._store, self._apply, self.hub.publish, on_store_failure)
            self.replica_id = uuid.uuid4().hex
        self.history_id = ""  # the store's history; changes when the history does
        # Totals since start. Keys with a colon count by label: "deregistrations:EXPIRED",
        # "status_changes:STREAM_LOST:UNHEALTHY" (reason, new status).
        self.counters: Counter[str] = Counter()
        # Load reports and reservations (core/load.py) and SelectAgent (core/placement.py): ephemeral.
        self.loads = LoadBook(
            clock,
            self.limits.max_reservations,
            self.counters,
            lambda agent_id: self.placement.room((agent_id,)),
        )
        self.placement = Placement(self, self.loads, self.counters, clock)
        self.started = False

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Load what the store kept; every loaded agent gets a fresh heartbeat grace period, and the agents
        of runtimes that held a heartbeat stream get `rebind_grace` to bind one again."""
        snapshot = await self._store.load()
        self.hub.restore(snapshot.events, snapshot.compacted_revision)
        self._revision = self._applied_revision = snapshot.revision
        self.history_id = snapshot.history_id
        for loaded, agent in enumerate(snapshot.agents, 1):
            if loaded % LOAD_SLICE == 0:
                await asyncio.sleep(0)
            try:
                validate_stored(agent, self.limits)
            except InvalidArgument as error:
                raise StoreError(
                    f"stored agent {str(agent.agent_id)[:128]!r} breaks the rules a registration follows "
                    f"({error.message}); restore a backup, or raise the limit if it was lowered"
                ) from None
            if agent.card.signatures and self.settings.verify_card is not None:  # today's keys judge
                agent = replace(agent, verified=self._verified(agent.card))
            self._put(None, agent)
        now = self._sweeper.now()  # the grace starts once every agent is loaded (seconds at 1M), not before
        for tracked, agent_id in enumerate(list(self._agents), 1):
            if tracked % (4 * LOAD_SLICE) == 0:
                await asyncio.sleep(0)
            self._tracker.track(agent_id, now, self._default_terms)
        self._awaiting_rebind = snapshot.stream_runtimes & self._runtimes.keys()
        for runtime_id in snapshot.stream_runtimes - self._awaiting_rebind:
            self.committer.note_stream(runtime_id, False)
        self._started_at = now
        self._started_wall = self._clock.wall()
        if isinstance(self.committer, ClusterCommitter):
            await self.committer.start(snapshot)
        if self.cluster is not None:
            await self.cluster.start()
        self._runtime_order.load({runtime_id: len(ids) for runtime_id, ids in self._runtimes.items()})
        self.started = True
        self._sweeper.start()
        if self._awaiting_rebind:
            self._rebind_timer = self._clock.schedule(self.settings.rebind_grace, self._end_rebind_grace)
        self._arm()

    async def stop(self) -> None:
        """Stop timers, end subscriptions and wait for writes in flight. Streams are drained by their owners."""
        self._sweeper.stop()
        for timer in (self._rebind_timer, self._digest_timer):
            if timer is not None:
                timer.cancel()
        self._rebind_timer = self._digest_timer = None
        self.started = False
        self.loads.stop()
        self.hub.close_all()
        if self.cluster is not None:
            await self.cluster.stop()
        await self.committer.drain()
        await self._store.close()

    # ------------------------------------------------------------------ reads

    @property
    def revision(self) -> int:
        """The revision the view reflects (a read's revision), never one a write in flight was handed."""
        return self._applied_revision

    @property
    def leader(self) -> bool:
        """Whether this replica judges the agents no replica's stream holds (a single daemon: always)."""
        return self.cluster is None or self.cluster.leading

    @property
    def committed_revision(self) -> int:
        """The last durable revision. A write's answer reports this, not `revision`: revisions of writes
        still in flight are handed out again after a crash, so no client may have been told them."""
        return self.hub.revision

    async def durable(self, revision: int) -> int:
        """`revision` once everything up to it is committed: a read answers with the revision of the state
        it reflects only after that state can no longer be lost (so list-then-subscribe stays exact)."""
        await self.settled()
        return revision

    async def settled(self) -> None:
        """Wait until every change decided so far is applied and durable."""
        await self.committer.barrier()

    async def sync(self) -> int:
        """Wait until this view reflects every write acknowledged anywhere before the call (a consistent
        read; in one process every acknowledged write is already in the view). Returns the revision."""
        if isinstance(self.committer, ClusterCommitter):
            await self.committer.sync()
        return await self.durable(self._applied_revision)

    @property
    def runtime_agents(self) -> dict[str, frozenset[str]]:
        return {runtime: frozenset(ids) for runtime, ids in self._runtimes.items()}

    def agents_of(self, runtime_id: str) -> list[str]:
        """The ids of a runtime's agents, sorted."""
        return sorted(self._runtimes.get(runtime_id, ()))

    def agent_or_none(self, agent_id: str) -> Agent | None:
        agent = self._agents.get(agent_id)
        return None if agent is None else self._current(agent)

    def get(self, agent_id: str) -> Agent:
        validate_id("agent_id", agent_id, self.limits)
        agent = self._agents.get(agent_id)
        if agent is None:
            raise _unknown(agent_id)
        return self._current(agent)

    def _current(self, agent: Agent) -> Agent:
        """The agent's record with its last heartbeat: a stream's beat of all its agents goes to the stream's
        pulse (core/liveness.py), not to each record, so a record catches up with it when read."""
        session = self._bound.get(agent.agent_id)
        if session is None or session.pulse.wall <= agent.last_heartbeat:
            return agent
        current = agent.beaten(session.pulse.wall)
        self._put(agent, current)
        return current

    def _latest(self, agent_id: str, decided: Agent) -> Agent:
        """The view's agent, unless a change applied since (another replica's) deregistered it."""
        agent = self._agents.get(agent_id)
        return decided if agent is None else self._current(agent)

    def list_agents(
        self,
        runtime_id: str = "",
        statuses: Collection[AgentStatus] = (),
        after: str = "",
        limit: int = 100,
        agent_filter: AgentFilter = NO_FILTER,
    ) -> Page:
        """Agents ordered by id after `after`, of the runtime and statuses asked that pass the filter: at most
        `limit`, no more than fit max_response_bytes, and no more than LIST_SCAN looked at."""
        if runtime_id:
            validate_id("runtime_id", runtime_id, self.limits)
        wanted = frozenset(statuses) or ALL_STATUSES
        terms = compile_filter(agent_filter, self.limits)
        ids = SortedList(self._runtimes.get(runtime_id, ())) if runtime_id else self._sorted_ids
        start = ids.bisect_right(after) if after else 0
        narrow = self._filters.narrowest(terms)
        order: Iterable[str]
        if narrow is not None and len(narrow) < len(ids) - start:  # walk the filter's agents, not all
            order = sorted(
                a
                for a in narrow
                if a > after and (not runtime_id or self._agents[a].runtime_id == runtime_id)
            )
        else:
            order = ids.islice(start)
        page = Page(revision=self._applied_revision)
        budget = self.limits.max_response_bytes
        for looked, agent_id in enumerate(order):
            agent = self._agents[agent_id]
            if agent.status not in wanted or (terms and not self._filters.holds(agent_id, terms)):
                if looked >= LIST_SCAN:
                    page.next_after = agent_id  # looked at enough: the next page goes on from here
                    break
                continue
            budget -= self._encoded_size(agent)
            if len(page.agents) == limit or (budget < 0 and page.agents):
                page.next_after = page.agents[-1].agent_id
                break
            page.agents.append(self._current(agent))
        return page

    def find(
        self,
        query: str,
        statuses: Collection[AgentStatus] = (),
        limit: int = 100,
        agent_filter: AgentFilter = NO_FILTER,
    ) -> list[FoundAgent]:
        """Agents whose indexed texts contain `query` and that pass the filter, best match first (by agent
        id when the filter is used alone). Empty statuses means ACTIVE."""
        wanted = frozenset(statuses) or frozenset({AgentStatus.ACTIVE})
        key = (query, wanted, limit, agent_filter)
        matches = self._found.get(key)
        if matches is None:
            matches = tuple(self._matches(query, agent_filter, [self._by_status[s] for s in wanted], limit))
            self._found.put(key, matches)
        self.counters["queries"] += 1
        found: list[FoundAgent] = []
        budget = self.limits.max_response_bytes
        for agent_id, text, kind in matches:
            agent = self._agents[agent_id]
            budget -= self._encoded_size(agent) + text_size(text)
            if budget < 0 and found:
                break
            found.append(FoundAgent(self._current(agent), text, kind))
        return found

    def matching(
        self, query: str, status: AgentStatus, limit: int, agent_filter: AgentFilter = NO_FILTER
    ) -> list[Agent]:
        """The agents of one status that FindAgents would answer with (SelectAgent's candidates)."""
        return [
            self._current(self._agents[m[0]])
            for m in self._matches(query, agent_filter, [self._by_status[status]], limit)
        ]

    def _matches(
        self, query: str, agent_filter: AgentFilter, wanted: list[set[str]], limit: int
    ) -> list[tuple[str, str, MatchKind]]:
        """(agent id, matched text as the agent spells it, kind) of the best `limit` agents of `wanted`
        (disjoint sets): matches in capability phrases, skill names and tags first, then in descriptions
        and examples."""
        terms = compile_filter(agent_filter, self.limits)
        if query.strip() or not terms:  # a blank query is refused unless a filter stands alone
            validate_query(query, self.limits)
        query = normalize(query)
        narrow = self._filters.narrowest(terms)
        if narrow is not None and len(narrow) < sum(map(len, wanted)):
            wanted = [agents & narrow for agents in wanted]  # walks the smaller set of each pair, in C
        if not query:
            return [(a, "", MatchKind.FILTER) for a in heapq.nsmallest(limit, self._passing(wanted, terms))]
        keep = (lambda agent_id: self._filters.holds(agent_id, terms)) if terms else None
        found = [
            (m.agent_id, self._index.spelling(m.agent_id, m.text), m.kind)
            for m in self._index.find(query, wanted, limit, keep)
        ]
        if len(found) < limit:
            ranked = {agent_id for agent_id, _, _ in found}

            def unranked(agent_id: str) -> bool:
                return agent_id not in ranked and (keep is None or keep(agent_id))

            described = self._described.find(query, wanted, limit - len(found), unranked)
            found += [(m.agent_id, self._described.spelling(m.agent_id, m.text), m.kind) for m in described]
        return found

    def _passing(self, wanted: list[set[str]], terms: tuple[Term, ...]) -> Iterable[str]:
        holds = self._filters.holds
        return (agent_id for agents in wanted for agent_id in agents if holds(agent_id, terms))

    def runtimes(self, after: str = "", limit: int = 100) -> RuntimePage:
        """Runtimes ordered by id after `after`: at most `limit`, and no more than fit max_response_bytes."""
        if after:
            validate_id("page_token", after, self.limits)
        page = RuntimePage(revision=self._applied_revision)
        budget = self.limits.max_response_bytes
        for runtime_id in self._runtime_order.after(after):
            agent_ids = tuple(sorted(self._runtimes[runtime_id]))
            budget -= runtime_size(runtime_id, agent_ids)
            if len(page.runtimes) == limit or (budget < 0 and page.runtimes):
                page.next_after = page.runtimes[-1].runtime_id
                break
            terms = self.terms_of(runtime_id)
            page.runtimes.append(
                RuntimeInfo(
                    runtime_id,
                    agent_ids,
                    self._streaming[runtime_id] > 0
                    or (self.cluster is not None and runtime_id in self.cluster.held_elsewhere),
                    terms.heartbeat_timeout,
                    terms.auto_deregister_timeout,
                )
            )
        return page

    def terms_of(self, runtime_id: str) -> Terms:
        """The liveness terms in force for a runtime's agents."""
        return self._terms.get(runtime_id, self._default_terms)

    def stats(self) -> Stats:
        return Stats(
            total_agents=len(self._agents),
            total_runtimes=len(self._runtimes),
            status_distribution={s.name: len(ids) for s, ids in self._by_status.items()},
            runtime_distribution=dict(self._runtime_order.largest(STATS_TOP_RUNTIMES)),
            total_queries=self.counters["queries"],
            total_registrations=self.counters["registrations"],
            total_deregistrations=self.counters["deregistrations"],
            capability_index_size=len(self._index),
            revision=self._applied_revision,
            compacted_revision=self.hub.log.compacted_revision,
            subscribers=self.hub.subscriber_count,
            heartbeat_streams=len(self._sessions),
            expiry_guard_active=self._guard.active,
            replica=Replica(self.replica_id, self.leader, self._started_wall, len(self._streaming)),
        )

    def subscribe(
        self,
        event_filter: EventFilter,
        from_revision: int = 0,
        caller: str = "",
        agent_filter: AgentFilter = NO_FILTER,
    ) -> Subscription:
        """Events that match `event_filter` (with `agent_filter`, only those of agents that pass it), holding
        one of `caller`'s subscriber slots until the subscription is closed."""
        if agent_filter:
            event_filter = replace(event_filter, agent_terms=compile_filter(agent_filter, self.limits))
        if from_revision < 0:
            raise InvalidArgument(
                f"from_revision must not be negative (got {from_revision})", field="from_revision"
            )
        for name, value in (("runtime_id", event_filter.runtime_id), ("agent_id", event_filter.agent_id)):
            if value:
                validate_id(name, value, self.limits)
        release = self._subscriber_slots.take(caller)
        try:
            subscription = self.hub.subscribe(event_filter, from_revision)
        except BaseException:
            release()
            raise
        subscription.on_close = release
        if event_filter.heartbeat_digests and self._digest_timer is None and self.started:
            self._digest_timer = self._clock.schedule(DIGEST_INTERVAL, self._send_digests)
        return subscription

    def _send_digests(self) -> None:
        self.hub.send_digests()
        self._digest_timer = (
            self._clock.schedule(DIGEST_INTERVAL, self._send_digests) if self.hub.wants_digests else None
        )

    # ------------------------------------------------------------------ mutations

    async def register(
        self,
        runtime_id: str,
        card: AgentCard,
        agent_id: str = "",
        heartbeat_timeout: float | None = None,
        auto_deregister_timeout: float | None = None,
    ) -> tuple[Agent, bool, int]:
        """Register, or idempotently re-register (same runtime). Returns (agent, created, revision).
        The timeouts, when given, are the runtime's request for its liveness terms (see `request_terms`)."""
        validate_id("runtime_id", runtime_id, self.limits)
        if agent_id:
            validate_id("agent_id", agent_id, self.limits)
        else:
            agent_id = f"agent-{uuid.uuid4().hex}"
        validate_card(card, self.limits)
        verified = self._verified(card)
        terms = self.settings.terms(heartbeat_timeout, auto_deregister_timeout)
        created = False
        decided: Agent | None = None  # the agent as its change left it

        def decide() -> list[Event]:
            nonlocal created, decided
            events: list[Event] = []
            now = self._clock.wall()
            existing = self._decided.agent(agent_id)
            if existing is not None:
                if existing.runtime_id != runtime_id:
                    raise AlreadyExists(
                        f"agent_id {agent_id!r} is already registered by runtime {existing.runtime_id!r}",
                        field="agent_id",
                    )
                created = False
                if agent_id in self._agents:  # not when only a change decided for the same write made it
                    self._touch([agent_id], now)  # re-registering counts as a heartbeat
                agent = self._decided.agent(agent_id)
                assert agent is not None
                if card != agent.card:
                    revision = self._next_revision()
                    agent = replace(agent, card=card, revision=revision, verified=verified)
                    events.append(
                        self._agent_event(
                            EventType.AGENT_REGISTERED, agent, revision, status_reason=agent.status_reason
                        )
                    )
                decided = self._transition(agent, Trigger.REGISTER, now, events)
                return events
            self._check_capacity(runtime_id)
            if not self._decided.runtime_size(runtime_id):
                events.append(self._event(EventType.RUNTIME_JOINED, runtime_id))
            revision = self._next_revision()
            agent = Agent(
                agent_id,
                runtime_id,
                card,
                AgentStatus.ACTIVE,
                StatusReason.REGISTERED,
                now,
                now,
                now,
                revision,
                verified=verified,
            )
            events.append(
                self._agent_event(
                    EventType.AGENT_REGISTERED, agent, revision, status_reason=agent.status_reason
                )
            )
            created, decided = True, agent
            return events

        events = await self._change(decide)
        if heartbeat_timeout is not None or auto_deregister_timeout is not None:
            self._set_terms(runtime_id, terms)
        if not events:
            await self.committer.barrier()
        assert decided is not None
        return self._latest(agent_id, decided), created, self.committed_revision

    async def deregister(self, agent_id: str, runtime_id: str = "") -> tuple[Agent, int]:
        removed = self._owned(agent_id, runtime_id)

        def decide() -> list[Event]:
            nonlocal removed
            removed = self._owned(agent_id, runtime_id)
            return self._remove([removed], DeregisterReason.REQUESTED)

        await self._change(decide)
        return removed, self.committed_revision

    async def _change(self, decide: Decision) -> list[Event]:
        """Commit a decision; its events, once this view has applied them and the store holds them."""
        events = await self.committer.commit(decide)
        self._log_events(events)  # after the commit: the log says what the store holds
        return events

    def _submit(self, decide: Decision, fence: Fence = ANYWHERE) -> None:
        """Commit a decision without waiting for it, if `fence` holds."""

        def logged() -> list[Event]:
            events = decide()
            self._log_events(events)
            return events

        self.committer.submit(logged, fence)

    async def update_status(
        self, agent_id: str, status: AgentStatus, runtime_id: str = ""
    ) -> tuple[Agent, bool, int]:
        """Set (DEGRADED, UNHEALTHY, OFFLINE) or clear (ACTIVE) the operator setting.
        Returns (agent, changed, revision); setting what is already set changes nothing."""
        decided = self._owned(agent_id, runtime_id)

        def decide() -> list[Event]:
            nonlocal decided
            events: list[Event] = []
            agent = self._owned(agent_id, runtime_id)
            decided = self._transition(agent, operator_trigger(status), self._clock.wall(), events)
            return events

        changed = bool(await self._change(decide))
        if not changed:
            await self.committer.barrier()
        return self._latest(agent_id, decided), changed, self.committed_revision

    async def heartbeat(
        self,
        runtime_id: str,
        agent_ids: Collection[str] = (),
        status: AgentStatus | None = None,
        heartbeat_timeout: float | None = None,
        auto_deregister_timeout: float | None = None,
        loads: Sequence[AgentLoadReport] = (),
    ) -> tuple[BeatResult, int]:
        """Beat agents of a runtime (all of them when none are named); another runtime's are refused.
        `loads` report the load of named agents (or of every agent beaten)."""
        validate_id("runtime_id", runtime_id, self.limits)
        validate_ids("agent_ids", list(agent_ids), self.limits)
        self.check_self_report(status)
        self.check_loads(loads, "loads")
        self.request_terms(runtime_id, heartbeat_timeout, auto_deregister_timeout)
        targets = agent_ids or tuple(self._runtimes.get(runtime_id, ()))
        known, unknown, refused = self.split_owned(runtime_id, targets)
        result = await self.beat(runtime_id, known, status, loads)
        return result.merge(unknown, refused), self.committed_revision

    def request_terms(
        self, runtime_id: str, heartbeat_timeout: float | None, auto_deregister_timeout: float | None
    ) -> Terms:
        """A runtime asks for its own liveness terms (None: keeps what is in force); the last ask wins.
        Returns the terms in force. Kept only while the runtime has agents or a stream."""
        if heartbeat_timeout is None and auto_deregister_timeout is None:
            return self.terms_of(runtime_id)
        terms = self.settings.terms(heartbeat_timeout, auto_deregister_timeout)
        if runtime_id in self._runtimes or self._streaming[runtime_id]:
            self._set_terms(runtime_id, terms)
        return terms

    def _set_terms(self, runtime_id: str, terms: Terms) -> None:
        if self.terms_of(runtime_id) == terms:
            return
        if terms == self._default_terms:
            self._terms.pop(runtime_id, None)
        else:
            self._terms[runtime_id] = terms
        for agent_id in self._runtimes.get(runtime_id, ()):
            self._tracker.set_terms(agent_id, terms)
        self._arm()

    # ------------------------------------------------------------------ shared by unary and stream beats

    def check_self_report(self, status: AgentStatus | None, field: str = "status") -> None:
        if status is not None and status not in SELF_REPORTABLE:
            raise InvalidArgument(
                f"{field} {status.name} cannot be self-reported; a heartbeat may carry ACTIVE or DEGRADED",
                field=field,
            )

    def split_owned(
        self, runtime_id: str, agent_ids: Iterable[str]
    ) -> tuple[list[str], list[str], list[str]]:
        """The runtime's own agents, unknown ids, and ids of other runtimes' agents (refused)."""
        known: list[str] = []
        unknown: list[str] = []
        refused: list[str] = []
        for agent_id in agent_ids:
            agent = self._agents.get(agent_id)
            if agent is None:
                unknown.append(agent_id)
            elif agent.runtime_id != runtime_id:
                refused.append(agent_id)
            else:
                known.append(agent_id)
        return known, unknown, refused

    def check_loads(self, loads: Sequence[AgentLoadReport], field: str) -> None:
        if len(loads) > self.limits.max_agents_per_request:
            raise InvalidArgument(
                f"{field} has {len(loads)} reports; the limit is {self.limits.max_agents_per_request}",
                field=field,
            )
        for i, report in enumerate(loads):
            validate_ids(f"{field}[{i}].agent_ids", list(report.agent_ids), self.limits)
            report.load.check(f"{field}[{i}]")

    async def beat(
        self,
        runtime_id: str,
        agent_ids: Sequence[str],
        status: AgentStatus | None,
        loads: Sequence[AgentLoadReport] = (),
    ) -> BeatResult:
        """Beat known agents (owned by `runtime_id`), take their load reports (checked by `check_loads`),
        and wait for any status change they cause. Agents a report names that are not the runtime's
        come back as unknown or refused."""
        result = self._take_loads(runtime_id, agent_ids, loads)
        await self._beat_each(agent_ids, status)
        return result

    async def beat_stream(
        self, session: HeartbeatSession, status: AgentStatus | None, loads: Sequence[AgentLoadReport] = ()
    ) -> BeatResult:
        """A stream's beat of every agent it holds: one write to the stream's pulse (core/liveness.py),
        whatever their number. Only the agents whose health the beat may change (and, while a subscriber
        wants every AGENT_HEARTBEAT, all of them) are beaten one by one."""
        result = self._take_loads(session.runtime_id, session.bound, loads)
        now = self._clock.wall()
        if self._tracker.pulse(session.pulse, self._sweeper.now(), now):
            self._arm()
            self._release_guard()
        if self.hub.wants_digests:
            for agent_id in session.bound:
                self.hub.note_beat(agent_id, session.runtime_id, now)
        if self.hub.wants(EventType.AGENT_HEARTBEAT):
            each = session.bound
        else:
            each = self._changeable(session.bound, beat_trigger(status))
        if self.cluster is not None:  # the other replicas' views and deadlines (_beat_each notes `each`)
            self.cluster.note_beats(session.bound - each)
        self.counters["heartbeats"] += len(session.bound) - len(each)
        await self._beat_each(sorted(each), status)  # sorted: stable event order
        return result

    def _changeable(self, agent_ids: set[str], trigger: Trigger) -> set[str]:
        """Those of `agent_ids` whose health `trigger` may change, found with a few set intersections: an
        agent's status is never better than its health, so they are among those whose status is at least
        the best health the trigger changes."""
        changed = ALL_STATUSES - unchanged_by(trigger)
        if not changed:
            return set()
        floor = min(changed)
        found: set[str] = set()
        for status, ids in self._by_status.items():
            if status >= floor:
                found |= agent_ids & ids  # walks the smaller set
        return found

    def _take_loads(
        self, runtime_id: str, beaten: Collection[str], loads: Sequence[AgentLoadReport]
    ) -> BeatResult:
        """Take the load reports of a beat of `beaten`; the ids they name that are not the runtime's."""
        if not loads:
            return BeatResult()
        assigned, unknown, refused = assign(loads, beaten, lambda ids: self.split_owned(runtime_id, ids))
        for agent_id, load in assigned.items():
            self.loads.report(agent_id, load)
        return BeatResult().merge(unknown, refused)

    async def _beat_each(self, agent_ids: Sequence[str], status: AgentStatus | None) -> None:
        """Beat known agents one by one, and wait for any status change they cause."""
        if not agent_ids:
            return
        agent_ids = list(agent_ids)
        if self.cluster is not None:  # unary and streamed alike: the other replicas' views and deadlines
            self.cluster.note_beats(agent_ids)
        now = self._clock.wall()
        trigger = beat_trigger(status)
        unchanged = unchanged_by(trigger)
        want_beats = self.hub.wants(EventType.AGENT_HEARTBEAT)
        if not self._touch(agent_ids, now, unchanged) and not want_beats and self.committer.settled:
            return  # a plain beat of agents it cannot change (nor can a change in flight): nothing to decide

        def decide() -> list[Event]:
            events: list[Event] = []
            for agent_id in agent_ids:
                agent = self._decided.agent(agent_id)
                if agent is None:
                    continue  # deregistered meanwhile
                if agent.health in unchanged:
                    updated = agent
                else:
                    updated = self._transition(agent, trigger, now, events)
                if want_beats:  # through the commit queue, so it follows the changes made before it
                    events.append(self._agent_event(EventType.AGENT_HEARTBEAT, updated, 0))
            return events

        # a plain beat changes nothing durable: it does not queue behind other writes
        await self._change(decide)

    def _touch(
        self, agent_ids: Iterable[str], now: float, unchanged: frozenset[AgentStatus] = frozenset()
    ) -> bool:
        """Heartbeats: beat times and deadlines are this process's own, not committed changes. True when
        an agent's health is not among `unchanged` (the beat may change it)."""
        mono = self._sweeper.now()
        digest = self.hub.note_beat if self.hub.wants_digests else None
        rearm = False
        changes = False
        beats = 0
        for agent_id in agent_ids:
            agent = self._agents[agent_id]
            changes = changes or agent.health not in unchanged
            rearm |= self._tracker.beat(agent_id, mono)
            beats += 1
            self._put(agent, agent.beaten(now))
            if digest is not None:
                digest(agent_id, agent.runtime_id, now)
        self.counters["heartbeats"] += beats
        if rearm:
            self._arm()
            self._release_guard()
        return changes

    # ------------------------------------------------------------------ streams (see core/streams.py)

    def attach_session(self, session: HeartbeatSession, caller: str = "") -> None:
        """Takes one of `caller`'s stream slots; the session must bind within bind_timeout."""
        release = self._stream_slots.take(caller)
        self._sessions[session] = (
            release,
            self._clock.schedule(self.settings.bind_timeout, session.expire),
        )

    def hold_runtime(self, session: HeartbeatSession, runtime_id: str) -> None:
        """A session speaks for `runtime_id` from its first bind on."""
        self._sessions[session][1].cancel()
        self._streaming[runtime_id] += 1
        self._awaiting_rebind.discard(runtime_id)
        if self._streaming[runtime_id] == 1:
            self.committer.note_stream(runtime_id, True)

    def bind(self, session: HeartbeatSession, agent_ids: Iterable[str]) -> None:
        for agent_id in agent_ids:
            previous = self._bound.get(agent_id)
            if previous is not None and previous is not session:
                previous.bound.discard(agent_id)
            self._bound[agent_id] = session
            session.bound.add(agent_id)
            self._tracker.follow(agent_id, session.pulse)

    def unbind(self, session: HeartbeatSession, agent_ids: Iterable[str]) -> None:
        for agent_id in agent_ids:
            if self._bound.get(agent_id) is session:
                agent = self._agents.get(agent_id)
                if agent is not None:
                    self._current(agent)  # the record keeps the stream's last beat
                self._tracker.leave(agent_id)
                del self._bound[agent_id]
            session.bound.discard(agent_id)

    def detach_session(self, session: HeartbeatSession, outcome: Trigger | None) -> None:
        """The stream ended: its bound agents take `outcome` (None: drained, nothing changes, and the
        runtime still counts as holding a stream when the daemon starts again)."""
        release, bind_timer = self._sessions.pop(session)
        release()
        bind_timer.cancel()
        bound = sorted(session.bound)
        self.unbind(session, bound)
        runtime_id = session.runtime_id
        fence = ANYWHERE
        if runtime_id:
            self._streaming[runtime_id] -= 1
            if not self._streaming[runtime_id]:
                del self._streaming[runtime_id]
                if outcome is not None:
                    self.committer.note_stream(runtime_id, False)
                    if self.cluster is not None:
                        fence = self.cluster.release(runtime_id)
                if runtime_id not in self._runtimes:
                    self._terms.pop(runtime_id, None)
        if outcome is not None:
            self._apply_to(bound, outcome, fence)

    async def stream_held(self, runtime_id: str) -> None:
        """Wait until a crash cannot forget that the runtime holds a stream here (cluster mode: its session
        key carries this replica's lease, fencing any replica that held it before)."""
        if self.cluster is not None:
            await self.cluster.hold(runtime_id)
        await self.committer.barrier()

    def streams_here(self, runtime_id: str) -> bool:
        return self._streaming[runtime_id] > 0

    def streaming_runtimes(self) -> list[str]:
        return sorted(self._streaming)

    # ------------------------------------------------------------------ cluster liveness (core/cluster_liveness.py)

    def park(self, runtime_id: str) -> None:
        """Another replica holds the runtime's stream: it judges the runtime's agents."""
        for agent_id in self._runtimes.get(runtime_id, ()):
            self._tracker.park(agent_id)

    def unpark(self, runtime_id: str) -> None:
        now = self._sweeper.now()
        for agent_id in self._runtimes.get(runtime_id, ()):
            self._tracker.unpark(agent_id, now)
        self._arm()

    def lose_stream(self, runtime_id: str, fence: Fence) -> None:
        """The runtime's session ended on another replica (or with it): its agents turn UNHEALTHY."""
        self._apply_to(self.agents_of(runtime_id), Trigger.STREAM_LOST, fence)

    def heard_beats(self, agent_ids: Sequence[str]) -> None:
        """Agents beaten through another replica."""
        known = [agent_id for agent_id in agent_ids if agent_id in self._agents]
        self._touch(known, self._clock.wall())

    def take_over_deadlines(self) -> None:
        """This replica leads now: time out the agents whose deadlines passed while another led (or none
        did); the status rule leaves those already timed out as they are."""
        stale = [agent_id for agent_id in self._tracker.timed_out_ids() if agent_id in self._agents]
        self._apply_in_slices(stale, Trigger.TIMEOUT, Fence(leader=True))
        self._arm()

    def _apply_in_slices(self, agent_ids: list[str], trigger: Trigger, fence: Fence, start: int = 0) -> None:
        """`_apply_to` for any number of agents: EXPIRY_SLICE of them per turn of the event loop."""
        end = start + EXPIRY_SLICE
        self._apply_to(agent_ids[start:end], trigger, fence)
        if end < len(agent_ids):

            def rest() -> None:
                if self.started:
                    self._apply_in_slices(agent_ids, trigger, fence, end)

            self._clock.schedule(0.0, rest)

    def _apply_to(self, agent_ids: Iterable[str], trigger: Trigger, fence: Fence = ANYWHERE) -> None:
        agent_ids = list(agent_ids)

        def decide() -> list[Event]:
            events: list[Event] = []
            now = self._clock.wall()
            for agent_id in agent_ids:
                agent = self._decided.agent(agent_id)
                if agent is not None:
                    self._transition(agent, trigger, now, events)
            return events

        self._submit(decide, fence)

    def _end_rebind_grace(self) -> None:
        """Runtimes that held a stream before the restart and did not bind again: their agents that were
        not beaten since (by unary heartbeats) lost their stream while the daemon was away."""
        self._rebind_timer = None
        for runtime_id in sorted(self._awaiting_rebind):
            silent = [
                agent_id
                for agent_id in sorted(self._runtimes.get(runtime_id, ()))
                if self._tracker.last_beat(agent_id) <= self._started_at
            ]
            self._apply_to(silent, Trigger.STREAM_LOST)
            self.committer.note_stream(runtime_id, False)
        self._awaiting_rebind.clear()

    # ------------------------------------------------------------------ liveness

    def _arm(self) -> None:
        """Point the one timer at the earliest deadline."""
        self._sweeper.arm(self._tracker.next_deadline())

    def _on_deadline(self, now: float) -> None:
        self.expire_due(now)
        self._arm()

    def expire_due(self, now: float) -> None:
        """Apply the timeouts and expiries whose deadline (in liveness time) has passed, a slice of them
        per turn of the event loop (core/liveness.py): the timer, armed again, comes back for the rest
        once other work has had its turn."""
        timed_out: list[tuple[str, Fence]] = []
        expiring: list[tuple[Agent, Fence]] = []
        for agent_id, due in self._tracker.pop_due(now):
            agent = self._agents.get(agent_id)
            if agent is None:
                continue
            fence = self._judge(agent.runtime_id)
            if fence is None:  # another replica judges it; this one keeps the deadlines to take over
                if due is Due.EXPIRY:
                    self._tracker.defer(agent_id, now + 1.0)
            elif due is Due.TIMEOUT:
                timed_out.append((agent_id, fence))
            else:
                expiring.append((agent, fence))
        expired: list[tuple[str, Fence]] = []
        if expiring:
            self._release_guard()
            was_active = self._guard.active
            if self._guard.holds(self._tracker.stale, len(self._agents), now):
                if not was_active:
                    log.warning(
                        "expiry guard engaged: most agents missed their heartbeats at once; "
                        "holding back deregistration",
                        stale=self._tracker.stale,
                        total=len(self._agents),
                        max_hold=self._guard.max_hold,
                    )
                recheck = now + min(1.0, self.settings.heartbeat_timeout / 2)
                for agent, _ in expiring:
                    self._tracker.defer(agent.agent_id, recheck)
            else:
                if was_active:
                    log.warning(
                        "expiry guard held for max_hold; deregistering",
                        stale=self._tracker.stale,
                        total=len(self._agents),
                    )
                expired = [(agent.agent_id, fence) for agent, fence in expiring]
        fences = {fence for _, fence in timed_out} | {fence for _, fence in expired}
        for fence in sorted(fences, key=lambda f: (f.held_here, f.leader)):
            self._expire(
                [agent_id for agent_id, f in timed_out if f == fence],
                [agent_id for agent_id, f in expired if f == fence],
                fence,
            )

    def _judge(self, runtime_id: str) -> Fence | None:
        """The fence under which this process acts on a runtime's deadlines; None: another replica does."""
        if self.cluster is None:
            return ANYWHERE
        return self.cluster.judge(runtime_id, self._streaming[runtime_id] > 0)

    def _expire(self, timed_out: list[str], expired: list[str], fence: Fence) -> None:
        def decide() -> list[Event]:
            events: list[Event] = []
            wall = self._clock.wall()
            for agent_id in timed_out:
                agent = self._decided.agent(agent_id)
                if agent is not None:
                    self._transition(agent, Trigger.TIMEOUT, wall, events)
            gone = [agent for agent in map(self._decided.agent, expired) if agent is not None]
            events.extend(self._remove(gone, DeregisterReason.EXPIRED))
            return events

        self._submit(decide, fence)

    @property
    def expiry_guard_active(self) -> bool:
        return self._guard.active

    @property
    def stalls(self) -> tuple[int, float]:
        """How many stalls of the daemon the sweeper noticed, and the seconds it granted for them."""
        return self._sweeper.stalls, self._sweeper.stalled_seconds

    @property
    def loop_lag(self) -> LagHistogram:
        return self._sweeper.lag

    def _release_guard(self) -> None:
        """Called whenever agents leave the stale set."""
        if self._guard.release(self._tracker.stale, len(self._agents)):
            log.warning("expiry guard released", stale=self._tracker.stale, total=len(self._agents))

    # ------------------------------------------------------------------ internals

    def _owned(self, agent_id: str, runtime_id: str) -> Agent:
        """The agent a write names (as decided changes leave it), if `runtime_id` (when given) owns it."""
        if runtime_id:
            validate_id("runtime_id", runtime_id, self.limits)
        validate_id("agent_id", agent_id, self.limits)
        agent = self._decided.agent(agent_id)
        if agent is None:
            raise _unknown(agent_id)
        if runtime_id and agent.runtime_id != runtime_id:
            raise PermissionDenied(
                f"agent {agent_id!r} belongs to runtime {agent.runtime_id!r}, not {runtime_id!r}",
                field="runtime_id",
            )
        return agent

    def _verified(self, card: AgentCard) -> bool:
        verify = self.settings.verify_card
        return bool(card.signatures) and verify is not None and verify(card)

    def _check_capacity(self, runtime_id: str) -> None:
        if self._decided.agent_count() >= self.limits.max_agents:
            raise ResourceExhausted(f"the registry already holds max_agents={self.limits.max_agents}")
        if self._decided.runtime_size(runtime_id) >= self.limits.max_agents_per_runtime:
            raise ResourceExhausted(
                f"runtime {runtime_id!r} already has max_agents_per_runtime="
                f"{self.limits.max_agents_per_runtime} agents"
            )

    def _remove(self, agents: Sequence[Agent], reason: DeregisterReason) -> list[Event]:
        """The events of deregistering `agents` (distinct): RUNTIME_LEFT follows a runtime's last one."""
        events: list[Event] = []
        leaving: Counter[str] = Counter()
        for agent in agents:
            events.append(
                self._agent_event(
                    EventType.AGENT_DEREGISTERED,
                    self._current(agent),
                    self._next_revision(),
                    deregister_reason=reason,
                )
            )
            leaving[agent.runtime_id] += 1
            if leaving[agent.runtime_id] == self._decided.runtime_size(agent.runtime_id):
                events.append(self._event(EventType.RUNTIME_LEFT, agent.runtime_id))
        return events

    def _apply(self, events: Sequence[Event]) -> None:
        """Apply committed events to the view: the only place the registered agents change."""
        self._found.clear()
        rearm = False
        selectable: list[str] = []  # agents that may take a waiting router's task now
        for event in events:
            if event.revision > self._applied_revision:
                self._applied_revision = event.revision
                self._revision = max(self._revision, event.revision)
            if event.type is EventType.AGENT_DEREGISTERED:
                agent = self._agents.get(event.agent_id)
                if agent is not None:
                    self._forget(agent, event.deregister_reason or DeregisterReason.REQUESTED)
            elif event.type is EventType.AGENT_STATUS_CHANGED or event.type is EventType.AGENT_REGISTERED:
                assert event.agent is not None
                old = self._agents.get(event.agent_id)
                self._put(old, event.agent)
                if old is None:
                    self._tracker.track(event.agent_id, self._sweeper.now(), self.terms_of(event.runtime_id))
                    if self.cluster is not None and event.runtime_id in self.cluster.held_elsewhere:
                        self._tracker.park(event.agent_id)
                    self.counters["registrations"] += 1
                    rearm = True
                if event.status_reason is not None and event.new_status is not None:
                    self.counters[f"status_changes:{event.status_reason.name}:{event.new_status.name}"] += 1
                if event.agent.status in SELECTABLE:
                    selectable.append(event.agent_id)
        if rearm:
            self._arm()
        if selectable:
            self.placement.room(selectable, joined=True)

    def _forget(self, agent: Agent, reason: DeregisterReason) -> None:
        session = self._bound.pop(agent.agent_id, None)
        if session is not None:
            session.bound.discard(agent.agent_id)
        self._drop(agent)
        self._tracker.forget(agent.agent_id)
        self._release_guard()
        self.counters["deregistrations"] += 1
        self.counters[f"deregistrations:{reason.name}"] += 1
        if agent.runtime_id not in self._runtimes and not self._streaming[agent.runtime_id]:
            self._terms.pop(agent.runtime_id, None)

    def _transition(self, agent: Agent, trigger: Trigger, now: float, events: list[Event]) -> Agent:
        """The agent after `trigger` under the status rule (core/status.py), with its event if it changed.
        Decides only: the view applies the event once committed."""
        change = apply(trigger, agent.health, agent.health_reason, agent.operator_status)
        if change is None:
            return agent
        revision = self._next_revision()
        updated = self._current(agent).judged(
            change.health, change.health_reason, change.operator, revision, now
        )
        events.append(
            self._agent_event(
                EventType.AGENT_STATUS_CHANGED,
                updated,
                revision,
                old_status=agent.status,
                new_status=updated.status,
                status_reason=change.reason,
            )
        )
        return updated

    def _put(self, old: Agent | None, new: Agent) -> None:
        agent_id = new.agent_id
        self._agents[agent_id] = new
        if old is None:
            runtime = self._runtimes.setdefault(new.runtime_id, set())
            runtime.add(agent_id)
            self._sorted_ids.add(agent_id)  # while loading too: sorting 1M ids at once takes 0.5 s
            if self.started:
                self._runtime_order.resize(new.runtime_id, len(runtime))
            self._index.add(agent_id, new.card.indexed_texts())
            self._described.add(agent_id, new.card.described_texts())
            self._filters.add(new)
        elif old.card is not new.card or old.verified is not new.verified:
            self._index.add(agent_id, new.card.indexed_texts())
            self._described.add(agent_id, new.card.described_texts())
            self._filters.add(new)
            self._wire_sizes.pop(agent_id, None)
        if old is None:
            self._by_status[new.status].add(agent_id)
        elif old.revision != new.revision and old.status is not new.status:  # a beat keeps the revision
            idsets.discard(self._by_status, old.status, agent_id)
            self._by_status[new.status].add(agent_id)

    def _encoded_size(self, agent: Agent) -> int:
        """At most what the agent takes in a response (core/encoded_size.py), computed once per state."""
        size = self._wire_sizes.get(agent.agent_id)
        if size is None:
            size = self._wire_sizes[agent.agent_id] = agent_size(agent)
        return size

    def _drop(self, agent: Agent) -> None:
        agent_id = agent.agent_id
        del self._agents[agent_id]
        self._wire_sizes.pop(agent_id, None)
        self.loads.forget(agent_id)
        self._sorted_ids.discard(agent_id)
        runtime = self._runtimes[agent.runtime_id]
        runtime.discard(agent_id)
        if self.started:
            self._runtime_order.resize(agent.runtime_id, len(runtime))
        if not runtime:
            del self._runtimes[agent.runtime_id]
        idsets.discard(self._by_status, agent.status, agent_id)
        self._index.remove(agent_id)
        self._described.remove(agent_id)
        self._filters.remove(agent_id)

    def _rewind(self) -> None:
        """A decision was not committed: the revisions it handed out are free again."""
        self._revision = self._applied_revision

    def _next_revision(self) -> int:
        self._revision += 1
        return self._revision

    def _event(self, event_type: EventType, runtime_id: str) -> Event:
        return Event(self._next_revision(), event_type, self._clock.wall(), runtime_id)

    def _agent_event(self, event_type: EventType, agent: Agent, revision: int, **details: object) -> Event:
        return Event(
            revision,
            event_type,
            self._clock.wall(),
            agent.runtime_id,
            agent.agent_id,
            agent,
            **details,  # type: ignore[arg-type]
        )

    def _log_events(self, events: list[Event]) -> None:
        agent_lines = log.is_enabled_for(logging.DEBUG)  # else not even built: 3 us each in a mass expiry
        for event in events:
            if not event.revision or (event.agent_id and not agent_lines):
                continue  # heartbeats are not lifecycle changes
            (log.debug if event.agent_id else log.info)(  # per-agent lifecycle lines: debug
                event.type.name.lower(),
                agent_id=event.agent_id or None,
                runtime_id=event.runtime_id,
                old_status=event.old_status.name if event.old_status else None,
                new_status=event.new_status.name if event.new_status else None,
                reason=reason.name if (reason := event.status_reason or event.deregister_reason) else None,
                revision=event.revision,
            )


def _unknown(agent_id: str) -> NotFound:
    return NotFound(f"agent {agent_id!r} is not registered", field="agent_id")
