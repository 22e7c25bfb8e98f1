"""`AgentRegistry`: the original in-process registry's API, served by registryd.

Switching from the in-process registry means changing the import and passing the daemon's address:

    async with AgentRegistry(AgentRegistryConfig(target="127.0.0.1:50051")) as registry:
        agent_id = await registry.register_agent(agent, runtime_id="runtime_1")
        agents = await registry.find_agents_by_capability("code generation")

Behind the API, one heartbeat stream per runtime keeps this client's agents alive, and a watch keeps
the local view (`agents`/`runtime_agents`) current and feeds `subscribe()` callbacks; both heal
themselves after a lost connection or a daemon restart (see `agentregistry.heartbeat` and
`agentregistry.watch`). The watch, a copy of the whole registry, runs only for a client that uses it:
one that reads the view, subscribes, finds agents locally, or asks for it (`local_view=True`,
`load_view()`). A worker that only registers and beats holds no copy and no Subscribe stream.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

from agentregistry.backoff import Backoff
from agentregistry.client import RegistryClient
from agentregistry.dispatch import Callback, EventDispatcher
from agentregistry.heartbeat import RuntimeHeartbeat
from agentregistry.matching import rank_local
from agentregistry.types import (
    AgentAlreadyExistsError,
    AgentCard,
    AgentMetadata,
    AgentNotFoundError,
    AgentRegistryConfig,
    AgentStatus,
    LoadReport,
    NoAgentAvailableError,
    Outcome,
    RegistryEvent,
    RegistryEventType,
    RemoteAgent,
    Reservation,
    ReservationNotFoundError,
    SelectionStrategy,
)
from agentregistry.watch import RegistryWatch
from registryd.core.filters import AgentFilter

log = logging.getLogger("agentregistry")

StatusFilter = AgentStatus | Iterable[AgentStatus] | None

# Re-registrations after a daemon restart: enough in flight to be quick, few enough not to stampede.
_REREGISTER_IN_FLIGHT = 32

# The channel's own reconnect backoff cap. Connection attempts are cheap, and a restarted daemon must be
# found within a second; the streams' backoff (reconnect_max_backoff) is what spares a struggling daemon.
_CHANNEL_RECONNECT_CAP = 0.5

_SELF_REPORTABLE = (AgentStatus.ACTIVE, AgentStatus.DEGRADED)


@dataclass(frozen=True)
class _OwnAgent:
    """An agent registered through this client: what it takes to register it again."""

    runtime_id: str
    card: AgentCard
    obj: Any


def card_of(agent: Any) -> AgentCard:
    """The card of whatever `register_agent` was given: an AgentCard, a dict card, a card object with
    `to_dict()` or `model_dump()` (an A2A or pydantic card), or an object with an `_a2a_card` or
    `a2a_card` attribute holding any of those."""
    if isinstance(agent, AgentCard):
        return agent
    if isinstance(agent, Mapping):
        return AgentCard.from_dict(agent)
    for attribute in ("_a2a_card", "a2a_card"):
        card = getattr(agent, attribute, None)
        if card is not None:
            return card_of(card)
    for method in ("model_dump", "to_dict"):
        if callable(getattr(agent, method, None)):
            data = getattr(agent, method)()
            if isinstance(data, Mapping):
                return AgentCard.from_dict(data)
    raise TypeError(
        "register_agent needs an AgentCard, a dict card, a card object with to_dict() or model_dump(), or "
        f"an object with an `_a2a_card` or `a2a_card` attribute holding one (got {type(agent).__name__})"
    )


def _statuses(status_filter: StatusFilter) -> tuple[AgentStatus, ...]:
    """None means every status."""
    if status_filter is None:
        return AgentStatus.known()
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
        self._view_loading: asyncio.Task[None] | None = None

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
        """Connect (and load the local view when `local_view` is set or callbacks are subscribed).
        Raises RegistryUnavailableError when the daemon cannot be reached within `rpc_timeout`."""
        if self._client is not None:
            return
        client = RegistryClient(
            self.config.target,
            root_certificates=self.config.root_certificates,
            client_certificate=self.config.client_certificate,
            client_key=self.config.client_key,
            token=self.config.token,
            timeout=self.config.rpc_timeout,
            max_reconnect_backoff=min(_CHANNEL_RECONNECT_CAP, self.config.reconnect_max_backoff),
            # A call during a daemon restart waits for it, up to rpc_timeout (unless fail_fast).
            wait_for_ready=not self.config.fail_fast,
            load_balancing=self.config.load_balancing,
        )
        try:
            await client.wait_ready(self.config.rpc_timeout)
        except BaseException:
            await client.close()
            raise
        self._client = client
        if self.config.local_view or self._dispatcher.listening:
            try:
                await self.load_view()
            except BaseException:
                await self.shutdown()
                raise

    async def load_view(self) -> None:
        """Load the local view now (if not loaded yet) and keep it current from then on."""
        if self._view_loading is None:
            self._view_loading = asyncio.ensure_future(self._start_watch(self.client))
        await asyncio.shield(self._view_loading)

    async def _start_watch(self, client: RegistryClient) -> None:
        try:
            await self._watch.start(client)
        except BaseException:
            self._view_loading = None  # the next read tries again
            raise
        if self._dispatcher.wants(RegistryEventType.AGENT_HEARTBEAT):
            self._watch.include_heartbeats()

    def _want_view(self) -> None:
        """The view is used: load it in the background if nobody has yet."""
        if self._view_loading is None and self._client is not None:
            with contextlib.suppress(RuntimeError):  # read outside the event loop: nothing to start
                asyncio.get_running_loop()
                self._view_loading = asyncio.ensure_future(self._start_watch(self._client))
                self._view_loading.add_done_callback(_log_failure)

    async def shutdown(self) -> None:
        """Stop heartbeats (by closing the streams: agents not deregistered turn OFFLINE and expire
        after their auto-deregister timeout), stop events, close the connection, clear the view."""
        await asyncio.gather(*(heartbeat.stop() for heartbeat in self._heartbeats.values()))
        if self._view_loading is not None:
            self._view_loading.cancel()
            with contextlib.suppress(BaseException):
                await self._view_loading
            self._view_loading = None
        await self._watch.stop()
        await self._dispatcher.close()
        if self._client is not None:
            await self._client.close()
            self._client = None
        self._heartbeats.clear()
        self._own.clear()

    async def __aenter__(self) -> AgentRegistry:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.shutdown()

    # ----------------------------------------------------------------------------------- local view

    # The view is a mirror of the daemon: as fresh as the last event, digest or bookmark it received
    # (`view_staleness`): about a second while connected; while the daemon is away it stays as it was,
    # so agents that die meanwhile still look alive in it until it resumes.

    @property
    def agents(self) -> dict[str, AgentMetadata]:
        """Every agent, kept current by events, `last_heartbeat` included (read-only by convention:
        writes do not reach the daemon). Until the view is loaded it holds the agents registered
        through this client; the first read loads it in the background: await `load_view()` (or set
        `local_view=True`) to read a complete one at once."""
        self._want_view()
        return self._watch.agents

    @property
    def runtime_agents(self) -> dict[str, set[str]]:
        """Runtime id -> ids of its agents, kept current by events (an unknown runtime: an empty set)."""
        self._want_view()
        return self._watch.runtime_agents

    @property
    def revision(self) -> int:
        """The registry revision the local view reflects."""
        self._want_view()
        return self._watch.revision

    @property
    def view_staleness(self) -> float | None:
        """Seconds since the local view last heard from the daemon (None: the view is not loaded)."""
        return self._watch.staleness()

    def _localize(self, agent: AgentMetadata) -> AgentMetadata:
        own = self._own.get(agent.agent_id)
        if own is None or own.runtime_id != agent.runtime_id:
            return replace(agent, agent=RemoteAgent(agent.agent_id, agent.card))
        return replace(agent, agent=own.obj)

    async def _caught_up(self, revision: int) -> None:
        """Read-your-writes for the local view (when there is one): wait until it reflects `revision`."""
        if self._view_loading is None:
            return
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
            result = await self.client.register_agent(runtime_id, card, agent_id, self.config.liveness)
        except Exception:
            if previous is None:
                self._own.pop(agent_id, None)
            else:
                self._own[agent_id] = previous
            raise
        agent_id = result.agent.agent_id
        self._adopt(agent_id, own)
        if self._view_loading is None:  # no mirror: the view still shows this client's own agents
            self._watch.put(result.agent)
        await self._caught_up(result.revision)
        view = self._watch.agents.get(agent_id)
        if view is not None:  # a generated id: the event may have arrived before the answer
            self._watch.agents[agent_id] = self._localize(view)
        return agent_id

    def _adopt(self, agent_id: str, own: _OwnAgent) -> None:
        """From now on this client keeps the agent alive and registers it again when needed."""
        self._own[agent_id] = own
        if self.config.enable_heartbeat_monitoring:
            self._heartbeat_for(own.runtime_id).add(agent_id)

    def _heartbeat_for(self, runtime_id: str) -> RuntimeHeartbeat:
        heartbeat = self._heartbeats.get(runtime_id)
        if heartbeat is None:
            heartbeat = RuntimeHeartbeat(self.client, runtime_id, self.config, self._reregister, self._lost)
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
                await self.client.register_agent(own.runtime_id, own.card, agent_id, self.config.liveness)
            except AgentAlreadyExistsError:
                self._lost(own.runtime_id, [agent_id])
                return None
            return agent_id

        registered: list[str] = []
        for start in range(0, len(agent_ids), _REREGISTER_IN_FLIGHT):
            batch = agent_ids[start : start + _REREGISTER_IN_FLIGHT]
            registered.extend(a for a in await asyncio.gather(*map(one, batch)) if a is not None)
        return registered

    def _lost(self, runtime_id: str, agent_ids: Sequence[str]) -> None:
        """Agents of this client that another runtime has taken (they expired while this client was cut
        off): stop keeping them alive, say so once, and tell AGENT_LOST subscribers."""
        log.error(
            "runtime %s lost %d agent(s) to another runtime while cut off (they had expired): %s",
            runtime_id,
            len(agent_ids),
            ", ".join(agent_ids),
        )
        now = datetime.now(UTC)
        for agent_id in agent_ids:
            self._forget(agent_id)
            self._deliver(
                RegistryEvent(
                    RegistryEventType.AGENT_LOST,
                    agent_id,
                    runtime_id,
                    now,
                    0,
                    {"reason": "taken_by_another_runtime"},
                )
            )

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
        if self._view_loading is None:
            self._watch.drop(agent_id)
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
        self,
        capability: str,
        status_filter: StatusFilter = AgentStatus.ACTIVE,
        limit: int = 0,
        *,
        local: bool = False,
    ) -> list[AgentMetadata]:
        """Agents whose capabilities, skill names or skill tags (then, ranked below, descriptions and
        skill examples) match `capability` as words or a substring, best match first (exact, then whole
        word, then substring; see the README). `status_filter` defaults to ACTIVE;
        None means every status. `limit` 0 means the daemon's maximum answer (1000).

        With `local`, the answer comes from the local view by the daemon's own rules, with no call: a
        router keeps routing while the daemon restarts. It is as stale as the view (`view_staleness`):
        about a second while connected, and frozen while the daemon is away."""
        if local:
            await self.load_view()
            statuses = frozenset(_statuses(status_filter))
            candidates = (a for a in self._watch.agents.values() if a.status in statuses)
            return rank_local(capability, candidates, limit or 1000)
        result = await self.client.find_agents(capability, _statuses(status_filter), limit or 1000)
        return [self._localize(m.agent) for m in result.matches]

    async def select_agent(
        self,
        capability: str,
        strategy: SelectionStrategy = SelectionStrategy.P2C,
        *,
        affinity_key: str = "",
        exclude: Iterable[str] = (),
        exclude_runtimes: Iterable[str] = (),
        allow_degraded: bool = False,
        wait: float = 0.0,
        filter: AgentFilter | None = None,
    ) -> AgentMetadata | None:
        """One ACTIVE agent for a task among those `find_agents_by_capability(capability)` would
        answer, chosen by the daemon by load (the less loaded of two at random by default; see
        SelectionStrategy); never one that is draining or at its max concurrency. DEGRADED agents only
        with `allow_degraded`, and only when no ACTIVE agent fits. When none fits, the daemon holds the
        call up to `wait` seconds (at most 30) for one that does, first come first served. None when none
        fits by then. `filter` narrows the candidates as FindAgents' does. To count the task against the agent at
        once, use `reserve_agent`."""
        selection = await self.client.select_agent(
            capability,
            strategy,
            affinity_key=affinity_key,
            exclude_agent_ids=exclude,
            exclude_runtime_ids=exclude_runtimes,
            allow_degraded=allow_degraded,
            wait=wait,
            filter=filter,
        )
        return None if selection.agent is None else self._localize(selection.agent)

    @contextlib.asynccontextmanager
    async def reserve_agent(
        self,
        capability: str,
        strategy: SelectionStrategy = SelectionStrategy.P2C,
        *,
        affinity_key: str = "",
        exclude: Iterable[str] = (),
        exclude_runtimes: Iterable[str] = (),
        allow_degraded: bool = False,
        ttl: float | None = None,
        wait: float = 0.0,
        filter: AgentFilter | None = None,
    ) -> AsyncIterator[AgentMetadata]:
        """`async with registry.reserve_agent("code generation") as agent:` selects an agent as
        `select_agent` does (waiting up to `wait` seconds for one that fits) and reserves it: it counts
        one more task at once, so other routers see it busy before its next load report. Leaving the block
        releases it with the outcome: OK, TIMEOUT for a TimeoutError, ERROR for any other exception (both
        raise the agent's error rate, which lowers its share); a cancelled block releases it without an
        outcome. While the block runs the reservation is renewed every third of its `ttl` (seconds,
        default 60), so a long task keeps it and a router that dies loses it within `ttl`.
        NoAgentAvailableError when none fits."""
        selection = await self.client.select_agent(
            capability,
            strategy,
            affinity_key=affinity_key,
            exclude_agent_ids=exclude,
            exclude_runtime_ids=exclude_runtimes,
            allow_degraded=allow_degraded,
            reserve=True,
            reservation_ttl=ttl,
            wait=wait,
            filter=filter,
        )
        if selection.agent is None or selection.reservation is None:
            raise NoAgentAvailableError(selection.reason)
        outcome: Outcome | None = Outcome.OK
        renewing = asyncio.create_task(self._keep_reserved(selection.reservation))
        try:
            yield self._localize(selection.agent)
        except TimeoutError:
            outcome = Outcome.TIMEOUT
            raise
        except Exception:
            outcome = Outcome.ERROR
            raise
        except BaseException:
            outcome = None
            raise
        finally:
            renewing.cancel()
            try:
                await asyncio.shield(
                    self.client.release_reservation(selection.reservation.reservation_id, outcome)
                )
            except Exception as error:  # expired meanwhile, or the daemon is away: its TTL ends it
                log.warning(
                    "could not release reservation %s: %s", selection.reservation.reservation_id, error
                )

    async def _keep_reserved(self, reservation: Reservation) -> None:
        while True:
            await asyncio.sleep(reservation.ttl / 3)
            try:
                await self.client.renew_reservation(reservation.reservation_id)
            except Exception as error:  # expired (the loop stalled past its TTL) or the daemon is away
                log.warning("could not renew reservation %s: %s", reservation.reservation_id, error)
                if isinstance(error, ReservationNotFoundError):
                    return

    async def find_agents_by_runtime(self, runtime_id: str) -> list[AgentMetadata]:
        return await self.list_agents(runtime_id=runtime_id)

    async def find_agents_by_status(self, status: AgentStatus) -> list[AgentMetadata]:
        return await self.list_agents(status_filter=status)

    # --------------------------------------------------------------------------------------- status

    async def update_agent_status(
        self, agent_id: str, status: AgentStatus, runtime_id: str | None = None
    ) -> bool:
        """Change an agent's status; False when the agent is unknown.

        ACTIVE or DEGRADED for an agent registered through this client is the worker speaking for itself:
        a self-report (see `report_status`). Anything else is an operator setting, sticky until an
        operator sets ACTIVE again (which clears it); setting what is already set emits no event."""
        own = self._own.get(agent_id)
        if (
            own is not None
            and runtime_id in (None, own.runtime_id)
            and AgentStatus(status) in _SELF_REPORTABLE
        ):
            await self.report_status(agent_id, status)
            return True
        try:
            result = await self.client.update_agent_status(agent_id, status, runtime_id or "")
        except AgentNotFoundError:
            return False
        await self._caught_up(result.revision)
        return True

    async def report_status(self, agent_id: str, status: AgentStatus) -> None:
        """Report DEGRADED (serving, but worse) or ACTIVE again for an agent registered through this
        client. It rides on the runtime's heartbeat stream and becomes the agent's health (reason
        SELF_REPORTED); it is not sticky: the next report changes it, and liveness (a lost stream, a
        timeout) and an operator's setting win when worse. Kept across reconnects."""
        status = AgentStatus(status)
        if status not in _SELF_REPORTABLE:
            raise ValueError(f"an agent can report itself active or degraded, not {status.value}")
        own = self._own.get(agent_id)
        if own is None:
            raise ValueError(
                f"agent {agent_id} was not registered through this client; it cannot self-report"
            )
        if self.config.enable_heartbeat_monitoring and await self._heartbeat_for(own.runtime_id).report(
            agent_id, status
        ):
            return
        # No stream carried it now: a unary heartbeat does, so the report holds when this returns.
        await self.client.heartbeat(own.runtime_id, [agent_id], status, self.config.liveness)

    async def report_load(
        self,
        agent_id: str,
        *,
        in_flight: int,
        max_concurrency: int = 0,
        queue_depth: int = 0,
        accepting: bool = True,
        utilization: float | None = None,
        latency_ewma: float | None = None,
    ) -> None:
        """Report the load of an agent registered through this client: tasks in flight, how many it
        takes at once (0: no limit), tasks queued, whether it takes new work (False while draining), and
        optionally its utilization (0..1) and latency moving average (seconds). Sent on the runtime's
        heartbeat stream now and with every beat after, until the next report; SelectAgent never picks
        the agent while it is at `max_concurrency` or not accepting."""
        own = self._own.get(agent_id)
        if own is None:
            raise ValueError(
                f"agent {agent_id} was not registered through this client; it cannot report load"
            )
        load = LoadReport(in_flight, max_concurrency, queue_depth, accepting, utilization, latency_ewma)
        if self.config.enable_heartbeat_monitoring:
            await self._heartbeat_for(own.runtime_id).report_load(agent_id, load)
        else:
            await self.client.heartbeat(own.runtime_id, [agent_id], loads=[((agent_id,), load)])

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
        liveness = self.config.liveness if own is not None else None
        ack = await self.client.heartbeat(runtime_id, [agent_id], liveness=liveness)
        return agent_id not in ack.unknown_agent_ids and agent_id not in ack.refused_agent_ids

    # --------------------------------------------------------------------------------------- events

    def subscribe(self, event_type: RegistryEventType, callback: Callback) -> None:
        """Call `callback(event)` for every event of `event_type` (sync or async callable). Each
        callback runs apart from the others and from heartbeats; one that raises is logged; one that
        falls `event_queue_size` events behind loses its oldest events, nothing else waits for it.
        AGENT_LOST is this client's own: an agent it kept alive was taken by another runtime.

        The first subscription loads the local view in the background (unless `local_view` loaded it at
        start()); events are delivered from the moment that load lists the registry, a few milliseconds
        later. Await `load_view()` after subscribing, or set `local_view`, to be sure of every event from
        then on."""
        self._dispatcher.subscribe(event_type, callback)
        if RegistryEventType(event_type) is RegistryEventType.AGENT_LOST:
            return  # made here, not by the daemon's event stream
        self._want_view()
        if RegistryEventType(event_type) is RegistryEventType.AGENT_HEARTBEAT and self._client is not None:
            self._watch.include_heartbeats()

    def unsubscribe(self, event_type: RegistryEventType, callback: Callback) -> None:
        self._dispatcher.unsubscribe(event_type, callback)

    def _deliver(self, event: RegistryEvent) -> None:
        # Every event of the watch passes here: copy it (to attach the local agent) only for a listener.
        if not self.config.enable_event_broadcasting or not self._dispatcher.wants(event.event_type):
            return
        if event.agent is not None:
            event = replace(event, agent=self._localize(event.agent))
        self._dispatcher.deliver(event)

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


def _log_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.warning("could not load the local view (%s); the next read tries again", task.exception())
