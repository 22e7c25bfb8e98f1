"""SelectAgent: one agent for a task, chosen by load among the agents a FindAgents query matches.

The status rule first: only ACTIVE agents, and DEGRADED ones only when the router allows them and no ACTIVE
agent fits. An agent fits when it is not excluded, accepts work, and is below its max concurrency (by the
estimate of core/load.py: its last fresh report plus the reservations made since). Among those that fit,
the strategy picks:

- P2C (default): two at random, the better of them by Envoy's least-request rule,
  weight / (load + 1) ** bias, where weight is the agent's max concurrency (1 when not declared), load is
  its in-flight estimate plus queue depth, and the score is scaled down by the agent's error rate;
- LEAST_LOADED: the best score of all (ties at random, so routers do not herd on one);
- ROUND_ROBIN: in turn, per query, in agent id order;
- RANDOM: uniformly;
- AFFINITY: rendezvous hashing of the affinity key over the agents that match (loaded or not), so a key
  keeps its agent and only the share of an agent that joins or leaves moves; when the preferred agent does
  not fit, the next in the key's order takes the task (spill-over).

Selection and reservation happen in one step on the event loop, so concurrent routers see each other's
reservations. A router that finds none that fits may wait (up to MAX_WAIT) in a first-come line
(core/waiting.py) that is served the moment room appears, instead of polling.
"""

from __future__ import annotations

import enum
import hashlib
import math
import random
from collections import Counter, OrderedDict
from collections.abc import Collection
from dataclasses import dataclass, replace
from typing import Protocol

from registryd.core.clock import Clock
from registryd.core.errors import InvalidArgument
from registryd.core.filters import NO_FILTER, AgentFilter
from registryd.core.index import normalize
from registryd.core.liveness import Terms
from registryd.core.load import Load, LoadBook, Reservation, reservation_ttl
from registryd.core.model import Agent, AgentStatus
from registryd.core.validation import Limits, validate_ids
from registryd.core.waiting import WaitLine

MAX_CANDIDATES = 1000  # matching agents considered per status (FindAgents' largest answer)
BIAS = 1.0  # Envoy's active_request_bias
MIN_HEALTH = 0.1  # an agent that only fails keeps this share of its score, so it can show it recovered
_CURSORS = 1024  # round-robin cursors kept (one per recent query)
MAX_WAIT = 30.0  # seconds a SelectAgent call may wait for an agent that fits (longer asks are cut)
SELECTABLE = (AgentStatus.ACTIVE, AgentStatus.DEGRADED)


class Strategy(enum.IntEnum):
    P2C = 1
    LEAST_LOADED = 2
    ROUND_ROBIN = 3
    RANDOM = 4
    AFFINITY = 5


class Fleet(Protocol):
    """What selection reads of the registry."""

    def matching(
        self, query: str, status: AgentStatus, limit: int, agent_filter: AgentFilter = NO_FILTER
    ) -> list[Agent]: ...

    def terms_of(self, runtime_id: str) -> Terms: ...

    def agent_or_none(self, agent_id: str) -> Agent | None: ...

    @property
    def limits(self) -> Limits: ...


@dataclass(frozen=True, slots=True)
class SelectRequest:
    query: str  # may be blank when agent_filter is not
    strategy: Strategy = Strategy.P2C
    affinity_key: str = ""
    exclude_agent_ids: frozenset[str] = frozenset()
    exclude_runtime_ids: frozenset[str] = frozenset()
    allow_degraded: bool = False
    reserve: bool = False
    reservation_ttl: float | None = None  # None: the default
    wait: float = 0.0  # seconds to wait for an agent that fits when none does now (cut to MAX_WAIT)
    agent_filter: AgentFilter = NO_FILTER  # as FindAgents' filter


@dataclass(frozen=True, slots=True)
class Candidate:
    agent: Agent
    load: Load

    @property
    def score(self) -> float:
        """Envoy's least-request weight, scaled by health: higher is better."""
        load = self.load
        weight = max(1, load.max_concurrency) * max(MIN_HEALTH, 1.0 - load.error_rate)
        return weight / (load.in_flight + load.queue_depth + 1) ** BIAS


@dataclass(frozen=True, slots=True)
class Selection:
    chosen: Candidate | None
    reason: str  # why this agent, or why none
    matched: int  # agents the query matched with an allowed status (before exclusions)
    eligible: int  # of those, the ones that fit
    reservation: Reservation | None = None


