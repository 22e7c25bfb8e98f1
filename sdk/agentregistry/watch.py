"""A local view of the registry kept current by list-then-subscribe, and every event exactly once.

The watch lists every agent (revision R), then subscribes from R + 1. Each event is applied to the view
and handed on once, in revision order; bookmarks advance the revision seen. When the stream breaks it
resumes where it left off, with backoff:

- Resume asks for `from_revision = last` rather than `last + 1`, so the daemon first replays the event
  at `last`, which this client has already seen. That echo proves the daemon still has the same history;
  it is compared with the event seen then and dropped (never delivered twice).
- A daemon whose current revision is below `last`, or no echo, or a different event at that revision,
  means a new history: a daemon running with `--store memory` restarted and its revisions began again
  from 0 (the first check is one GetStats call before subscribing; the echo catches a restarted daemon
  that has already counted past `last`, which no revision comparison can). The watch then re-lists, reconciles
  the view and continues from the new revision. Changes the new daemon made before the re-list are in
  the view but not delivered as events (they happened in a history this client never watched).
- FAILED_PRECONDITION REVISION_COMPACTED (the daemon no longer retains `last`): re-list, as above.
- RESOURCE_EXHAUSTED SUBSCRIBER_OVERFLOW (this client read too slowly): resume at once.

The stream also asks for heartbeat digests (about once a second, the agents that beat since the last
one), which keep `last_heartbeat` in the view current without an event per beat. A lost stream is logged
once, and its recovery once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import replace

from agentregistry.backoff import Backoff
from agentregistry.client import RegistryClient
from agentregistry.types import (
    AgentMetadata,
    Bookmark,
    HeartbeatDigest,
    RegistryError,
    RegistryEvent,
    RegistryEventType,
    RevisionCompactedError,
    SubscriberOverflowError,
)

log = logging.getLogger("agentregistry")


class _NewHistory(Exception):
    """The daemon's revisions no longer continue the ones this client saw."""


def _fingerprint(event: RegistryEvent) -> tuple[object, ...]:
    return (event.revision, event.event_type, event.agent_id, event.runtime_id, event.timestamp)


class RuntimeAgents(dict[str, set[str]]):
    """Runtime id -> ids of its agents; a runtime never seen has none (an empty set, not stored), as
    in the original registry."""

    def __missing__(self, runtime_id: str) -> set[str]:
        return set()


