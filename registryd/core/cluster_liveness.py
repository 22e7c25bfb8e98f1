"""Who judges which agents' liveness when several replicas share a store (DESIGN.md section 5).

- The replica holding a runtime's heartbeat stream judges that runtime's agents (their beats arrive
  there), writing each change fenced by its session key: once the runtime re-binds elsewhere, the old
  replica's changes (and its lease's expiry) no longer touch it.
- The elected leader judges every agent whose runtime holds no session anywhere: heartbeat timeouts,
  auto-deregistration and the expiry guard, each write fenced by the leadership key. When a session
  vanishes (its replica ended the stream, or died and its lease expired) the leader turns the agents
  UNHEALTHY unless the runtime holds a session again by the time the change commits. A session its holder
  released (the stream ended on a live replica, which changed the agents it bound) is no death: the
  runtime's other agents keep their deadlines, as in a single daemon.
- Heartbeats (unary and streamed) reach every replica through the store, coalesced per `BEAT_FLUSH`, so
  every view shows the same last heartbeats and whoever leads next has the same deadlines. Agents of runtimes held elsewhere are parked in every other replica's
  tracker and restart their clock when the session ends: their deadline can come late, never early.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

import structlog

from registryd.core.clock import Clock, Timer
from registryd.core.commit import CommitFailed
from registryd.store.base import Fence, SessionPort, StoreError, StoreUnavailable

if TYPE_CHECKING:
    from registryd.core.registry import Registry

log = structlog.get_logger("registryd.cluster")

BEAT_FLUSH = 0.2  # seconds beats are coalesced before they are shared with the other replicas


class ClusterLiveness:
    def __init__(self, port: SessionPort, registry: Registry, clock: Clock) -> None:
        self._port = port
        self._registry = registry
        self._clock = clock
        self.leading = False
        self.held_elsewhere: set[str] = set()  # runtimes whose session another replica holds
        self._orphaned: set[str] = set()  # sessions that ended while this replica did not lead
        self._beats: set[str] = set()
        self._flush_timer: Timer | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        try:
            await self._port.start(self)
        except StoreUnavailable as error:
            raise StoreError(str(error)) from error

    async def stop(self) -> None:
        if self._flush_timer is not None:
            self._flush_timer.cancel()
            self._flush_timer = None
        await self._port.stop()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def judge(self, runtime_id: str, streaming_here: bool) -> Fence | None:
        """The fence under which this replica acts on a runtime's deadlines; None: another replica does."""
        if streaming_here:
            return Fence(held_here=runtime_id)
        if self.leading and runtime_id not in self.held_elsewhere:
            return Fence(leader=True)
        return None

    async def hold(self, runtime_id: str) -> None:
        """This replica holds the runtime's stream now (fencing any other replica that held it)."""
        try:
            await self._port.hold(runtime_id)
        except StoreUnavailable as error:
            raise CommitFailed(str(error)) from error

    @staticmethod
    def release(runtime_id: str) -> Fence:
        """The fence of the change made when this replica's last stream of the runtime ends."""
        return Fence(held_here=runtime_id, release=True)

    def note_beats(self, agent_ids: Iterable[str]) -> None:
        self._beats.update(agent_ids)
        if self._flush_timer is None and self._beats:
            self._flush_timer = self._clock.schedule(BEAT_FLUSH, self._flush)

    def _flush(self) -> None:
        self._flush_timer = None
        beats, self._beats = sorted(self._beats), set()
        self._spawn(self._port.publish_beats(beats), "beats not shared")

    def _spawn(self, work: object, failure: str) -> None:
        async def run() -> None:
            try:
                await work  # type: ignore[misc]
            except StoreUnavailable as error:
                log.warning(failure, error=str(error))

        task = asyncio.get_running_loop().create_task(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # ------------------------------------------------------------------ SessionListener

    def session_changed(self, runtime_id: str, held_here: bool | None) -> None:
        registry = self._registry
        if held_here is None:
            if not self._unheld(runtime_id):
                return  # this replica's lease lapsed under a live stream: lease_renewed takes it again
            if self.leading:
                registry.lose_stream(runtime_id, Fence(leader=True, unheld=runtime_id))
            else:
                self._orphaned.add(runtime_id)
            return
        self._orphaned.discard(runtime_id)
        if held_here:
            self.held_elsewhere.discard(runtime_id)
            registry.unpark(runtime_id)
        else:
            self.held_elsewhere.add(runtime_id)
            registry.park(runtime_id)

    def session_released(self, runtime_id: str) -> None:
        self._orphaned.discard(runtime_id)
        self._unheld(runtime_id)

    def _unheld(self, runtime_id: str) -> bool:
        """No replica holds the runtime's session now: its agents are judged here again (False: this
        replica still streams it)."""
        self.held_elsewhere.discard(runtime_id)
        if self._registry.streams_here(runtime_id):
            return False
        self._registry.unpark(runtime_id)
        return True

    def leadership_changed(self, leading: bool) -> None:
        self.leading = leading
        if not leading:
            return
        for runtime_id in sorted(self._orphaned):
            self._registry.lose_stream(runtime_id, Fence(leader=True, unheld=runtime_id))
        self._orphaned.clear()
        self._registry.take_over_deadlines()

    def beats_heard(self, agent_ids: Sequence[str]) -> None:
        self._registry.heard_beats(agent_ids)

    def lease_renewed(self) -> None:
        for runtime_id in self._registry.streaming_runtimes():
            self._spawn(self._port.hold(runtime_id, take=False), "session not taken again")
