"""Committing changes: a change is decided against the registry's view, applied to the view, committed to
the store and published to subscribers.

`Committer` serves stores local to this process (SQLite, memory): no one else writes, so a decision can
never conflict, and it is applied to the view at once. Changes made while a write is in flight share the
next write; events are published only after their write is durable, in revision order, `PUBLISH_SLICE` of
them per turn of the event loop (a mass expiry's write does not hold the loop while every subscriber takes
all of it). (`registryd.core.cluster.ClusterCommitter` serves a store shared by several replicas.)

Which runtimes hold a heartbeat stream rides along with the next write (it is not an event): after a
restart the registry knows whose agents to mark UNHEALTHY if they do not bind again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

import structlog

from registryd.core.model import Event
from registryd.store.base import Fence, Store

log = structlog.get_logger("registryd.commit")

Decision = Callable[[], list[Event]]  # decides a change against the view (without changing it): its events
Apply = Callable[[Sequence[Event]], None]  # applies committed (or, locally, certain) events to the view
Publish = Callable[
    [Sequence[Event], bool], None
]  # hands events to subscribers (True: more of the last write)
PUBLISH_SLICE = 500  # events handed to subscribers per turn of the event loop


class CommitFailed(Exception):
    """The store refused a write; the daemon cannot vouch for its state any more."""


class Committer:
    def __init__(
        self,
        store: Store,
        apply: Apply,
        publish: Publish,
        on_failure: Callable[[BaseException], None] | None = None,
    ) -> None:
        self._store = store
        self._apply = apply
        self._publish = publish
        self._on_failure = on_failure
        self._pending: list[Event] = []
        self._streams: dict[str, bool] = {}  # runtime_id -> holds a stream now
        self._waiters: list[asyncio.Future[None]] = []
        self._task: asyncio.Task[None] | None = None
        self.failure: BaseException | None = None

    def submit(self, decide: Decision, fence: Fence | None = None) -> list[Event]:
        """Decide and apply a change now; queue its events for the next write without waiting for it.
        (`fence` is for replicas sharing a store: in one process every fence holds.)"""
        events = decide()
        if events:
            self._apply(events)
            self._pending.extend(events)
            self._start()
        return events

    def note_stream(self, runtime_id: str, held: bool) -> None:
        """Record, with the next write, whether the runtime holds a heartbeat stream."""
        self._streams[runtime_id] = held
        self._start()

    async def commit(self, decide: Decision) -> list[Event]:
        """Decide and apply a change; when it has events, wait until they (and everything queued before
        them) are durable."""
        if self.failure is not None:
            raise CommitFailed(str(self.failure)) from self.failure
        events = self.submit(decide)
        if events:
            await self.barrier()
        return events

    @property
    def settled(self) -> bool:
        """No decided change is still to reach the view: in one process a change reaches it when decided."""
        return True

    async def barrier(self) -> None:
        """Wait until everything queued so far is durable."""
        if self.failure is not None:
            raise CommitFailed(str(self.failure)) from self.failure
        if not self._pending and self._task is None:
            return
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        self._start()
        await waiter

    def _start(self) -> None:
        if self._task is None and self.failure is None:
            self._task = asyncio.get_running_loop().create_task(self._flush())

    async def _flush(self) -> None:
        try:
            while self._pending or self._waiters or self._streams:
                batch, self._pending = self._pending, []
                streams, self._streams = self._streams, {}
                waiters, self._waiters = self._waiters, []
                try:
                    if batch or streams:
                        await self._store.append(batch, streams)
                except Exception as exc:
                    self._fail(exc, waiters)
                    return
                for start in range(0, len(batch), PUBLISH_SLICE):
                    if start:
                        await asyncio.sleep(0)
                    self._publish(batch[start : start + PUBLISH_SLICE], start > 0)
                for waiter in waiters:
                    if not waiter.done():
                        waiter.set_result(None)
        finally:
            self._task = None

    def _fail(self, exc: Exception, waiters: list[asyncio.Future[None]]) -> None:
        self.failure = exc
        log.error("store write failed; refusing further writes", error=str(exc))
        for waiter in waiters + self._waiters:
            if not waiter.done():
                waiter.set_exception(CommitFailed(str(exc)))
        self._waiters = []
        if self._on_failure is not None:
            self._on_failure(exc)

    async def drain(self) -> None:
        """Wait for the writes in flight (on shutdown)."""
        if self.failure is None:
            await self.barrier()
