"""Heartbeat deadlines, kept in heaps: one live entry per agent judged on its own, one per stream pulse.

A heartbeat only records the time (O(1)); a heap entry is checked when it comes due and moved to the real
deadline if the agent beat meanwhile. Nothing ever scans all agents. Each agent follows the liveness terms
of its runtime (a runtime may choose its own, within the operator's bounds). Times are the sweeper's
liveness time (core/sweeper.py), which stands still while the daemon itself stalls.

A heartbeat stream's beat of every agent it holds costs one write, not one per agent: the stream carries a
`Pulse`, the time of its last such beat, and each bound agent's last beat is the later of its own and the
pulse's. An agent whose own deadline comes due while the pulse is the later beat hands its deadline to the
pulse (it is "covered": the pulse's heap entry is its only one) until the pulse goes quiet for a heartbeat
timeout; then each covered agent gets its own entry again and is judged as any other. Only agents beaten
one by one (unary beats, a stream beat naming some, a self-report) keep deadlines of their own.

Deadlines that pass together (a mass timeout) are handed out in slices (`pop_due`'s limits), so one turn
of the event loop never decides more than `EXPIRY_SLICE` agents: the rest wait for the next turn, in
deadline order, each still acted on once.
"""

from __future__ import annotations

import enum
import heapq
import itertools
from dataclasses import dataclass, field

EXPIRY_SLICE = 250  # agents timed out or expired per turn of the event loop, at most: 4-8 ms at 1M
# Deadlines looked at per turn, at most. Moving one costs 3-4 us on a heap of 1M (10x less than deciding
# one); at 5,000 a turn took 20-40 ms when 1M loaded agents came due on their pulses (bench scenario 8).
CHECK_SLICE = 4 * EXPIRY_SLICE
_COVERED = -2.0  # a track's `scheduled` while its pulse's heap entry stands for its own
_NONE = -1.0  # a track's `scheduled` while it has no heap entry (parked, or its expiry is being decided)


class Due(enum.Enum):
    TIMEOUT = "timeout"  # no heartbeat for heartbeat_timeout
    EXPIRY = "expiry"  # no heartbeat for auto_deregister_timeout


@dataclass(frozen=True, slots=True)
class Terms:
    """How long an agent may go without a heartbeat before it turns UNHEALTHY, and before it is removed."""

    heartbeat_timeout: float
    auto_deregister_timeout: float


_pulse_ids = itertools.count()


@dataclass(eq=False, slots=True)
class Pulse:
    """The last beat of a heartbeat stream for every agent it holds, in liveness time and on the wall clock
    (the wall time is what the agents report as their last heartbeat when it is later than their own)."""

    last_beat: float = float("-inf")
    wall: float = 0.0
    covered: set[str] = field(default_factory=set)  # followers whose deadline is the pulse's
    lapsed: set[str] = field(default_factory=set)  # followers timed out: each needs a beat to recover
    terms: Terms | None = None
    scheduled: float | None = None
    id: int = field(default_factory=lambda: next(_pulse_ids))  # heap tie-break


@dataclass(slots=True)
class _Track:
    last_beat: float  # its own last beat; `_last` is the one that counts
    terms: Terms
    timed_out: bool = False
    scheduled: float = 0.0
    parked: bool = False  # another replica judges the agent (cluster mode): no deadlines here
    pulse: Pulse | None = None  # the stream pulse it follows, if it is bound to a stream


def _last(track: _Track) -> float:
    pulse = track.pulse
    return track.last_beat if pulse is None or pulse.last_beat < track.last_beat else pulse.last_beat


