"""Load: what runtimes report about their agents' work, and the reservations routers hold against it.

Everything here is ephemeral: kept in memory, never stored, never an event. A runtime's report (ridden on a
heartbeat) is the truth about an agent when it is made; it counts as unknown once it is older than the
runtime's heartbeat timeout (about three beats). A reservation counts one task against its agent at once,
so routers that select between two reports do not all pick the same agent; the next report that differs
supersedes that estimate (the reserved task is in it, or done; the same report again, as a runtime sends
with every beat, only keeps it fresh), but the estimate never falls below the reservations still open:
a report taken just before a reserved task arrived must not make room for it twice. Releasing a
reservation says its task ended: made before the last report, its task is in that report, so the estimate
drops at once instead of at the next report (waiting up to a report interval per task would idle a share
of the fleet: 10% at 100 ms reports and 500 ms tasks). An expiry says nothing of the task, so it only
stops counting the reservation. A reservation stays open until it is released or its TTL runs out; a router renews it (a new TTL, in the same bounds) while a
long task runs. Outcomes given at release feed a per-agent error rate. Whatever may free capacity (a new
report, a reservation ending) is told to `on_room`, so routers waiting for an agent are served at once.
"""

from __future__ import annotations

import enum
import math
import uuid
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass

from registryd.core.clock import Clock, Timer
from registryd.core.errors import InvalidArgument, NotFound, ResourceExhausted

DEFAULT_TTL = 60.0  # seconds a reservation lasts when the router does not say
MIN_TTL = 1.0
MAX_TTL = 3600.0
ERROR_WEIGHT = 0.2  # weight of one outcome in the error rate (an exponential moving average)
ERROR_HALF_LIFE = 60.0  # seconds for the error rate to halve without new outcomes


class Outcome(enum.IntEnum):
    OK = 1
    ERROR = 2
    TIMEOUT = 3


@dataclass(frozen=True, slots=True)
class LoadReport:
    """One agent's load as its runtime reports it."""

    in_flight: int = 0
    max_concurrency: int = 0  # 0: no limit declared
    queue_depth: int = 0
    accepting: bool = True  # False while draining
    utilization: float | None = None  # 0..1
    latency_ewma: float | None = None  # seconds

    def check(self, field: str) -> None:
        for name in ("in_flight", "max_concurrency", "queue_depth"):
            if getattr(self, name) < 0:
                raise InvalidArgument(
                    f"{field}.{name} must not be negative (got {getattr(self, name)})",
                    field=f"{field}.{name}",
                )
        if self.utilization is not None and not 0.0 <= self.utilization <= 1.0:
            raise InvalidArgument(
                f"{field}.utilization must be within 0 and 1 (got {self.utilization})",
                field=f"{field}.utilization",
            )
        if self.latency_ewma is not None and not 0.0 <= self.latency_ewma < math.inf:
            raise InvalidArgument(
                f"{field}.latency_ewma must be a finite duration, not negative (got {self.latency_ewma})",
                field=f"{field}.latency_ewma",
            )


@dataclass(frozen=True, slots=True)
class AgentLoadReport:
    """A report as a heartbeat carries it: for the named agents, or (none named) every agent it beats."""

    agent_ids: tuple[str, ...]
    load: LoadReport


@dataclass(frozen=True, slots=True)
class Load:
    """What selection sees of one agent: the last fresh report plus the reservations made since."""

    in_flight: int  # reported in-flight tasks plus reservations made since, at least the open reservations
    max_concurrency: int
    queue_depth: int
    accepting: bool
    known: bool  # a fresh report exists
    error_rate: float
    utilization: float | None = None
    latency_ewma: float | None = None

    @property
    def full(self) -> bool:
        return 0 < self.max_concurrency <= self.in_flight


@dataclass(slots=True)
class Reservation:
    reservation_id: str
    agent_id: str
    runtime_id: str
    ttl: float
    expires_at: float  # monotonic
    epoch: int  # the agent's report count when made: counted in the estimate until the next report
    timer: Timer | None = None


@dataclass(slots=True)
class _AgentLoad:
    report: LoadReport | None = None
    reported_at: float = -math.inf
    epoch: int = 0
    counted: int = 0  # open reservations made since the last report
    ended: int = 0  # reservations made before the last report released since: their tasks are in it, done
    open: int = 0  # every open reservation
    error_rate: float = 0.0
    error_at: float = 0.0
    gone: bool = False  # deregistered while reservations were open


def reservation_ttl(requested: float | None) -> float:
    """The TTL in force for a router's ask (None: the default), clamped to [MIN_TTL, MAX_TTL]."""
    if requested is None:
        return DEFAULT_TTL
    if not 0 < requested < math.inf:
        raise InvalidArgument(
            f"reservation_ttl must be a positive number of seconds (got {requested})", field="reservation_ttl"
        )
    return min(max(requested, MIN_TTL), MAX_TTL)


def assign(
    reports: Sequence[AgentLoadReport],
    beaten: Collection[str],
    split: Callable[[Iterable[str]], tuple[list[str], list[str], list[str]]],
) -> tuple[dict[str, LoadReport], list[str], list[str]]:
    """Each report to its agents (a report naming none: every agent of the beat); `split` sorts named ids
    into the runtime's own, unknown and refused. Later reports of one agent win."""
    loads: dict[str, LoadReport] = {}
    unknown: list[str] = []
    refused: list[str] = []
    for report in reports:
        if report.agent_ids:
            known, missing, others = split(report.agent_ids)
            unknown += missing
            refused += others
        else:
            known = list(beaten)
        for agent_id in known:
            loads[agent_id] = report.load
    return loads, unknown, refused


