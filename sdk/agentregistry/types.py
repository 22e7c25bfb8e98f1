"""The SDK's public values: enums, cards, agents, events, results and errors.

Everything here is a plain dataclass or enum; the wire messages of `agentregistry.v1` never appear in
public signatures (`agentregistry.convert` translates between the two). Enum values are the lower-case
strings of the original in-process registry, so `status.value == "active"` keeps working. Every enum the
daemon sends has an UNKNOWN member: a value from a newer daemon maps to it rather than failing.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import grpc


class AgentStatus(enum.StrEnum):
    """From best to worst: ACTIVE < DEGRADED < UNHEALTHY < OFFLINE. UNKNOWN: a value this SDK does not
    know (a newer daemon); it is never sent."""

    ACTIVE = "active"
    DEGRADED = "degraded"
    UNHEALTHY = "unhealthy"
    OFFLINE = "offline"
    UNKNOWN = "unknown"

    @classmethod
    def known(cls) -> tuple[AgentStatus, ...]:
        """Every status a daemon can be asked about (all but UNKNOWN)."""
        return tuple(s for s in cls if s is not cls.UNKNOWN)


class StatusReason(enum.StrEnum):
    """Why an agent has its status (the daemon decides; see the proto for each)."""

    REGISTERED = "registered"
    OPERATOR = "operator"
    SELF_REPORTED = "self_reported"
    HEARTBEAT_TIMEOUT = "heartbeat_timeout"
    STREAM_LOST = "stream_lost"
    STREAM_CLOSED = "stream_closed"
    HEARTBEAT_RESUMED = "heartbeat_resumed"
    UNKNOWN = "unknown"


class DeregisterReason(enum.StrEnum):
    REQUESTED = "requested"
    EXPIRED = "expired"
    UNKNOWN = "unknown"


class RegistryEventType(enum.StrEnum):
    AGENT_REGISTERED = "agent_registered"
    AGENT_DEREGISTERED = "agent_deregistered"
    AGENT_STATUS_CHANGED = "agent_status_changed"
    AGENT_HEARTBEAT = "agent_heartbeat"
    RUNTIME_JOINED = "runtime_joined"
    RUNTIME_LEFT = "runtime_left"
    # Made by this SDK, not the daemon: an agent this client kept alive was taken by another runtime
    # (it expired while this client was cut off); this client no longer beats or re-registers it.
    AGENT_LOST = "agent_lost"
    UNKNOWN = "unknown"  # an event type this SDK does not know (a newer daemon); delivered as is

    @classmethod
    def daemon_types(cls) -> tuple[RegistryEventType, ...]:
        """Every event type a daemon can be asked for."""
        return tuple(t for t in cls if t not in (cls.AGENT_LOST, cls.UNKNOWN))


class MatchKind(enum.StrEnum):
    """How a capability query matched, best first."""

    EXACT = "exact"
    WORD = "word"
    SUBSTRING = "substring"
    UNKNOWN = "unknown"


class ServingStatus(enum.StrEnum):
    """The answer of the standard gRPC health check."""

    UNKNOWN = "unknown"
    SERVING = "serving"
    NOT_SERVING = "not_serving"
    SERVICE_UNKNOWN = "service_unknown"


@dataclass(frozen=True)
class Skill:
    id: str = ""
    name: str = ""
    description: str = ""
    tags: tuple[str, ...] = ()

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Skill:
        return cls(
            id=str(data.get("id", "")),
            name=str(data.get("name", "")),
            description=str(data.get("description", "")),
            tags=_strings(data.get("tags", ()), "skills[].tags"),
        )


@dataclass(frozen=True)
class AgentCard:
    """What an agent is and can do (A2A AgentCard shaped). Capabilities, skill names and skill tags are
    what `find_agents_by_capability` searches."""

    name: str = ""
    description: str = ""
    version: str = ""
    url: str = ""
    capabilities: tuple[str, ...] = ()
    skills: tuple[Skill, ...] = ()
    labels: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AgentCard:
        """A card from the original registry's dict form: `capability` (one string) and/or
        `capabilities` (a string or a list), plus name, description, version, url, skills, labels."""
        capabilities: list[str] = []
        if data.get("capability"):
            capabilities.extend(_strings(data["capability"], "capability"))
        capabilities.extend(_strings(data.get("capabilities", ()), "capabilities"))
        skills = tuple(
            skill if isinstance(skill, Skill) else Skill.from_dict(skill) for skill in data.get("skills", ())
        )
        return cls(
            name=str(data.get("name", "")),
            description=str(data.get("description", "")),
            version=str(data.get("version", "")),
            url=str(data.get("url", "")),
            capabilities=tuple(dict.fromkeys(capabilities)),
            skills=skills,
            labels={str(k): str(v) for k, v in dict(data.get("labels", {})).items()},
        )

    def to_dict(self) -> dict[str, Any]:
        """The dict form the original registry kept as `a2a_card`."""
        return {
            "name": self.name,
            "description": self.description,
            "version": self.version,
            "url": self.url,
            "capabilities": list(self.capabilities),
            "skills": [
                {"id": s.id, "name": s.name, "description": s.description, "tags": list(s.tags)}
                for s in self.skills
            ],
            "labels": dict(self.labels),
        }


def _strings(value: Any, name: str) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, Iterable):
        return tuple(str(v) for v in value)
    raise TypeError(f"{name} must be a string or a list of strings (got {type(value).__name__})")


@dataclass(frozen=True)
class AgentMetadata:
    """An agent as the daemon knows it. A snapshot: later changes produce a new AgentMetadata.

    `agent` is the object passed to `register_agent` when the agent was registered through this client,
    else a read-only `RemoteAgent` that carries the card (so the original's `metadata.agent._a2a_card`
    works for every agent). Times are timezone-aware (UTC).

    `status` is the effective status discovery filters on: the worse of `health` (decided by the daemon
    from heartbeats, streams, timeouts and self-reports, for `health_reason`) and `operator_status` (the
    operator's setting, None when unset).
    """

    agent_id: str
    runtime_id: str
    card: AgentCard
    status: AgentStatus
    status_reason: StatusReason | None
    registered_at: datetime
    last_heartbeat: datetime
    status_changed_at: datetime
    revision: int
    health: AgentStatus = AgentStatus.ACTIVE
    health_reason: StatusReason | None = None
    operator_status: AgentStatus | None = None
    agent: Any = field(default=None, compare=False)

    @property
    def a2a_card(self) -> dict[str, Any]:
        """The card in the original registry's dict form."""
        return self.card.to_dict()


@dataclass(frozen=True)
class RemoteAgent:
    """Stands in for the agent object of an agent registered by another client: read-only, it carries
    the id and the card in the original's attributes (`agent_id`, `_a2a_card`, `a2a_card`)."""

    agent_id: str
    card: AgentCard

    @property
    def _a2a_card(self) -> dict[str, Any]:
        return self.card.to_dict()

    @property
    def a2a_card(self) -> dict[str, Any]:
        return self.card.to_dict()


@dataclass(frozen=True)
class RegistryEvent:
    """A lifecycle event. `metadata` carries the original registry's keys: `capabilities` (registered),
    `old_status`/`new_status`/`reason` (status changed, values as `AgentStatus.value`), `reason`
    (deregistered: "requested" or "expired"). `revision` is 0 for the ephemeral AGENT_HEARTBEAT."""

    event_type: RegistryEventType
    agent_id: str | None
    runtime_id: str | None
    timestamp: datetime
    revision: int
    metadata: dict[str, Any] = field(default_factory=dict)
    agent: AgentMetadata | None = None


@dataclass(frozen=True)
class HeartbeatDigest:
    """Sent on a Subscribe stream asked for with `heartbeat_digests`: agent id -> its last heartbeat,
    for the agents that beat since the previous digest (about once a second)."""

    beats: dict[str, datetime]


@dataclass(frozen=True)
class Bookmark:
    """Sent on a Subscribe stream: every matching event up to `revision` has been delivered."""

    revision: int


@dataclass(frozen=True)
class RegisterResult:
    agent: AgentMetadata
    created: bool  # False for an idempotent re-register by the owning runtime
    revision: int
    heartbeat_timeout: float = 0.0  # in force for the runtime's agents (0: the daemon did not say)
    auto_deregister_timeout: float = 0.0


@dataclass(frozen=True)
class DeregisterResult:
    agent: AgentMetadata  # its last state
    revision: int


@dataclass(frozen=True)
class StatusUpdate:
    agent: AgentMetadata
    changed: bool  # False when the agent already had that status (no event was emitted)
    revision: int


@dataclass(frozen=True)
class HeartbeatAck:
    """The daemon's answer to a heartbeat (unary or on a stream).

    `unknown_agent_ids` must be re-registered; `refused_agent_ids` belong to another runtime and were
    neither bound nor beaten (the rest of the message applied). `heartbeat_timeout` and
    `auto_deregister_timeout` are the values in force for the runtime's agents (seconds; 0 from a daemon
    that does not say). `revision` is set by unary heartbeats only; `sequence` and `bound_agents` by
    stream acks only."""

    unknown_agent_ids: tuple[str, ...]
    server_time: datetime
    heartbeat_timeout: float
    auto_deregister_timeout: float = 0.0
    refused_agent_ids: tuple[str, ...] = ()
    revision: int = 0
    sequence: int = 0
    bound_agents: int = 0


@dataclass(frozen=True)
class AgentPage:
    agents: list[AgentMetadata]
    next_page_token: str  # empty on the last page
    revision: int


@dataclass(frozen=True)
class AgentMatch:
    agent: AgentMetadata
    matched_capability: str
    match_kind: MatchKind


@dataclass(frozen=True)
class FindResult:
    matches: list[AgentMatch]  # best first
    revision: int


@dataclass(frozen=True)
class RuntimeInfo:
    runtime_id: str
    agent_ids: tuple[str, ...]
    agent_count: int
    stream_connected: bool
    heartbeat_timeout: float = 0.0  # in force for its agents (0: the daemon did not say)
    auto_deregister_timeout: float = 0.0


@dataclass(frozen=True)
class RuntimeList:
    runtimes: list[RuntimeInfo]
    revision: int
    next_page_token: str = ""  # empty on the last page (list_runtimes joins every page)


@dataclass(frozen=True)
class RegistryStats:
    total_agents: int
    total_runtimes: int
    status_distribution: dict[AgentStatus, int]
    runtime_distribution: dict[str, int]  # the 100 runtimes with the most agents (total_runtimes: all)
    total_queries: int
    total_registrations: int
    total_deregistrations: int
    capability_index_size: int
    revision: int
    compacted_revision: int
    subscribers: int
    heartbeat_streams: int
    expiry_guard_active: bool


# PEM given as bytes is used as is; a str or Path names a file to read.
PemSource = bytes | str | Path


@dataclass(frozen=True)
class AgentRegistryConfig:
    """Configuration of `AgentRegistry`.

    `heartbeat_timeout` and `auto_deregister_timeout` are the liveness terms this client's runtimes ask
    the daemon for, as in the original registry: an agent that has not beaten for `heartbeat_timeout`
    turns UNHEALTHY, and is deregistered after `auto_deregister_timeout`. They are sent when a heartbeat
    stream binds and on every register and unary heartbeat; the daemon clamps them to the bounds its
    operator set and answers with the values in force. `auto_deregister_timeout` None lets the daemon
    choose max(60 s, 2 x heartbeat_timeout) (`effective_auto_deregister_timeout`). Beats go out every
    `heartbeat_interval`, by default a third of the heartbeat timeout in force.
    """

    target: str = "127.0.0.1:50051"
    heartbeat_timeout: float = 30.0
    auto_deregister_timeout: float | None = None
    enable_heartbeat_monitoring: bool = True  # keep registered agents alive with a heartbeat stream
    enable_event_broadcasting: bool = True  # deliver events to subscribe() callbacks
    # True: start() loads the local view (`agents`, `runtime_agents`). False: it is loaded when first
    # used (read, subscribe(), a local find, load_view()), so a worker that only registers holds none.
    local_view: bool = False
    event_queue_size: int = 100  # events a callback may fall behind before its oldest ones are dropped
    heartbeat_interval: float | None = None  # None: a third of the heartbeat timeout in force
    reconnect_initial_backoff: float = 0.1
    reconnect_max_backoff: float = 5.0
    rpc_timeout: float = 10.0
    # False: a call made while the daemon is unreachable, or cut off by a daemon crash, waits and is
    # retried (reads and idempotent writes) until rpc_timeout. True: it fails at once with
    # RegistryUnavailableError (for a router that would rather try elsewhere).
    fail_fast: bool = False
    # An event stream silent this long (no event, no bookmark) is taken as dead and resumed; keep it a
    # few times the daemon's --bookmark-interval (5 s by default).
    event_stream_idle_timeout: float = 30.0
    root_certificates: PemSource | None = None  # TLS: CA bundle that signed the daemon's certificate
    client_certificate: PemSource | None = None  # mTLS: this client's certificate chain
    client_key: PemSource | None = None  # mTLS: its private key
    token: str | None = None  # bearer token, sent as `authorization: Bearer <token>`

    def __post_init__(self) -> None:
        positive = {
            "heartbeat_timeout": self.heartbeat_timeout,
            "reconnect_initial_backoff": self.reconnect_initial_backoff,
            "reconnect_max_backoff": self.reconnect_max_backoff,
            "rpc_timeout": self.rpc_timeout,
            "event_stream_idle_timeout": self.event_stream_idle_timeout,
            "event_queue_size": self.event_queue_size,
        }
        for name in ("auto_deregister_timeout", "heartbeat_interval"):
            if getattr(self, name) is not None:
                positive[name] = getattr(self, name)
        for name, value in positive.items():
            if value <= 0:
                raise ValueError(f"{name} must be positive (got {value})")
        if (
            self.auto_deregister_timeout is not None
            and self.auto_deregister_timeout <= self.heartbeat_timeout
        ):
            raise ValueError(
                f"auto_deregister_timeout ({self.auto_deregister_timeout}) must be more than "
                f"heartbeat_timeout ({self.heartbeat_timeout})"
            )
        if self.reconnect_max_backoff < self.reconnect_initial_backoff:
            raise ValueError("reconnect_max_backoff must not be less than reconnect_initial_backoff")
        if (self.client_certificate is None) != (self.client_key is None):
            raise ValueError("client_certificate and client_key must be given together")

    @property
    def effective_auto_deregister_timeout(self) -> float:
        """What this client asks for, or what the daemon applies when it asks for nothing."""
        if self.auto_deregister_timeout is not None:
            return self.auto_deregister_timeout
        return max(60.0, 2 * self.heartbeat_timeout)

    @property
    def beat_interval(self) -> float:
        """Seconds between beats before the daemon has said which heartbeat timeout is in force."""
        return self.beat_interval_for(self.heartbeat_timeout)

    def beat_interval_for(self, heartbeat_timeout: float) -> float:
        """Seconds between beats when `heartbeat_timeout` is in force (0: unknown, use the asked one)."""
        in_force = heartbeat_timeout or self.heartbeat_timeout
        if self.heartbeat_interval is None:
            return in_force / 3
        return min(self.heartbeat_interval, in_force / 3)

    @property
    def liveness(self) -> Liveness:
        return Liveness(self.heartbeat_timeout, self.auto_deregister_timeout)


@dataclass(frozen=True)
class Liveness:
    """The liveness terms a runtime asks the daemon for (seconds; None: the daemon's choice)."""

    heartbeat_timeout: float | None = None
    auto_deregister_timeout: float | None = None


# ---------------------------------------------------------------------------------------------- errors


class RegistryError(Exception):
    """A call the daemon refused or could not serve. `code` is the gRPC status code; `reason` and
    `error_metadata` come from a google.rpc.ErrorInfo detail when the daemon sent one, and
    `field_violations` (field -> description) from a BadRequest detail."""

    def __init__(
        self,
        message: str,
        code: grpc.StatusCode = grpc.StatusCode.UNKNOWN,
        reason: str = "",
        error_metadata: Mapping[str, str] | None = None,
        field_violations: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.reason = reason
        self.error_metadata = dict(error_metadata or {})
        self.field_violations = dict(field_violations or {})

    def __str__(self) -> str:
        return f"{self.code.name}: {self.message}"


class InvalidArgumentError(RegistryError, ValueError):
    """A field broke a rule; the message names the field and the limit."""


class AgentNotFoundError(RegistryError, LookupError):
    """The daemon does not know the agent."""


class AgentAlreadyExistsError(RegistryError, ValueError):
    """Another runtime owns this agent id. A ValueError, as the original registry raised."""


class PermissionDeniedError(RegistryError):
    """Not allowed: another runtime owns the agent, or the token's role does not permit the call."""


class UnauthenticatedError(RegistryError):
    """No valid bearer token was sent to a daemon that requires one."""


class RevisionCompactedError(RegistryError):
    """Subscribe(from_revision) asked for events no longer retained: re-list, then resubscribe."""

    @property
    def compacted_revision(self) -> int:
        return int(self.error_metadata.get("compacted_revision", "0"))


class SubscriberOverflowError(RegistryError):
    """The subscriber fell too far behind and was cut off; resume from `last_revision` + 1."""

    @property
    def last_revision(self) -> int:
        return int(self.error_metadata.get("last_revision", "0"))


class RegistryUnavailableError(RegistryError):
    """The daemon could not be reached, or is shutting down, or the call timed out; retry."""
