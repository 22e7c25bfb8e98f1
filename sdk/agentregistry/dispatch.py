"""Delivery of events to subscribe() callbacks, off the path that reads the event stream.

Each callback has its own bounded queue and task, so callbacks run concurrently with each other and
with heartbeats, each seeing its events (of every type it subscribed to) in revision order. A callback
that raises is logged and keeps receiving events. Async callbacks run on the event loop; each sync
callback runs in a thread of its own, so even a blocking one stalls neither heartbeats nor any other
callback. Delivery never waits: a callback that falls `queue_size` events behind loses its own oldest
events (one warning when it starts, one when it has caught up, with the count), and nothing else is
slowed, neither the local view nor the caller's writes that wait for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from agentregistry.types import RegistryEvent, RegistryEventType

log = logging.getLogger("agentregistry")

Callback = Callable[[RegistryEvent], Any]


def _is_async(callback: Callback) -> bool:
    return inspect.iscoroutinefunction(callback) or inspect.iscoroutinefunction(
        getattr(callback, "__call__", None)  # noqa: B004 - an object with an async __call__
    )


class _Listener:
    def __init__(self, callback: Callback, queue_size: int) -> None:
        self.callback = callback
        self.types: set[RegistryEventType] = set()
        self._async = _is_async(callback)
        self._queue_size = queue_size
        # Queue, task and thread belong to the running loop: made on the first event, gone at stop().
        self._queue: asyncio.Queue[RegistryEvent] | None = None
        self._task: asyncio.Task[None] | None = None
        self._thread: ThreadPoolExecutor | None = None
        self._cancelled = False
        self._dropped = 0  # events dropped since the queue was last empty

    def put(self, event: RegistryEvent) -> None:
        if self._cancelled:
            return
        if self._queue is None:
            self._queue = asyncio.Queue(self._queue_size)
            if not self._async:
                self._thread = ThreadPoolExecutor(1, "agentregistry-callback")
            self._task = asyncio.create_task(
                self._run(self._queue, self._thread), name=f"agentregistry-callback-{self.callback!r}"
            )
        if self._queue.full():
            self._queue.get_nowait()
            if not self._dropped:
                log.warning(
                    "event callback %r is %d events behind; dropping its oldest events until it catches up",
                    self.callback,
                    self._queue_size,
                )
            self._dropped += 1
        self._queue.put_nowait(event)

    async def _run(self, queue: asyncio.Queue[RegistryEvent], thread: ThreadPoolExecutor | None) -> None:
        loop = asyncio.get_running_loop()
        while True:
            if queue.empty() and self._dropped:
                log.warning(
                    "event callback %r caught up; %d events were dropped", self.callback, self._dropped
                )
                self._dropped = 0
            event = await queue.get()
            try:
                if thread is None:
                    await self.callback(event)
                else:
                    await loop.run_in_executor(thread, self.callback, event)
            except Exception:
                log.exception(
                    "event callback %r raised on %s (revision %d); other callbacks are unaffected",
                    self.callback,
                    event.event_type.value,
                    event.revision,
                )

    def cancel(self) -> None:
        """Stop delivering; events not yet handed over are dropped (a running sync call finishes)."""
        self._cancelled = True
        if self._task is not None:
            self._task.cancel()
        if self._thread is not None:
            self._thread.shutdown(wait=False, cancel_futures=True)

    async def stop(self) -> None:
        """Cancel delivery and wait for it; the subscription stays, for a later start()."""
        self.cancel()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._queue = self._task = self._thread = None
        self._cancelled = False


class EventDispatcher:
    """One listener per distinct callback, whatever event types it is subscribed to, so a callback
    subscribed to several types still sees them in revision order. (Subscribing the same callback to
    the same type twice therefore calls it once.)"""

    def __init__(self, queue_size: int) -> None:
        self._queue_size = queue_size
        self._listeners: list[_Listener] = []

    def _find(self, callback: Callback) -> _Listener | None:
        return next((listener for listener in self._listeners if listener.callback == callback), None)

    def subscribe(self, event_type: RegistryEventType, callback: Callback) -> None:
        listener = self._find(callback)
        if listener is None:
            listener = _Listener(callback, self._queue_size)
            self._listeners.append(listener)
        listener.types.add(RegistryEventType(event_type))

    def unsubscribe(self, event_type: RegistryEventType, callback: Callback) -> bool:
        """End `callback`'s subscription to `event_type`; False when there was none. Once it has no type
        left, events queued for it and not yet delivered are dropped."""
        listener = self._find(callback)
        if listener is None or RegistryEventType(event_type) not in listener.types:
            return False
        listener.types.discard(RegistryEventType(event_type))
        if not listener.types:
            self._listeners.remove(listener)
            listener.cancel()
        return True

    @property
    def listening(self) -> bool:
        """Some callback is subscribed to an event type the daemon sends."""
        return any(listener.types - {RegistryEventType.AGENT_LOST} for listener in self._listeners)

    def wants(self, event_type: RegistryEventType) -> bool:
        return any(event_type in listener.types for listener in self._listeners)

    def deliver(self, event: RegistryEvent) -> None:
        """Queue `event` for every listener of its type; never waits."""
        for listener in tuple(self._listeners):
            if event.event_type in listener.types:
                listener.put(event)

    async def close(self) -> None:
        for listener in self._listeners:
            await listener.stop()
