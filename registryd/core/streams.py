"""A heartbeat stream's state: the runtime it speaks for and the agents bound to it.

The stream's owner (the gRPC servicer) feeds it messages and tells it how the stream ended; the session
turns that into registry changes. Agents bound to a newer stream are no longer this stream's to judge.
A beat of every bound agent goes to the session's pulse (core/liveness.py): one write, not one per agent.
"""

from __future__ import annotations

import enum
import itertools
from collections.abc import Callable, Sequence

from registryd.core.errors import FailedPrecondition, PermissionDenied, ResourceExhausted
from registryd.core.liveness import Pulse
from registryd.core.load import AgentLoadReport
from registryd.core.model import AgentStatus, BeatResult
from registryd.core.registry import Registry
from registryd.core.status import Trigger
from registryd.core.validation import validate_id, validate_ids

_ids = itertools.count(1)


class StreamEnd(enum.Enum):
    LOST = "lost"  # cancel, reset, keepalive failure: bound agents turn UNHEALTHY at once
    CLOSED = "closed"  # the client half-closed without deregistering: bound agents turn OFFLINE
    DRAINED = "drained"  # the server is shutting down: nothing changes


_OUTCOMES = {
    StreamEnd.LOST: Trigger.STREAM_LOST,
    StreamEnd.CLOSED: Trigger.STREAM_CLOSED,
    StreamEnd.DRAINED: None,
}


class HeartbeatSession:
    def __init__(self, registry: Registry, caller: str = "") -> None:
        self.id = next(_ids)
        self._registry = registry
        self.runtime_id = ""
        self.bound: set[str] = set()
        self.pulse = Pulse()  # when this stream last beat every agent it holds
        self._closed = False
        # Set when no bind came within bind_timeout; on_expired lets the owner end the stream.
        self.expired: FailedPrecondition | None = None
        self.on_expired: Callable[[], object] | None = None
        registry.attach_session(self, caller)

    def __hash__(self) -> int:
        return self.id

    async def bind(
        self,
        runtime_id: str,
        agent_ids: list[str],
        heartbeat_timeout: float | None = None,
        auto_deregister_timeout: float | None = None,
    ) -> BeatResult:
        """Bind agents (and, on the first bind, the runtime); binding counts as a beat. Another runtime's
        agents are refused (reported, not bound); the rest is bound."""
        registry = self._registry
        if not self.runtime_id:
            validate_id("bind.runtime_id", runtime_id, registry.limits)
            if not agent_ids:
                agent_ids = registry.agents_of(runtime_id)
        elif runtime_id and validate_id("bind.runtime_id", runtime_id, registry.limits) != self.runtime_id:
            raise PermissionDenied(
                f"this stream is bound to runtime {self.runtime_id!r}; it cannot bind runtime {runtime_id!r}",
                field="bind.runtime_id",
            )
        runtime = runtime_id or self.runtime_id
        validate_ids("bind.agent_ids", agent_ids, registry.limits)
        known, unknown, refused = registry.split_owned(runtime, agent_ids)
        limit = registry.limits.max_agents_per_stream
        if len(self.bound.union(known)) > limit:
            raise ResourceExhausted(
                f"binding {len(known)} more agents would exceed max_agents_per_stream={limit}",
                field="bind.agent_ids",
            )
        registry.settings.terms(
            heartbeat_timeout, auto_deregister_timeout
        )  # refuses nonsense before any change
        first = not self.runtime_id
        if first:
            self.runtime_id = runtime
            registry.hold_runtime(self, runtime)
        if heartbeat_timeout is not None or auto_deregister_timeout is not None:
            registry.request_terms(runtime, heartbeat_timeout, auto_deregister_timeout)
        registry.bind(self, known)
        # Binding beats the stream: a write to its pulse, as any beat of all its agents, not a new record per
        # agent (binding 200k agents took 0.84 s of CPU that way, 0.36 s this way).
        await registry.beat_stream(self, None)
        result = BeatResult((), len(self.bound)).merge(unknown, refused)
        if first:  # acknowledged only once a crash cannot forget that the runtime holds a stream
            await registry.stream_held(runtime)
        return result

    async def beat(
        self, agent_ids: list[str], status: AgentStatus | None, loads: Sequence[AgentLoadReport] = ()
    ) -> BeatResult:
        """Beat agents (every bound one when none are named), with their load reports."""
        self._require_bound()
        registry = self._registry
        validate_ids("beat.agent_ids", agent_ids, registry.limits)
        registry.check_self_report(status, "beat.status")
        registry.check_loads(loads, "beat.loads")
        if not agent_ids:
            reported = await registry.beat_stream(self, status, loads)
            return BeatResult(reported.unknown_agent_ids, len(self.bound), reported.refused_agent_ids)
        known, unknown, refused = registry.split_owned(self.runtime_id, agent_ids)
        return await self._beat(known, status, unknown, refused, loads)

    async def unbind(self, agent_ids: list[str]) -> BeatResult:
        self._require_bound()
        validate_ids("unbind.agent_ids", agent_ids, self._registry.limits)
        self._registry.unbind(self, agent_ids)
        return BeatResult(bound_agents=len(self.bound))

    def expire(self) -> None:
        if not self.runtime_id and not self._closed:
            timeout = self._registry.settings.bind_timeout
            self.expired = FailedPrecondition(
                f"no bind within bind_timeout={timeout:g}s of opening the heartbeat stream; "
                "the first message must be a bind",
                field="bind",
            )
            if self.on_expired is not None:
                self.on_expired()

    def close(self, end: StreamEnd) -> None:
        if not self._closed:
            self._closed = True
            self._registry.detach_session(self, _OUTCOMES[end])

    async def finish(self, end: StreamEnd) -> None:
        """Close, and wait until the change the end makes is applied and durable: a stream answered after
        that has its agents OFFLINE for every read that follows (on any replica, for a consistent read)."""
        self.close(end)
        await self._registry.settled()

    async def _beat(
        self,
        known: Sequence[str],
        status: AgentStatus | None,
        unknown: Sequence[str] = (),
        refused: Sequence[str] = (),
        loads: Sequence[AgentLoadReport] = (),
    ) -> BeatResult:
        reported = await self._registry.beat(self.runtime_id, known, status, loads)
        return BeatResult((), len(self.bound)).merge(
            (*unknown, *reported.unknown_agent_ids), (*refused, *reported.refused_agent_ids)
        )

    def _require_bound(self) -> None:
        if not self.runtime_id:
            raise FailedPrecondition("the first message on a heartbeat stream must be a bind", field="action")
