"""SelectAgent callers waiting for an agent that fits: one line, served first come, first served.

A router that finds every agent full can ask to wait (SelectRequest.wait) instead of polling. It joins the
line; whenever room may have appeared on some agents (a reservation released or expired, a load report,
an agent turning ACTIVE or registering), the line is walked in arrival order and each waiter whose query
could use that room tries again, until the room is gone: so freed capacity goes to the earliest waiter it
fits, at once, and nobody polls. A caller that goes away leaves the line. The line is bounded in total and
per caller; each wait is bounded in time, and ends with the last answer (no agent, and why).
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from registryd.core.clock import Clock, Timer
from registryd.core.errors import ResourceExhausted

Request = TypeVar("Request")
Answer = TypeVar("Answer")


@dataclass(eq=False, slots=True)
class _Waiter(Generic[Request, Answer]):
    request: Request
    caller: str
    matched: frozenset[str]  # agents its query matched at its last attempt: room elsewhere cannot help it
    future: asyncio.Future[Answer] = field(default_factory=lambda: asyncio.get_running_loop().create_future())
    timer: Timer | None = None


class WaitLine(Generic[Request, Answer]):
    def __init__(
        self,
        clock: Clock,
        attempt: Callable[[Request], tuple[bool, Answer, frozenset[str]]],
        abandon: Callable[[Answer], None],
        max_waiters: int,
        max_per_caller: int,
        counters: Counter[str],
    ) -> None:
        """`attempt(request)` answers (whether it chose an agent, the answer, the ids its query matched);
        `abandon(answer)` undoes an answer its caller went away before taking (a reservation)."""
        self._clock = clock
        self._attempt = attempt
        self._abandon = abandon
        self._max_waiters = max_waiters
        self._max_per_caller = max_per_caller
        self._counters = counters
        self._line: dict[_Waiter[Request, Answer], None] = {}  # insertion order is arrival order
        self._per_caller: Counter[str] = Counter()

    def __len__(self) -> int:
        return len(self._line)

    async def wait(
        self, request: Request, caller: str, seconds: float, last: Answer, matched: frozenset[str]
    ) -> Answer:
        """Wait up to `seconds` for an attempt of `request` that chooses an agent; `last` is the answer
        when time runs out. ResourceExhausted when the line (or the caller's share of it) is full."""
        if len(self._line) >= self._max_waiters:
            raise ResourceExhausted(
                f"max_select_waiters={self._max_waiters} SelectAgent calls are already waiting; retry later"
            )
        if self._per_caller[caller] >= self._max_per_caller:
            raise ResourceExhausted(
                f"this caller already has max_select_waiters_per_caller={self._max_per_caller} SelectAgent "
                "calls waiting; retry later"
            )
        waiter: _Waiter[Request, Answer] = _Waiter(request, caller, matched)
        waiter.timer = self._clock.schedule(seconds, lambda: self._resolve(waiter, last, timed_out=True))
        self._line[waiter] = None
        self._per_caller[caller] += 1
        self._counters["select_waits"] += 1
        try:
            return await waiter.future
        except asyncio.CancelledError:
            if waiter.future.done() and not waiter.future.cancelled():
                self._abandon(waiter.future.result())
            raise
        finally:
            self._leave(waiter)

    def room(self, agent_ids: Collection[str], fits: Callable[[str], bool], *, joined: bool = False) -> None:
        """Room may have appeared on `agent_ids` (`fits` tells which still fit now). `joined`: they may be
        new to the waiters' queries (registered, or back to a selectable status)."""
        if not self._line:
            return
        free = {a for a in agent_ids if fits(a)}
        for waiter in list(self._line):
            if not free:
                return
            if waiter.future.done() or (not joined and waiter.matched.isdisjoint(free)):
                continue
            chosen, answer, waiter.matched = self._attempt(waiter.request)
            if chosen:
                self._resolve(waiter, answer, timed_out=False)
                free = {a for a in free if fits(a)}

    def _resolve(self, waiter: _Waiter[Request, Answer], answer: Answer, *, timed_out: bool) -> None:
        if not waiter.future.done():
            waiter.future.set_result(answer)
            if timed_out:
                self._counters["select_wait_timeouts"] += 1
        self._leave(waiter)

    def _leave(self, waiter: _Waiter[Request, Answer]) -> None:
        if waiter in self._line:
            del self._line[waiter]
            self._per_caller[waiter.caller] -= 1
            if not self._per_caller[waiter.caller]:
                del self._per_caller[waiter.caller]
        if waiter.timer is not None:
            waiter.timer.cancel()
            waiter.timer = None