class DeadlineTracker:
    def __init__(self) -> None:
        self._tracks: dict[str, _Track] = {}
        self._heap: list[tuple[float, str]] = []
        self._pulses: list[tuple[float, int, Pulse]] = []
        self._stale: set[str] = set()  # agents past their heartbeat deadline

    @property
    def stale(self) -> int:
        """How many agents are past their heartbeat deadline (the expiry guard's measure)."""
        return len(self._stale)

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
        if track.scheduled == _COVERED:
            pulse = track.pulse
            assert pulse is not None
            if pulse.terms != terms:
                pulse.terms = terms
                self._schedule_pulse(pulse, pulse.last_beat + terms.heartbeat_timeout)
            return
        timeout = terms.auto_deregister_timeout if track.timed_out else terms.heartbeat_timeout
        self._schedule(agent_id, track, _last(track) + timeout)

    def beat(self, agent_id: str, now: float) -> bool:
        """Record a heartbeat; True when the agent was stale (its next deadline moved earlier)."""
        track = self._tracks[agent_id]
        track.last_beat = now
        if not track.timed_out or track.parked:
            return False
        # The pending entry sits at the expiry deadline, later than the new timeout deadline.
        self._recover(agent_id, track)
        self._schedule(agent_id, track, now + track.terms.heartbeat_timeout)
        return True

    def pulse(self, pulse: Pulse, now: float, wall: float) -> bool:
        """A stream beat every agent it holds: one write, whatever their number. Followers that had timed
        out are judged from this beat (their next deadline moves earlier); True when there were any."""
        pulse.last_beat = now
        pulse.wall = wall
        if not pulse.lapsed:
            return False
        for agent_id in sorted(pulse.lapsed):
            self.beat(agent_id, now)
        return True

    def follow(self, agent_id: str, pulse: Pulse) -> None:
        """The agent is bound to the stream `pulse` beats for (its own deadline hands over lazily)."""
        track = self._tracks[agent_id]
        if track.pulse is not pulse:
            self.leave(agent_id)
            track.pulse = pulse
            if track.timed_out:
                pulse.lapsed.add(agent_id)

    def leave(self, agent_id: str) -> None:
        """The agent is no longer bound to its stream: it keeps the pulse's beats so far as its own."""
        track = self._tracks.get(agent_id)
        if track is None or track.pulse is None:
            return
        pulse = track.pulse
        track.last_beat = _last(track)
        track.pulse = None
        pulse.lapsed.discard(agent_id)
        if track.scheduled == _COVERED:
            pulse.covered.discard(agent_id)
            self._schedule(agent_id, track, track.last_beat + track.terms.heartbeat_timeout)

    def park(self, agent_id: str) -> None:
        """Stop judging the agent here (another replica holds its runtime's stream)."""
        track = self._tracks[agent_id]
        self._recover(agent_id, track)
        if track.pulse is not None:
            track.pulse.covered.discard(agent_id)
        track.parked = True
        track.scheduled = _NONE  # drops the pending heap entry

    def unpark(self, agent_id: str, now: float) -> None:
        """Judge the agent here again, as if it had beaten at `now` (its last beats were seen elsewhere)."""
        track = self._tracks[agent_id]
        if track.parked:
            track.parked = False
            track.last_beat = max(_last(track), now)
            self._schedule(agent_id, track, track.last_beat + track.terms.heartbeat_timeout)

    def timed_out_ids(self) -> list[str]:
        return sorted(self._stale)

    def last_beat(self, agent_id: str) -> float:
        return _last(self._tracks[agent_id])

    def forget(self, agent_id: str) -> None:
        track = self._tracks.pop(agent_id, None)
        if track is None:
            return
        self._stale.discard(agent_id)
        if track.pulse is not None:
            track.pulse.covered.discard(agent_id)
            track.pulse.lapsed.discard(agent_id)

    def next_deadline(self) -> float | None:
        heap = self._heap
        while heap:
            deadline, agent_id = heap[0]
            track = self._tracks.get(agent_id)
            if track is not None and track.scheduled == deadline:
                break
            heapq.heappop(heap)  # stale entry
        pulses = self._pulses
        while pulses and pulses[0][2].scheduled != pulses[0][0]:
            heapq.heappop(pulses)
        if heap and (not pulses or heap[0][0] <= pulses[0][0]):
            return heap[0][0]
        return pulses[0][0] if pulses else None

    def pop_due(
        self, now: float, limit: int = EXPIRY_SLICE, checks: int = CHECK_SLICE
    ) -> list[tuple[str, Due]]:
        """Agents whose timeout or expiry deadline has passed, each at most once per passing, in deadline
        order: at most `limit` of them, after looking at no more than about `checks` deadlines. What is
        left comes out of the next call (`next_deadline` is then not later than `now`)."""
        due: list[tuple[str, Due]] = []
        heap, pulses = self._heap, self._pulses
        while len(due) < limit and checks > 0:
            if pulses and pulses[0][0] <= now and (not heap or pulses[0][0] <= heap[0][0]):
                deadline, _, pulse = heapq.heappop(pulses)
                if pulse.scheduled == deadline:
                    checks -= 1 + len(pulse.covered)
                    self._judge_pulse(pulse, now)
                continue
            if not heap or heap[0][0] > now:
                break
            checks -= 1
            deadline, agent_id = heapq.heappop(heap)
            track = self._tracks.get(agent_id)
            if track is None or track.scheduled != deadline:
                continue
            last = _last(track)
            if not track.timed_out:
                timeout_at = last + track.terms.heartbeat_timeout
                if timeout_at > now:
                    self._reschedule(agent_id, track, timeout_at)
                    continue
                track.timed_out = True
                self._stale.add(agent_id)
                if track.pulse is not None:
                    track.pulse.lapsed.add(agent_id)
                due.append((agent_id, Due.TIMEOUT))
            expire_at = last + track.terms.auto_deregister_timeout
            if expire_at > now:
                self._schedule(agent_id, track, expire_at)
            else:
                track.scheduled = _NONE
                due.append((agent_id, Due.EXPIRY))
        return due

    def defer(self, agent_id: str, until: float) -> None:
        """Check an agent's expiry again at `until` (the expiry guard holds it back)."""
        track = self._tracks.get(agent_id)
        if track is not None:
            self._schedule(agent_id, track, until)

    def _judge_pulse(self, pulse: Pulse, now: float) -> None:
        """The pulse's deadline came: move it if the stream beat meanwhile, else each covered agent is
        judged on its own from here (an agent that beat on its own since is not due yet)."""
        assert pulse.terms is not None
        timeout_at = pulse.last_beat + pulse.terms.heartbeat_timeout
        if timeout_at > now:
            self._schedule_pulse(pulse, timeout_at)
            return
        pulse.scheduled = None
        covered, pulse.covered = pulse.covered, set()
        for agent_id in covered:
            track = self._tracks[agent_id]
            self._schedule(agent_id, track, _last(track) + track.terms.heartbeat_timeout)

    def _reschedule(self, agent_id: str, track: _Track, timeout_at: float) -> None:
        """Move a live agent's deadline to `timeout_at`: onto its pulse if the pulse gave its last beat."""
        pulse = track.pulse
        if pulse is None or pulse.last_beat < track.last_beat:
            self._schedule(agent_id, track, timeout_at)
            return
        track.scheduled = _COVERED
        pulse.covered.add(agent_id)
        if pulse.scheduled is None or pulse.terms != track.terms:
            pulse.terms = track.terms
            self._schedule_pulse(pulse, timeout_at)

    def _recover(self, agent_id: str, track: _Track) -> None:
        if track.timed_out:
            track.timed_out = False
            self._stale.discard(agent_id)
            if track.pulse is not None:
                track.pulse.lapsed.discard(agent_id)

    def _schedule(self, agent_id: str, track: _Track, deadline: float) -> None:
        if track.scheduled == _COVERED and track.pulse is not None:
            track.pulse.covered.discard(agent_id)
        track.scheduled = deadline
        heapq.heappush(self._heap, (deadline, agent_id))

    def _schedule_pulse(self, pulse: Pulse, deadline: float) -> None:
        pulse.scheduled = deadline
        heapq.heappush(self._pulses, (deadline, pulse.id, pulse))


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