class RegistryWatch:
    def __init__(
        self,
        backoff: Backoff,
        idle_timeout: float,
        on_event: Callable[[RegistryEvent], None],
        localize: Callable[[AgentMetadata], AgentMetadata],
    ) -> None:
        self._client: RegistryClient | None = None
        self._backoff = backoff
        self._idle_timeout = idle_timeout
        self._on_event = on_event
        self._localize = localize  # attaches the local agent object to agents of this client
        self.agents: dict[str, AgentMetadata] = {}
        self.runtime_agents: dict[str, set[str]] = RuntimeAgents()
        self.revision = 0
        self._last_event: tuple[object, ...] | None = None
        self._advanced: asyncio.Condition | None = None  # made by start(), on its loop
        self._heartbeats = False
        self._stream: asyncio.Task[None] | None = None
        self._task: asyncio.Task[None] | None = None
        self.relists = 0
        self._lost_at: float | None = None  # when the stream was lost, until it is back
        self._heard_at: float | None = None  # when the daemon last sent anything

    def staleness(self) -> float | None:
        """Seconds since the daemon last sent anything (None before the first list)."""
        return None if self._heard_at is None else time.monotonic() - self._heard_at

    @property
    def started(self) -> bool:
        return self._client is not None

    @property
    def client(self) -> RegistryClient:
        assert self._client is not None, "start() first"
        return self._client

    async def start(self, client: RegistryClient) -> None:
        """List once (so the view is complete when this returns), then follow in the background."""
        self._client = client
        self._advanced = asyncio.Condition()
        await self._relist()
        self._task = asyncio.create_task(self._run(), name="agentregistry-watch")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        self._client = None
        self._heard_at = None
        self.agents.clear()
        self.runtime_agents.clear()

    def include_heartbeats(self) -> None:
        """Also receive AGENT_HEARTBEAT events (restarts the stream; resume loses nothing)."""
        if not self._heartbeats:
            self._heartbeats = True
            if self._stream is not None:
                self._stream.cancel()

    async def wait_for(self, revision: int, timeout: float) -> bool:
        """Wait until the view reflects `revision`; False if it did not within `timeout` seconds."""
        assert self._advanced is not None, "start() first"
        async with self._advanced:
            try:
                async with asyncio.timeout(timeout):
                    await self._advanced.wait_for(lambda: self.revision >= revision)
            except TimeoutError:
                return False
        return True

    async def _run(self) -> None:
        relist, echo = False, True
        while True:
            try:
                if relist:
                    await self._relist()
                    relist, echo = False, True
                self._stream = asyncio.create_task(self._follow(echo))
                try:
                    await self._stream
                except asyncio.CancelledError:
                    if self._task is not None and self._task.cancelling():
                        raise
                    continue  # restarted on purpose (include_heartbeats)
                raise RegistryError("the daemon ended the event stream")
            except _NewHistory:
                log.warning("registryd's revisions restarted (a restart without persistence?); re-listing")
                relist = True
            except RevisionCompactedError as error:
                if echo and self._last_event is None:
                    echo = False  # the listed revision itself is not retained; the list is current
                else:
                    log.warning("events after revision %d are gone (%s); re-listing", self.revision, error)
                    relist = True
            except SubscriberOverflowError:
                log.warning("event stream fell behind; resuming from revision %d", self.revision)
            except RegistryError as error:
                self._lost(error)
                await self.client.pause(self._backoff.next_delay())
            except Exception:  # a bug must not silently end the view; say so loudly and carry on
                delay = self._backoff.next_delay()
                log.exception("event watch failed; resuming in %.2f s", delay)
                await asyncio.sleep(delay)

    def _lost(self, error: RegistryError) -> None:
        if self._lost_at is None:
            self._lost_at = time.monotonic()
            log.warning(
                "event stream lost (%s); resuming from revision %d when possible", error, self.revision
            )
        else:
            log.debug("event stream still unavailable (%s)", error)

    def _resumed(self) -> None:
        if self._lost_at is not None:
            log.warning(
                "event stream resumed at revision %d after %.1f s",
                self.revision,
                time.monotonic() - self._lost_at,
            )
            self._lost_at = None

    async def _follow(self, echo: bool) -> None:
        """One Subscribe stream. With `echo`, ask for the last revision seen again and check it."""
        echo = echo and self.revision > 0
        if echo and (await self.client.get_stats()).revision < self.revision:
            raise _NewHistory  # the quick check; the echo below catches a daemon that already got ahead
        from_revision = self.revision if echo else self.revision + 1
        # What the echo must match: the event seen at that revision (None when the revision came from
        # a list, so any event there will do).
        last = self._last_event
        compare = last if last is not None and last[0] == self.revision else None
        # Empty: every type but AGENT_HEARTBEAT.
        types: Iterable[RegistryEventType] = RegistryEventType.daemon_types() if self._heartbeats else ()
        first = True
        async for item in self.client.subscribe(
            types, from_revision=from_revision, idle_timeout=self._idle_timeout, heartbeat_digests=True
        ):
            self._heard_at = time.monotonic()
            if first:  # the daemon always starts with a bookmark
                first = False
                self._resumed()
                continue
            if isinstance(item, HeartbeatDigest):
                self._apply_digest(item)
                continue
            if echo:
                echo = False
                is_echo = isinstance(item, RegistryEvent) and item.revision == self.revision
                if not is_echo or (compare is not None and _fingerprint(item) != compare):
                    raise _NewHistory
                continue
            self._backoff.reset()
            if isinstance(item, Bookmark):
                await self._advance(item.revision)
            else:
                await self._handle(item)

    async def _handle(self, event: RegistryEvent) -> None:
        if event.revision == 0:  # an ephemeral AGENT_HEARTBEAT
            if event.agent is not None and event.agent_id in self.agents:
                self.put(event.agent)
            self._on_event(event)
            return
        if event.revision <= self.revision:
            return  # already delivered
        self._apply(event)
        self._last_event = _fingerprint(event)
        await self._advance(event.revision)
        self._on_event(event)

    def _apply_digest(self, digest: HeartbeatDigest) -> None:
        for agent_id, beat in digest.beats.items():
            agent = self.agents.get(agent_id)
            if agent is not None and beat > agent.last_heartbeat:
                self.agents[agent_id] = replace(agent, last_heartbeat=beat)

    def _apply(self, event: RegistryEvent) -> None:
        agent = event.agent
        if agent is None:
            return  # runtime events: runtime_agents follows the agents
        current = self.agents.get(agent.agent_id)
        if current is not None and current.revision >= event.revision:
            return  # the list already showed a later state
        if event.event_type is RegistryEventType.AGENT_DEREGISTERED:
            self.drop(agent.agent_id)
        else:
            self.put(agent)

    def put(self, agent: AgentMetadata) -> None:
        previous = self.agents.get(agent.agent_id)
        if previous is not None and previous.runtime_id != agent.runtime_id:
            self.drop(agent.agent_id)
        self.agents[agent.agent_id] = self._localize(agent)
        self.runtime_agents.setdefault(agent.runtime_id, set()).add(agent.agent_id)

    def drop(self, agent_id: str) -> None:
        agent = self.agents.pop(agent_id, None)
        if agent is None:
            return
        ids = self.runtime_agents.get(agent.runtime_id)
        if ids is not None:
            ids.discard(agent_id)
            if not ids:
                del self.runtime_agents[agent.runtime_id]

    async def _relist(self) -> None:
        page = await self.client.list_all_agents()
        self.agents.clear()
        self.runtime_agents.clear()
        for agent in page.agents:
            self.put(agent)
        self.revision = page.revision
        self._heard_at = time.monotonic()
        self._last_event = None
        self.relists += 1
        await self._notify()

    async def _advance(self, revision: int) -> None:
        if revision > self.revision:
            self.revision = revision
            await self._notify()

    async def _notify(self) -> None:
        assert self._advanced is not None
        async with self._advanced:
            self._advanced.notify_all()
