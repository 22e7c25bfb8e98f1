"""`AgentRegistry`: the original in-process registry's API, served by registryd.

Switching from the in-process registry means changing the import and passing the daemon's address:

    async with AgentRegistry(AgentRegistryConfig(target="127.0.0.1:50051")) as registry:
        agent_id = await registry.register_agent(agent, runtime_id="runtime_1")
        agents = await registry.find_agents_by_capability("code generation")

Behind the API, one heartbeat stream per runtime keeps this client's agents alive, and a watch keeps
`agents`/`runtime_agents` current and feeds `subscribe()` callbacks; both heal themselves after a lost
connection or a daemon restart (see `agentregistry.heartbeat` and `agentregistry.watch`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from types import TracebackType
from typing import Any

from agentregistry.backoff import Backoff
from agentregistry.client import RegistryClient
from agentregistry.dispatch import Callback, EventDispatcher
from agentregistry.heartbeat import RuntimeHeartbeat
from agentregistry.types import (
    AgentAlreadyExistsError,
    AgentCard,
    AgentMetadata,
    AgentNotFoundError,
    AgentRegistryConfig,
    AgentStatus,
    RegistryEvent,
    RegistryEventType,
)
from agentregistry.watch import RegistryWatch

log = logging.getLogger("agentregistry")

StatusFilter = AgentStatus | Iterable[AgentStatus] | None

# Re-registrations after a daemon restart: enough in flight to be quick, few enough not to stampede.
_REREGISTER_IN_FLIGHT = 32


@dataclass(frozen=True)
class _OwnAgent:
    """An agent registered through this client: what it takes to register it again."""

    runtime_id: str
    card: AgentCard
    obj: Any


def card_of(agent: Any) -> AgentCard:
    """The card of whatever `register_agent` was given: an AgentCard, a dict card, or an object with an
    `_a2a_card` or `a2a_card` attribute holding either."""
    if isinstance(agent, AgentCard):
        return agent
    if isinstance(agent, Mapping):
        return AgentCard.from_dict(agent)
    for attribute in ("_a2a_card", "a2a_card"):
        card = getattr(agent, attribute, None)
        if card is not None:
            return card_of(card)
    raise TypeError(
        "register_agent needs an AgentCard, a dict card, or an object with an `_a2a_card` or `a2a_card` "
        f"attribute (got {type(agent).__name__} without one)"
    )


def _statuses(status_filter: StatusFilter) -> tuple[AgentStatus, ...]:
    """None means every status."""
    if status_filter is None:
        return tuple(AgentStatus)
    if isinstance(status_filter, AgentStatus):
        return (status_filter,)
    return tuple(AgentStatus(s) for s in status_filter)


class AgentRegistry:
    def __init__(self, config: AgentRegistryConfig | None = None) -> None:
        self.config = config or AgentRegistryConfig()
        self._client: RegistryClient | None = None  # made by start(), on the loop that will use it
        self._own: dict[str, _OwnAgent] = {}
        self._heartbeats: dict[str, RuntimeHeartbeat] = {}
        self._dispatcher = EventDispatcher(self.config.event_queue_size)
        self._watch = RegistryWatch(
            self._backoff(), self.config.event_stream_idle_timeout, self._deliver, self._localize
        )

    @property
    def client(self) -> RegistryClient:
        """The low-level client this registry uses (between start() and shutdown())."""
        if self._client is None:
            raise RuntimeError("AgentRegistry is not started: call `await registry.start()` first")
        return self._client

    def _backoff(self) -> Backoff:
        return Backoff(self.config.reconnect_initial_backoff, self.config.reconnect_max_backoff)

    # ------------------------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Connect, load the local view, and start following events. Raises RegistryUnavailableError
        when the daemon cannot be reached within `rpc_timeout`."""
        if self._client is not None:
            return
        client = RegistryClient(
            self.config.target,
            root_certificates=self.config.root_certificates,
            client_certificate=self.config.client_certificate,
            client_key=self.config.client_key,
            token=self.config.token,
            timeout=self.config.rpc_timeout,
            max_reconnect_backoff=self.config.reconnect_max_backoff,
            wait_for_ready=True,  # a call during a daemon restart waits for it, up to rpc_timeout
        )
        try:
            await client.wait_ready(self.config.rpc_timeout)
            await self._watch.start(client)
        except BaseException:
            await client.close()
            raise
        self._client = client
        if self._dispatcher.wants(RegistryEventType.AGENT_HEARTBEAT):
            self._watch.include_heartbeats()

    async def shutdown(self) -> None:
        """Stop heartbeats (by closing the streams: agents not deregistered turn OFFLINE and expire
        after the daemon's auto-deregister timeout), stop events, close the connection, clear the view."""
        await asyncio.gather(*(heartbeat.stop() for heartbeat in self._heartbeats.values()))
        await self._watch.stop()
        await self._dispatcher.close()
        if self._client is not None:
            await self._client.close()
            self._client = None
        self._heartbeats.clear()
        self._own.clear()
        self._watch.agents.clear()
        self._watch.runtime_agents.clear()

    async def __aenter__(self) -> AgentRegistry:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.shutdown()

    # ----------------------------------------------------------------------------------- local view

    @property
    def agents(self) -> dict[str, AgentMetadata]:
        """Every agent, kept current by events (read-only by convention: writes do not reach the daemon)."""
        return self._watch.agents

    @property
    def runtime_agents(self) -> dict[str, set[str]]:
        """Runtime id -> ids of its agents, kept current by events."""
        return self._watch.runtime_agents

    @property
    def revision(self) -> int:
        """The registry revision the local view reflects."""
        return self._watch.revision

    def _localize(self, agent: AgentMetadata) -> AgentMetadata:
        own = self._own.get(agent.agent_id)
        if own is None or own.runtime_id != agent.runtime_id:
            return agent
        return replace(agent, agent=own.obj)

    async def _caught_up(self, revision: int) -> None:
        """Read-your-writes for the local view: wait until it reflects `revision`."""
        if not await self._watch.wait_for(revision, self.config.rpc_timeout):
            log.warning("local view still behind revision %d after %.1f s", revision, self.config.rpc_timeout)

    # --------------------------------------------------------------------------------- registration

    async def register_agent(self, agent: Any, runtime_id: str, agent_id: str | None = None) -> str:
        """Register `agent` for `runtime_id` and keep it alive; returns its id.

        `agent` is an AgentCard, a dict card (`capability` or `capabilities`, `name`, `description`,
        `skills`, ...), or an object with an `_a2a_card`/`a2a_card` attribute. The id is `agent_id`, else
        the object's `agent_id` attribute, else one the daemon makes. Registering an id again from the
        same runtime replaces its card; an id owned by another runtime raises AgentAlreadyExistsError.
        """
        card = card_of(agent)
        agent_id = agent_id or getattr(agent, "agent_id", None) or ""
        own = _OwnAgent(runtime_id, card, agent)
        previous = self._own.get(agent_id)
        if agent_id:  # known before the call, so its events already carry the local object
            self._own[agent_id] = own
        try:
            result = await self.client.register_agent(runtime_id, card, agent_id)
        except Exception:
            if previous is None:
                self._own.pop(agent_id, None)
            else:
                self._own[agent_id] = previous
            raise
        agent_id = result.agent.agent_id
        self._adopt(agent_id, own)
        await self._caught_up(result.revision)
        view = self.agents.get(agent_id)
        if view is not None:  # a generated id: the event may have arrived before the answer
            self.agents[agent_id] = self._localize(view)
        return agent_id

    def _adopt(self, agent_id: str, own: _OwnAgent) -> None:
        """From now on this client keeps the agent alive and registers it again when needed."""
        self._own[agent_id] = own
        if self.config.enable_heartbeat_monitoring:
            self._heartbeat_for(own.runtime_id).add(agent_id)

    def _heartbeat_for(self, runtime_id: str) -> RuntimeHeartbeat:
        heartbeat = self._heartbeats.get(runtime_id)
        if heartbeat is None:
            heartbeat = RuntimeHeartbeat(
                self.client, runtime_id, self.config.beat_interval, self._backoff(), self._reregister
            )
            self._heartbeats[runtime_id] = heartbeat
        return heartbeat

    async def _reregister(self, agent_ids: Sequence[str]) -> list[str]:
        """Register again agents the daemon forgot (a few dozen calls in flight); returns those it took
        back."""

        async def one(agent_id: str) -> str | None:
            own = self._own.get(agent_id)
            if own is None:
                return None
            try:
                await self.client.register_agent(own.runtime_id, own.card, agent_id)
            except AgentAlreadyExistsError:
                log.error("agent %s was taken by another runtime while this client was away", agent_id)
                self._forget(agent_id)
                return None
            return agent_id

        registered: list[str] = []
        for start in range(0, len(agent_ids), _REREGISTER_IN_FLIGHT):
            batch = agent_ids[start : start + _REREGISTER_IN_FLIGHT]
            registered.extend(a for a in await asyncio.gather(*map(one, batch)) if a is not None)
        return registered

    def _forget(self, agent_id: str) -> None:
        own = self._own.pop(agent_id, None)
        if own is not None and own.runtime_id in self._heartbeats:
            self._heartbeats[own.runtime_id].discard(agent_id)

    async def deregister_agent(self, agent_id: str, runtime_id: str | None = None) -> bool:
        """Remove an agent; False when the daemon does not know it. When `runtime_id` is given it must
        own the agent (PermissionDeniedError otherwise)."""
        own = self._own.get(agent_id)
        mine = own is not None and runtime_id in (None, own.runtime_id)
        if mine:
            self._forget(agent_id)  # first, so the heartbeat does not register it again
        try:
            result = await self.client.deregister_agent(agent_id, runtime_id or "")
        except AgentNotFoundError:
            return False
        except Exception:
            if mine and own is not None:  # still registered: keep it alive
                self._adopt(agent_id, own)
            raise
        await self._caught_up(result.revision)
        return True

    # ------------------------------------------------------------------------------------ discovery

    async def get_agent(self, agent_id: str) -> AgentMetadata | None:
        """The agent as the daemon knows it now, or None."""
        try:
            return self._localize(await self.client.get_agent(agent_id))
        except AgentNotFoundError:
            return None

    async def list_agents(
        self, runtime_id: str | None = None, status_filter: StatusFilter = None
    ) -> list[AgentMetadata]:
        """Agents ordered by id, optionally of one runtime and with given statuses (None: every status)."""
        page = await self.client.list_all_agents(runtime_id or "", _statuses(status_filter))
        return [self._localize(a) for a in page.agents]

    async def find_agents_by_capability(
        self, capability: str, status_filter: StatusFilter = AgentStatus.ACTIVE, limit: int = 0
    ) -> list[AgentMetadata]:
        """Agents whose capabilities, skill names or skill tags contain `capability` (case-insensitive),
        best match first (exact, then whole word, then substring). `status_filter` defaults to ACTIVE;
        None means every status. `limit` 0 means the daemon's maximum answer."""
        result = await self.client.find_agents(capability, _statuses(status_filter), limit or 1000)
        return [self._localize(m.agent) for m in result.matches]

    async def find_agents_by_runtime(self, runtime_id: str) -> list[AgentMetadata]:
        return await self.list_agents(runtime_id=runtime_id)

    async def find_agents_by_status(self, status: AgentStatus) -> list[AgentMetadata]:
        return await self.list_agents(status_filter=status)

    # --------------------------------------------------------------------------------------- status

    async def update_agent_status(
        self, agent_id: str, status: AgentStatus, runtime_id: str | None = None
    ) -> bool:
        """Set an operator status (heartbeats do not override it until ACTIVE is set again); False when
        the agent is unknown. Setting the current status again emits no event."""
        try:
            result = await self.client.update_agent_status(agent_id, status, runtime_id or "")
        except AgentNotFoundError:
            return False
        await self._caught_up(result.revision)
        return True

    async def update_agent_heartbeat(self, agent_id: str) -> bool:
        """Beat one agent now (the heartbeat stream already beats this client's agents); False when the
        agent is unknown."""
        own = self._own.get(agent_id)
        if own is not None:
            runtime_id = own.runtime_id
        else:
            known = self.agents.get(agent_id) or await self.get_agent(agent_id)
            if known is None:
                return False
            runtime_id = known.runtime_id
        ack = await self.client.heartbeat(runtime_id, [agent_id])
        return agent_id not in ack.unknown_agent_ids

    # --------------------------------------------------------------------------------------- events

    def subscribe(self, event_type: RegistryEventType, callback: Callback) -> None:
        """Call `callback(event)` for every event of `event_type` (sync or async callable). Each
        callback runs apart from the others and from heartbeats; one that raises is logged."""
        self._dispatcher.subscribe(event_type, callback)
        if RegistryEventType(event_type) is RegistryEventType.AGENT_HEARTBEAT and self._client is not None:
            self._watch.include_heartbeats()

    def unsubscribe(self, event_type: RegistryEventType, callback: Callback) -> None:
        self._dispatcher.unsubscribe(event_type, callback)

    async def _deliver(self, event: RegistryEvent) -> None:
        # Every event of the watch passes here: copy it (to attach the local agent) only for a listener.
        if not self.config.enable_event_broadcasting or not self._dispatcher.wants(event.event_type):
            return
        if event.agent is not None:
            event = replace(event, agent=self._localize(event.agent))
        await self._dispatcher.deliver(event)

    # -------------------------------------------------------------------------------------- metrics

    async def get_metrics(self) -> dict[str, Any]:
        """The original's metrics, from the daemon (its counters cover every client since it started)."""
        stats = await self.client.get_stats()
        return {
            "total_agents": stats.total_agents,
            "total_runtimes": stats.total_runtimes,
            "status_distribution": {s.value: n for s, n in stats.status_distribution.items()},
            "runtime_distribution": dict(stats.runtime_distribution),
            "total_queries": stats.total_queries,
            "total_registrations": stats.total_registrations,
            "total_deregistrations": stats.total_deregistrations,
            "capability_index_size": stats.capability_index_size,
        }

    # ---------------------------------------------------------------------------------- diagnostics

    async def wait_heartbeats_connected(self, timeout: float) -> bool:
        """Wait until every runtime of this client has a bound heartbeat stream (tests, examples)."""
        try:
            async with asyncio.timeout(timeout):
                for heartbeat in tuple(self._heartbeats.values()):
                    await heartbeat.connected.wait()
        except TimeoutError:
            return False
        return True
