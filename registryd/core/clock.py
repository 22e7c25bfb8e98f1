"""What the core is handed to tell time: a monotonic clock for deadlines, a wall clock for the times it
reports, and timers. The daemon passes `registryd.clock.SystemClock`; core tests pass a fake one."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol


class Timer(Protocol):
    def cancel(self) -> None: ...


class Clock(Protocol):
    def monotonic(self) -> float:
        """Seconds on a clock that never jumps; only differences mean anything."""
        ...

    def wall(self) -> float:
        """Seconds since the epoch, for the times the registry reports."""
        ...

    def schedule(self, delay: float, callback: Callable[[], object]) -> Timer:
        """Run `callback` on the event loop after `delay` seconds of the monotonic clock."""
        ...
