"""Keeps one runtime's agents alive over one HeartbeatStream, and heals it.

Every bind asks for the runtime's liveness terms (heartbeat and auto-deregister timeouts); the stream
beats every bound agent at the interval the heartbeat timeout in force calls for (every ack reports it).
Self-reported statuses (DEGRADED, back to ACTIVE) ride on beats and are reported again after a rebind.

When the stream breaks it reconnects with exponential backoff and full jitter, cut short when the channel
makes a new connection (a restarted daemon is rejoined as soon as it is up), binds the agents again, and
re-registers those the daemon reports as unknown (a daemon that restarted without persistence, or agents
that expired while this client was cut off). Agents the daemon refuses (another runtime owns them now) are
given up: `on_lost` tells the owner. The backoff is reset only once a stream has carried a beat, so a
daemon that ends every stream at once is retried ever more slowly. A lost stream is logged once, and its
recovery once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Sequence

from agentregistry.backoff import Backoff
from agentregistry.client import HeartbeatStream, RegistryClient
from agentregistry.types import AgentRegistryConfig, AgentStatus, HeartbeatAck, LoadReport, RegistryError

log = logging.getLogger("agentregistry")

# Agents named in one bind; well under the daemon's default limit of 10,000.
_BIND_CHUNK = 1000

Reregister = Callable[[Sequence[str]], Awaitable[list[str]]]
Lost = Callable[[str, Sequence[str]], None]


class RuntimeHeartbeat:
    """`agent_ids` is the set this client wants alive; the stream follows it."""

    def __init__(
        self,
        client: RegistryClient,
        runtime_id: str,
        config: AgentRegistryConfig,
        reregister: Reregister,
        on_lost: Lost,
    ) -> None:
        self._client = client
        self.runtime_id = runtime_id
        self._config = config
        self._backoff = Backoff(config.reconnect_initial_backoff, config.reconnect_max_backoff)
        self._reregister = reregister
        self._on_lost = on_lost
        self.agent_ids: set[str] = set()
        self.reported: dict[str, AgentStatus] = {}  # self-reported DEGRADED agents
        self.loads: dict[str, LoadReport] = {}  # the last load each worker set, sent with every beat
        self._bound: set[str] = set()
        self._stream: HeartbeatStream | None = None
        self._changed = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None
        self._lost_at: float | None = None
        self.connected = asyncio.Event()  # set while a stream is open and bound
        self.heartbeat_timeout = 0.0  # in force, as the last ack said (0: not known yet)

    def add(self, agent_id: str) -> None:
        self.agent_ids.add(agent_id)
        self._changed.set()
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=f"agentregistry-heartbeat-{self.runtime_id}")

    def discard(self, agent_id: str) -> None:
        self.agent_ids.discard(agent_id)
        self.reported.pop(agent_id, None)
        self.loads.pop(agent_id, None)
        self._changed.set()

    async def report_load(self, agent_id: str, load: LoadReport) -> None:
        """Send an agent's load on the stream now (or with the next beat, when the stream is down); it
        goes with every beat from then on, so the daemon never takes it for stale."""
        self.loads[agent_id] = load
        stream = self._stream
        if stream is not None and agent_id in self._bound:
            with contextlib.suppress(RegistryError):  # the stream is lost: the next beat sends it
                await self._handle(stream, await stream.beat([agent_id], loads=[((agent_id,), load)]))

    def _bound_loads(self) -> list[tuple[tuple[str, ...], LoadReport]]:
        return [((agent_id,), load) for agent_id, load in self.loads.items() if agent_id in self._bound]

    async def report(self, agent_id: str, status: AgentStatus) -> bool:
        """Self-report ACTIVE or DEGRADED for one of this runtime's agents on the stream now; kept and
        reported again after every rebind. False when the stream could not carry it now (down, or the
        agent not bound yet): the caller reports it another way, the next bind reports it again."""
        if status is AgentStatus.DEGRADED:
            self.reported[agent_id] = status
        else:
            self.reported.pop(agent_id, None)
        stream = self._stream
        if stream is None or agent_id not in self._bound:
            return False
        try:
            await self._handle(stream, await stream.beat([agent_id], status))
        except RegistryError:  # the stream is lost: the rebind reports it
            return False
        return True

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
                async with self._client.heartbeat_stream(self.runtime_id, self._config.liveness) as stream:
                    await self._serve(stream)
            except Exception as error:
                self.connected.clear()
                self._bound.clear()
                self._stream = None
                delay = self._backoff.next_delay()
                if not isinstance(error, RegistryError):  # a bug must not silently stop the heartbeats
                    log.exception("heartbeat stream of runtime %s failed; reconnecting", self.runtime_id)
                elif self._lost_at is None:
                    self._lost_at = time.monotonic()
                    log.warning(
                        "heartbeat stream of runtime %s lost (%s); reconnecting", self.runtime_id, error
                    )
                else:
                    log.debug(
                        "heartbeat stream of runtime %s: %s; retrying in %.2f s",
                        self.runtime_id,
                        error,
                        delay,
                    )
                await self._client.pause(delay)

    async def _serve(self, stream: HeartbeatStream) -> None:
        self._bound.clear()
        await self._sync(stream)
        for agent_id, status in tuple(self.reported.items()):
            if agent_id in self._bound:
                await self._handle(stream, await stream.beat([agent_id], status))
        self._stream = stream
        self.connected.set()
        if self._lost_at is not None:
            log.warning(
                "heartbeat stream of runtime %s back after %.1f s (%d agents bound)",
                self.runtime_id,
                time.monotonic() - self._lost_at,
                len(self._bound),
            )
            self._lost_at = None
        next_beat = time.monotonic() + self._interval()
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
                    await self._handle(stream, await stream.beat(loads=self._bound_loads()))
                    self._backoff.reset()  # this stream works: the next failure starts from the start
                    next_beat = time.monotonic() + self._interval()
        finally:
            ended.cancel()
            if changed is not None:
                changed.cancel()
            self._stream = None
            self.connected.clear()

    def _interval(self) -> float:
        return self._config.beat_interval_for(self.heartbeat_timeout)

    async def _sync(self, stream: HeartbeatStream) -> None:
        """Make the stream's bound set equal to `agent_ids`."""
        wanted = set(self.agent_ids)
        gone = sorted(self._bound - wanted)
        if gone:
            await stream.unbind(gone)
            self._bound -= set(gone)
        missing = sorted(wanted - self._bound)
        for start in range(0, len(missing), _BIND_CHUNK):
            await self._handle(stream, await self._bind(stream, missing[start : start + _BIND_CHUNK]))

    async def _bind(self, stream: HeartbeatStream, agent_ids: Sequence[str]) -> HeartbeatAck:
        """Bind `agent_ids`; those the daemon knows and lets this runtime have count as bound."""
        ack = await stream.bind(agent_ids)
        self._bound.update(set(agent_ids).difference(ack.unknown_agent_ids, ack.refused_agent_ids))
        return ack

    async def _handle(self, stream: HeartbeatStream, ack: HeartbeatAck) -> None:
        """Follow the terms in force; give up refused agents; re-register unknown ones and bind them."""
        if ack.heartbeat_timeout:
            self.heartbeat_timeout = ack.heartbeat_timeout
        refused = [a for a in ack.refused_agent_ids if a in self.agent_ids]
        if refused:
            self._bound.difference_update(refused)
            for agent_id in refused:
                self.discard(agent_id)
            self._on_lost(self.runtime_id, refused)
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
            await self._handle(stream, await self._bind(stream, registered))