class LoadBook:
    def __init__(
        self,
        clock: Clock,
        max_reservations: int,
        counters: Counter[str],
        on_room: Callable[[str], None] = lambda agent_id: None,
    ) -> None:
        self._clock = clock
        self._on_room = on_room
        self._max_reservations = max_reservations
        self._counters = counters
        self._agents: dict[str, _AgentLoad] = {}
        self._reservations: dict[str, Reservation] = {}

    @property
    def open_reservations(self) -> int:
        return len(self._reservations)

    def report(self, agent_id: str, load: LoadReport) -> None:
        entry = self._agents.setdefault(agent_id, _AgentLoad())
        entry.reported_at = self._clock.monotonic()
        entry.gone = False
        if load == entry.report:
            return  # the same report again (sent with every beat): fresh, but the reserved tasks are not in it
        entry.report = load
        entry.epoch += 1
        entry.counted = entry.ended = 0
        self._on_room(agent_id)

    def load_of(self, agent_id: str, stale_after: float) -> Load:
        entry = self._agents.get(agent_id)
        if entry is None:
            return Load(0, 0, 0, True, False, 0.0)
        now = self._clock.monotonic()
        error_rate = entry.error_rate * 0.5 ** ((now - entry.error_at) / ERROR_HALF_LIFE)
        report = entry.report
        if report is None or now - entry.reported_at > stale_after:
            return Load(entry.open, 0, 0, True, False, error_rate)
        return Load(
            # Never below the open reservations: a report taken before a reserved task arrived, and
            # received after, must not make room for it twice.
            max(report.in_flight + entry.counted - entry.ended, entry.open),
            report.max_concurrency,
            report.queue_depth,
            report.accepting,
            True,
            error_rate,
            report.utilization,
            report.latency_ewma,
        )

    def forget(self, agent_id: str) -> None:
        """The agent is gone: its report and error rate go; its open reservations end when released or
        expired, as they would have."""
        entry = self._agents.get(agent_id)
        if entry is None:
            return
        if entry.open:
            self._agents[agent_id] = _AgentLoad(epoch=entry.epoch + 1, open=entry.open, gone=True)
        else:
            del self._agents[agent_id]

    def reserve(self, agent_id: str, runtime_id: str, ttl: float) -> Reservation:
        if len(self._reservations) >= self._max_reservations:
            raise ResourceExhausted(
                f"the daemon already holds max_reservations={self._max_reservations} open reservations; "
                "release reservations when tasks end"
            )
        entry = self._agents.setdefault(agent_id, _AgentLoad())
        entry.gone = False
        reservation = Reservation(
            f"rsv-{uuid.uuid4().hex}", agent_id, runtime_id, ttl, self._clock.monotonic() + ttl, entry.epoch
        )
        self._arm(reservation)
        self._reservations[reservation.reservation_id] = reservation
        entry.open += 1
        entry.counted += 1
        self._counters["reservations"] += 1
        return reservation

    def renew(self, reservation_id: str, requested_ttl: float | None) -> Reservation:
        """The reservation lasts the TTL asked for (see reservation_ttl; None: its own) from now on."""
        reservation = self._open(reservation_id)
        ttl = reservation.ttl if requested_ttl is None else reservation_ttl(requested_ttl)
        if reservation.timer is not None:
            reservation.timer.cancel()
        reservation.ttl = ttl
        reservation.expires_at = self._clock.monotonic() + ttl
        self._arm(reservation)
        self._counters["reservation_renewals"] += 1
        return reservation

    def release(self, reservation_id: str, outcome: Outcome | None) -> Reservation:
        reservation = self._open(reservation_id)
        self._end(reservation, task_ended=True)
        if reservation.timer is not None:
            reservation.timer.cancel()
        if outcome is not None:
            self._counters[f"reservation_outcomes:{outcome.name}"] += 1
            entry = self._agents.get(reservation.agent_id)
            if entry is not None:
                now = self._clock.monotonic()
                decayed = entry.error_rate * 0.5 ** ((now - entry.error_at) / ERROR_HALF_LIFE)
                failed = 0.0 if outcome is Outcome.OK else 1.0
                entry.error_rate = decayed + ERROR_WEIGHT * (failed - decayed)
                entry.error_at = now
        self._on_room(reservation.agent_id)
        return reservation

    def stop(self) -> None:
        for reservation in self._reservations.values():
            if reservation.timer is not None:
                reservation.timer.cancel()
        self._reservations.clear()

    def _open(self, reservation_id: str) -> Reservation:
        reservation = self._reservations.get(reservation_id)
        if reservation is None:
            raise NotFound(
                f"reservation {reservation_id[:64]!r} is not open (released already, expired, or never made)",
                field="reservation_id",
            )
        return reservation

    def _arm(self, reservation: Reservation) -> None:
        reservation.timer = self._clock.schedule(
            reservation.ttl, lambda: self._expire(reservation.reservation_id)
        )

    def _expire(self, reservation_id: str) -> None:
        reservation = self._reservations.get(reservation_id)
        if reservation is not None:
            self._end(reservation, task_ended=False)
            self._counters["reservations_expired"] += 1
            self._on_room(reservation.agent_id)

    def _end(self, reservation: Reservation, *, task_ended: bool) -> None:
        del self._reservations[reservation.reservation_id]
        entry = self._agents[reservation.agent_id]
        entry.open -= 1
        if reservation.epoch == entry.epoch:
            entry.counted -= 1
        elif task_ended:
            entry.ended += 1
        if not entry.open and entry.gone:
            del self._agents[reservation.agent_id]
