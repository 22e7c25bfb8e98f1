"""The liveness timer, on a clock that stands still while the daemon itself stalls.

Deadlines are kept in liveness time: the monotonic clock minus every stall the sweeper noticed. A watchdog
ticks every `TICK`; a tick (or the deadline timer) that runs more than `STALL` late means the daemon could
not run (SIGSTOP, a paused VM, a long blocking call), so heartbeats that arrived meanwhile still sit unread
in its sockets. The lost time is granted to every agent: no deadline passes because of the daemon's own
stall, and the queued heartbeats are read before anything can time out.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable

import structlog

from registryd.core.clock import Clock, Timer

log = structlog.get_logger("registryd.sweeper")

TICK = 0.1  # seconds between watchdog ticks
STALL = 0.25  # lateness beyond which the daemon counts as stalled (normal loop jitter stays below it)
LAG_BOUNDS = (0.001, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 1.0, 5.0)  # histogram buckets, seconds


class LagHistogram:
    """How late the watchdog's ticks ran: the event loop's lag, sampled every TICK (Prometheus buckets)."""

    def __init__(self) -> None:
        self.counts = [0] * (len(LAG_BOUNDS) + 1)  # per bucket, not cumulative; the last is +Inf
        self.total = 0.0
        self.max = 0.0

    def record(self, lag: float) -> None:
        self.counts[bisect.bisect_left(LAG_BOUNDS, lag)] += 1
        self.total += lag
        self.max = max(self.max, lag)


class Sweeper:
    def __init__(self, clock: Clock, on_due: Callable[[float], None]) -> None:
        self._clock = clock
        self._on_due = on_due
        self._stalled = 0.0  # seconds granted for stalls so far
        self._tick_due = 0.0  # when the watchdog's next tick is due (monotonic)
        self._granted_to = 0.0  # stalls are granted up to this instant, so none is granted twice
        self._tick_timer: Timer | None = None
        self._timer: Timer | None = None
        self._timer_deadline = 0.0
        self.stalls = 0
        self.lag = LagHistogram()

    @property
    def stalled_seconds(self) -> float:
        return self._stalled

    def now(self) -> float:
        """Liveness time: monotonic seconds, less the stalls noticed so far."""
        return self._clock.monotonic() - self._stalled

    def start(self) -> None:
        self._granted_to = self._clock.monotonic()
        self._tick_due = self._granted_to + TICK
        self._tick_timer = self._clock.schedule(TICK, self._tick)

    def stop(self) -> None:
        for timer in (self._tick_timer, self._timer):
            if timer is not None:
                timer.cancel()
        self._tick_timer = self._timer = None

    def arm(self, deadline: float | None) -> None:
        """Point the one deadline timer at `deadline` (liveness time), unless it already fires earlier."""
        if deadline is None or self._tick_timer is None:
            return
        if self._timer is not None:
            if self._timer_deadline <= deadline:
                return
            self._timer.cancel()
        self._timer = self._clock.schedule(deadline - self.now(), self._fire)
        self._timer_deadline = deadline

    def _tick(self) -> None:
        self.lag.record(max(0.0, self._notice_stall()))
        self._tick_due = self._clock.monotonic() + TICK
        self._tick_timer = self._clock.schedule(TICK, self._tick)

    def _fire(self) -> None:
        self._timer = None
        self._notice_stall()
        try:
            self._on_due(self.now())
        except Exception:
            log.exception("liveness check failed")

    def _notice_stall(self) -> float:
        """How late the watchdog's tick is now (negative while it is not due). The deadline timer asks too,
        without moving the tick: time lost beyond STALL is granted to every agent, once."""
        now = self._clock.monotonic()
        lost = now - max(self._tick_due, self._granted_to)
        if lost > STALL:
            self._stalled += lost
            self._granted_to = now
            self.stalls += 1
            log.warning(
                "the daemon stalled; liveness deadlines move by the time lost", seconds=round(lost, 3)
            )
        return now - self._tick_due
