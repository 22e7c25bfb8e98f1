"""Keeps one runtime's agents alive over one HeartbeatStream, and heals it.

The stream beats every bound agent each `interval` (and never slower than a third of the daemon's own
heartbeat timeout, which every ack reports). When the stream breaks it reconnects with exponential
backoff and full jitter, binds the agents again, and re-registers those the daemon reports as unknown
(a daemon that restarted without persistence, or agents that expired while this client was cut off).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Sequence

from agentregistry.backoff import Backoff
from agentregistry.client import HeartbeatStream, RegistryClient
from agentregistry.types import HeartbeatAck, RegistryError

log = logging.getLogger("agentregistry")

# Agents named in one bind; well under the daemon's default limit of 10,000.
_BIND_CHUNK = 1000

Reregister = Callable[[Sequence[str]], Awaitable[list[str]]]


class RuntimeHeartbeat:
    """`agent_ids` is the set this client wants alive; the stream follows it."""

    def __init__(
        self,
        client: RegistryClient,
        runtime_id: str,
        interval: float,
        backoff: Backoff,
        reregister: Reregister,
    ) -> None:
        self._client = client
        self.runtime_id = runtime_id
        self._interval = interval
        self._backoff = backoff
        self._reregister = reregister
        self.agent_ids: set[str] = set()
        self._bound: set[str] = set()
        self._changed = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None
        self.connected = asyncio.Event()  # set while a stream is open and bound

    def add(self, agent_id: str) -> None:
        self.agent_ids.add(agent_id)
        self._changed.set()
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=f"agentregistry-heartbeat-{self.runtime_id}")

    def discard(self, agent_id: str) -> None:
        self.agent_ids.discard(agent_id)
        self._changed.set()

    async def stop(self) -> None:
        """Half-close the stream: agents still bound turn OFFLINE (they were not deregistered)."""
        self._stopping = True
        self._changed.set()
        if self._task is not None:
            if not self.connected.is_set():
                self._task.cancel()  # waiting to reconnect: there is no stream to close
            await asyncio.wait({self._task}, timeout=5.0)
            if not self._task.done():  # the daemon did not answer the half-close in time
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._task

    async def _run(self) -> None:
        while not self._stopping:
            if not self.agent_ids:
                self._changed.clear()
                await self._changed.wait()
                continue
            try:
                async with self._client.heartbeat_stream(self.runtime_id) as stream:
                    await self._serve(stream)
            except Exception as error:
                self.connected.clear()
                self._bound.clear()
                delay = self._backoff.next_delay()
                if isinstance(error, RegistryError):
                    log.warning(
                        "heartbeat stream of runtime %s lost (%s); reconnecting in %.2f s",
                        self.runtime_id,
                        error,
                        delay,
                    )
                else:  # a bug must not silently stop the heartbeats
                    log.exception("heartbeat stream of runtime %s failed; reconnecting", self.runtime_id)
                await asyncio.sleep(delay)

    async def _serve(self, stream: HeartbeatStream) -> None:
        self._bound.clear()
        interval = self._interval
        await self._sync(stream)
        self.connected.set()
        self._backoff.reset()
        next_beat = time.monotonic() + interval
        # A daemon that ends the stream (a drain before a restart) is noticed at once, not at the next beat.
        ended = asyncio.ensure_future(stream.ended())
        # One waiter for `_changed` serves beat after beat; a new one only once it has fired.
        changed: asyncio.Future[bool] | None = None
        try:
            while not self._stopping and self.agent_ids:
                if changed is None or changed.done():
                    changed = asyncio.ensure_future(self._changed.wait())
                await asyncio.wait(
                    (changed, ended),
                    timeout=max(0.0, next_beat - time.monotonic()),
                    return_when=asyncio.FIRST_COMPLETED,
                )
                if ended.done():
                    raise ended.result()
                if self._changed.is_set():
                    self._changed.clear()
                    await self._sync(stream)
                if time.monotonic() >= next_beat:
                    ack = await stream.beat()
                    interval = min(self._interval, ack.heartbeat_timeout / 3 or self._interval)
                    next_beat = time.monotonic() + interval
                    await self._recover(stream, ack)
        finally:
            ended.cancel()
            if changed is not None:
                changed.cancel()
            self.connected.clear()

    async def _sync(self, stream: HeartbeatStream) -> None:
        """Make the stream's bound set equal to `agent_ids`."""
        wanted = set(self.agent_ids)
        gone = sorted(self._bound - wanted)
        if gone:
            await stream.unbind(gone)
            self._bound -= set(gone)
        await self._bind(stream, sorted(wanted - self._bound))

    async def _bind(self, stream: HeartbeatStream, agent_ids: Sequence[str]) -> None:
        for start in range(0, len(agent_ids), _BIND_CHUNK):
            ack = await self._bind_known(stream, agent_ids[start : start + _BIND_CHUNK])
            await self._recover(stream, ack)

    async def _bind_known(self, stream: HeartbeatStream, agent_ids: Sequence[str]) -> HeartbeatAck:
        """Bind `agent_ids`; those the daemon knows count as bound."""
        ack = await stream.bind(agent_ids)
        self._bound.update(set(agent_ids).difference(ack.unknown_agent_ids))
        return ack

    async def _recover(self, stream: HeartbeatStream, ack: HeartbeatAck) -> None:
        """Re-register agents the daemon no longer knows, then bind them again."""
        if not ack.unknown_agent_ids:  # every beat's usual case
            return
        self._bound.difference_update(ack.unknown_agent_ids)
        unknown = [a for a in ack.unknown_agent_ids if a in self.agent_ids]
        if not unknown:
            return
        log.info(
            "daemon does not know %d agent(s) of runtime %s; re-registering", len(unknown), self.runtime_id
        )
        registered = await self._reregister(unknown)
        if registered:
            await self._bind_known(stream, registered)