class Placement:
    def __init__(
        self,
        fleet: Fleet,
        loads: LoadBook,
        counters: Counter[str],
        clock: Clock,
        rng: random.Random | None = None,
    ) -> None:
        self._fleet = fleet
        self._loads = loads
        self._counters = counters
        self._rng = rng or random.Random()
        self._cursors: OrderedDict[str, int] = OrderedDict()
        limits = fleet.limits
        self._line: WaitLine[SelectRequest, Selection] = WaitLine(
            clock,
            self._attempt,
            self._abandon,
            limits.max_select_waiters,
            limits.max_select_waiters_per_caller,
            counters,
        )

    @property
    def waiting(self) -> int:
        """SelectAgent calls waiting now for an agent that fits."""
        return len(self._line)

    def select(self, request: SelectRequest) -> Selection:
        """Choose (and, when asked, reserve) one agent now; a Selection without one says why not."""
        self._check(request)
        selection, _ = self._choose(request)
        return self._count(request, selection)

    async def select_waiting(self, request: SelectRequest, caller: str) -> Selection:
        """As `select`, but when none fits and the request allows, wait in line (bounded per `caller`)
        for one that does: served first come, first served, as soon as room appears."""
        self._check(request)
        selection, matched = self._choose(request)
        if selection.chosen is None and request.wait > 0:
            selection = await self._line.wait(
                request, caller, min(request.wait, MAX_WAIT), selection, matched
            )
        return self._count(request, selection)

    def room(self, agent_ids: Collection[str], *, joined: bool = False) -> None:
        """Room may have appeared on these agents (a reservation ended, a load report, or, `joined`, they
        registered or turned selectable): serve the waiters it fits."""
        self._line.room(agent_ids, self._has_room, joined=joined)

    def _has_room(self, agent_id: str) -> bool:
        agent = self._fleet.agent_or_none(agent_id)
        if agent is None or agent.status not in SELECTABLE:
            return False
        load = self._load_of(agent)
        return load.accepting and not load.full

    def _attempt(self, request: SelectRequest) -> tuple[bool, Selection, frozenset[str]]:
        selection, matched = self._choose(request)
        return selection.chosen is not None, selection, matched

    def _abandon(self, selection: Selection) -> None:
        if selection.reservation is not None:
            self._loads.release(selection.reservation.reservation_id, None)

    def _check(self, request: SelectRequest) -> None:
        limits = self._fleet.limits
        validate_ids("exclude_agent_ids", sorted(request.exclude_agent_ids), limits)
        validate_ids("exclude_runtime_ids", sorted(request.exclude_runtime_ids), limits)
        if len(request.affinity_key) > limits.max_query_length:
            raise InvalidArgument(
                f"affinity_key is {len(request.affinity_key)} characters; the limit is {limits.max_query_length}",
                field="affinity_key",
            )
        if request.strategy is Strategy.AFFINITY and not request.affinity_key:
            raise InvalidArgument("strategy AFFINITY needs an affinity_key", field="affinity_key")
        if request.reserve:
            reservation_ttl(request.reservation_ttl)
        if not 0.0 <= request.wait < math.inf:
            raise InvalidArgument(
                f"wait_timeout must be a finite number of seconds, not negative (got {request.wait})",
                field="wait_timeout",
            )

    def _count(self, request: SelectRequest, selection: Selection) -> Selection:
        result = "NONE_ELIGIBLE" if selection.chosen is None else "CHOSEN"
        self._counters[f"selections:{request.strategy.name}:{result}"] += 1
        return selection

    def _choose(self, request: SelectRequest) -> tuple[Selection, frozenset[str]]:
        """The selection (reserved when asked) and the ids of every agent the query matched."""
        statuses = [AgentStatus.ACTIVE] + ([AgentStatus.DEGRADED] if request.allow_degraded else [])
        matched_ids: set[str] = set()
        refusals: Counter[str] = Counter()
        selection: Selection | None = None
        for status in statuses:
            agents = self._fleet.matching(request.query, status, MAX_CANDIDATES, request.agent_filter)
            matched_ids.update(a.agent_id for a in agents)
            candidates = [c for a in agents if (c := self._fit(a, request, refusals)) is not None]
            chosen, reason = self._pick(request, candidates, refusals) if candidates else (None, "")
            if chosen is not None:
                if status is AgentStatus.DEGRADED:
                    reason += "; DEGRADED: no ACTIVE agent fits"
                selection = Selection(chosen, reason, len(matched_ids), len(candidates))
                break
        matched = frozenset(matched_ids)
        if selection is None or selection.chosen is None:
            why = _why_none(len(matched), refusals, request.allow_degraded)
            return Selection(None, why, len(matched), 0), matched
        if not request.reserve:
            return selection, matched
        agent = selection.chosen.agent
        reservation = self._loads.reserve(
            agent.agent_id, agent.runtime_id, reservation_ttl(request.reservation_ttl)
        )
        chosen = Candidate(agent, self._load_of(agent))
        return replace(selection, chosen=chosen, reservation=reservation), matched

    def _load_of(self, agent: Agent) -> Load:
        return self._loads.load_of(agent.agent_id, self._fleet.terms_of(agent.runtime_id).heartbeat_timeout)

    def _fit(self, agent: Agent, request: SelectRequest, refusals: Counter[str]) -> Candidate | None:
        if agent.agent_id in request.exclude_agent_ids or agent.runtime_id in request.exclude_runtime_ids:
            refusals["excluded"] += 1
            return None
        candidate = Candidate(agent, self._load_of(agent))
        if request.strategy is Strategy.AFFINITY:
            return candidate  # the key's order is over every match; fitting is checked in that order
        return candidate if _fits(candidate, refusals) else None

    def _pick(
        self, request: SelectRequest, candidates: list[Candidate], refusals: Counter[str]
    ) -> tuple[Candidate | None, str]:
        strategy = request.strategy
        rng = self._rng
        if strategy is Strategy.AFFINITY:
            return _affinity(request.affinity_key, candidates, refusals)
        if strategy is Strategy.RANDOM:
            return rng.choice(candidates), f"random among {len(candidates)} that fit"
        if strategy is Strategy.ROUND_ROBIN:
            ordered = sorted(candidates, key=lambda c: c.agent.agent_id)
            key = f"{normalize(request.query)}\n{request.agent_filter}"
            turn = self._cursors.pop(key, -1) + 1
            self._cursors[key] = turn
            if len(self._cursors) > _CURSORS:
                self._cursors.popitem(last=False)
            return ordered[turn % len(ordered)], f"round robin: turn {turn} of {len(ordered)} that fit"
        if strategy is Strategy.LEAST_LOADED:
            best = max(c.score for c in candidates)
            chosen = rng.choice([c for c in candidates if c.score == best])
            return chosen, f"least loaded of {len(candidates)} that fit ({_describe(chosen.load)})"
        if len(candidates) == 1:
            return candidates[
                0
            ], f"the only one of {len(candidates)} that fits ({_describe(candidates[0].load)})"
        first, second = rng.sample(candidates, 2)
        chosen = first if first.score >= second.score else second
        other = second if chosen is first else first
        return chosen, (
            f"power of two choices: {_describe(chosen.load)} against {other.agent.agent_id} "
            f"({_describe(other.load)})"
        )


