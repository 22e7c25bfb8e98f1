"""Heartbeat deadlines, kept in a heap with one live entry per agent.

A heartbeat only records the time (O(1)); the heap entry is checked when it comes due and moved to the
real deadline if the agent beat meanwhile. Nothing ever scans all agents. Each agent follows the liveness
terms of its runtime (a runtime may choose its own, within the operator's bounds). Times are the
sweeper's liveness time (core/sweeper.py), which stands still while the daemon itself stalls.
"""

from __future__ import annotations

import enum
import heapq
from dataclasses import dataclass


class Due(enum.Enum):
    TIMEOUT = "timeout"  # no heartbeat for heartbeat_timeout
    EXPIRY = "expiry"  # no heartbeat for auto_deregister_timeout


@dataclass(frozen=True, slots=True)
class Terms:
    """How long an agent may go without a heartbeat before it turns UNHEALTHY, and before it is removed."""

    heartbeat_timeout: float
    auto_deregister_timeout: float


@dataclass(slots=True)
class _Track:
    last_beat: float
    terms: Terms
    timed_out: bool = False
    scheduled: float = 0.0
    parked: bool = False  # another replica judges the agent (cluster mode): no deadlines here


class DeadlineTracker:
    def __init__(self) -> None:
        self._tracks: dict[str, _Track] = {}
        self._heap: list[tuple[float, str]] = []
        self.stale = 0  # agents past their heartbeat deadline (the expiry guard's measure)

    def track(self, agent_id: str, now: float, terms: Terms) -> None:
        """Start (or restart) an agent's clock, as if it had just beaten."""
        track = _Track(now, terms)
        self._tracks[agent_id] = track
        self._schedule(agent_id, track, now + terms.heartbeat_timeout)

    def set_terms(self, agent_id: str, terms: Terms) -> None:
        """The agent follows new terms from now on, measured from its last beat."""
        track = self._tracks[agent_id]
        track.terms = terms
        if track.parked:
            return
        timeout = terms.auto_deregister_timeout if track.timed_out else terms.heartbeat_timeout
        self._schedule(agent_id, track, track.last_beat + timeout)

    def beat(self, agent_id: str, now: float) -> bool:
        """Record a heartbeat; True when the agent was stale (its next deadline moved earlier)."""
        track = self._tracks[agent_id]
        track.last_beat = now
        if not track.timed_out or track.parked:
            return False
        # The pending entry sits at the expiry deadline, later than the new timeout deadline.
        track.timed_out = False
        self.stale -= 1
        self._schedule(agent_id, track, now + track.terms.heartbeat_timeout)
        return True

    def park(self, agent_id: str) -> None:
        """Stop judging the agent here (another replica holds its runtime's stream)."""
        track = self._tracks[agent_id]
        if track.timed_out:
            track.timed_out = False
            self.stale -= 1
        track.parked = True
        track.scheduled = -1.0  # drops the pending heap entry

    def unpark(self, agent_id: str, now: float) -> None:
        """Judge the agent here again, as if it had beaten at `now` (its last beats were seen elsewhere)."""
        track = self._tracks[agent_id]
        if track.parked:
            track.parked = False
            track.last_beat = max(track.last_beat, now)
            self._schedule(agent_id, track, track.last_beat + track.terms.heartbeat_timeout)

    def timed_out_ids(self) -> list[str]:
        return sorted(agent_id for agent_id, track in self._tracks.items() if track.timed_out)

    def last_beat(self, agent_id: str) -> float:
        return self._tracks[agent_id].last_beat

    def forget(self, agent_id: str) -> None:
        track = self._tracks.pop(agent_id, None)
        if track is not None and track.timed_out:
            self.stale -= 1

    def next_deadline(self) -> float | None:
        while self._heap:
            deadline, agent_id = self._heap[0]
            track = self._tracks.get(agent_id)
            if track is not None and track.scheduled == deadline:
                return deadline
            heapq.heappop(self._heap)  # stale entry
        return None

    def pop_due(self, now: float) -> list[tuple[str, Due]]:
        """Agents whose timeout or expiry deadline has passed, each at most once per passing."""
        due: list[tuple[str, Due]] = []
        while self._heap and self._heap[0][0] <= now:
            deadline, agent_id = heapq.heappop(self._heap)
            track = self._tracks.get(agent_id)
            if track is None or track.scheduled != deadline:
                continue
            if not track.timed_out:
                timeout_at = track.last_beat + track.terms.heartbeat_timeout
                if timeout_at > now:
                    self._schedule(agent_id, track, timeout_at)
                    continue
                track.timed_out = True
                self.stale += 1
                due.append((agent_id, Due.TIMEOUT))
            expire_at = track.last_beat + track.terms.auto_deregister_timeout
            if expire_at > now:
                self._schedule(agent_id, track, expire_at)
            else:
                due.append((agent_id, Due.EXPIRY))
        return due

    def defer(self, agent_id: str, until: float) -> None:
        """Check an agent's expiry again at `until` (the expiry guard holds it back)."""
        track = self._tracks.get(agent_id)
        if track is not None:
            self._schedule(agent_id, track, until)

    def _schedule(self, agent_id: str, track: _Track, deadline: float) -> None:
        track.scheduled = deadline
        heapq.heappush(self._heap, (deadline, agent_id))


class ExpiryGuard:
    """Holds back deregistration when a large share of agents is stale at once.

    When most agents miss their heartbeats together, the registry is more likely cut off than the agents
    dead (Eureka's self-preservation). Agents still turn UNHEALTHY; only removal pauses, until the stale
    share falls below the threshold or `max_hold` passes, after which expiry proceeds.
    """

    def __init__(self, threshold: float, min_agents: int, max_hold: float) -> None:
        self.threshold = threshold
        self.min_agents = min_agents
        self.max_hold = max_hold
        self.active_since: float | None = None

    @property
    def active(self) -> bool:
        return self.active_since is not None

    def tripped(self, stale: int, total: int) -> bool:
        return self.threshold < 1.0 and total >= self.min_agents and stale >= self.threshold * total

    def holds(self, stale: int, total: int, now: float) -> bool:
        """Whether expiry should wait; engages the guard when the stale share is over the threshold."""
        if not self.tripped(stale, total):
            return False
        if self.active_since is None:
            self.active_since = now
        return now - self.active_since < self.max_hold

    def release(self, stale: int, total: int) -> bool:
        """Disengage once the stale share is back under the threshold (so the next episode gets a full
        max_hold); True when the guard was released."""
        if self.active_since is None or self.tripped(stale, total):
            return False
        self.active_since = None
        return True