def _affinity(key: str, candidates: list[Candidate], refusals: Counter[str]) -> tuple[Candidate | None, str]:
    ranked = sorted(candidates, key=lambda c: _rendezvous(key, c.agent.agent_id), reverse=True)
    skipped: list[str] = []
    for candidate in ranked:
        if _fits(candidate, refusals):
            if not skipped:
                return candidate, f"affinity: the key's preferred agent ({_describe(candidate.load)})"
            return candidate, f"affinity: spilled over from {', '.join(skipped[:3])} (full or not accepting)"
        skipped.append(candidate.agent.agent_id)
    return None, ""


def _fits(candidate: Candidate, refusals: Counter[str]) -> bool:
    load = candidate.load
    if not load.accepting:
        refusals["not accepting"] += 1
        return False
    if load.full:
        refusals["at max concurrency"] += 1
        return False
    return True


def _rendezvous(key: str, agent_id: str) -> int:
    digest = hashlib.blake2b(f"{key}\x00{agent_id}".encode(errors="surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def _describe(load: Load) -> str:
    if not load.known:
        return f"load unknown, {load.in_flight} reserved"
    limit = f"/{load.max_concurrency}" if load.max_concurrency else ""
    queued = f", {load.queue_depth} queued" if load.queue_depth else ""
    return f"{load.in_flight}{limit} in flight{queued}"


def _why_none(matched: int, refusals: Counter[str], allow_degraded: bool) -> str:
    allowed = "ACTIVE or DEGRADED" if allow_degraded else "ACTIVE"
    if not matched:
        return f"no {allowed} agent matches the query"
    parts = ", ".join(f"{n} {why}" for why, n in sorted(refusals.items()))
    return f"{matched} {allowed} agents match, none fits ({parts})"
