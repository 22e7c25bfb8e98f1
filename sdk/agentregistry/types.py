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
    FILTER = "filter"  # no text query: the structured filter alone matched
    UNKNOWN = "unknown"


class SelectionStrategy(enum.StrEnum):
    """How SelectAgent picks among the agents that fit (see the proto's SelectionStrategy)."""

    P2C = "p2c"  # the default: the less loaded of two at random (Envoy's least-request rule)
    LEAST_LOADED = "least_loaded"
    ROUND_ROBIN = "round_robin"
    RANDOM = "random"
    AFFINITY = "affinity"  # rendezvous hashing of an affinity key, spilling over when its agent is full


class Outcome(enum.StrEnum):
    """How a reserved task ended; ERROR and TIMEOUT raise the agent's error rate."""

    OK = "ok"
    ERROR = "error"
    TIMEOUT = "timeout"


class ServingStatus(enum.StrEnum):
    """The answer of the standard gRPC health check."""

    UNKNOWN = "unknown"
    SERVING = "serving"
    NOT_SERVING = "not_serving"
    SERVICE_UNKNOWN = "service_unknown"


# A2A 1.0 cards (specification/a2a.proto of a2aproject/A2A). Parts the registry keeps as they are (security
# schemes and requirements, extension params, signatures) stay in A2A's JSON form: dicts and lists.


@dataclass(frozen=True)
class AgentInterface:
    """One way to reach an agent; a card's first interface is the preferred one."""

    url: str = ""
    protocol_binding: str = ""  # JSONRPC, GRPC, HTTP+JSON or a binding's URI
    tenant: str = ""
    protocol_version: str = ""


@dataclass(frozen=True)
class AgentProvider:
    url: str = ""
    organization: str = ""


@dataclass(frozen=True)
class Skill:
    id: str = ""
    name: str = ""
    description: str = ""
    tags: tuple[str, ...] = ()
    examples: tuple[str, ...] = ()
    input_modes: tuple[str, ...] = ()
    output_modes: tuple[str, ...] = ()
    security_requirements: tuple[Mapping[str, Any], ...] = ()

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Skill:
        """A skill in A2A's JSON form (camelCase or snake_case; a 0.3 `security` list is upgraded)."""
        return cls(
            id=str(data.get("id", "")),
            name=str(data.get("name", "")),
            description=str(data.get("description", "")),
            tags=_strings(data.get("tags", ()), "skills[].tags"),
            examples=_strings(_get(data, "examples"), "skills[].examples"),
            input_modes=_strings(_get(data, "inputModes"), "skills[].inputModes"),
            output_modes=_strings(_get(data, "outputModes"), "skills[].outputModes"),
            security_requirements=_requirements(data),
        )

    def to_dict(self) -> dict[str, Any]:
        """The skill in A2A's JSON form."""
        return _present(
            id=self.id,
            name=self.name,
            description=self.description,
            tags=list(self.tags),
            examples=list(self.examples),
            inputModes=list(self.input_modes),
            outputModes=list(self.output_modes),
            securityRequirements=[dict(r) for r in self.security_requirements],
        )


@dataclass(frozen=True)
class AgentCard:
    """An A2A 1.0 agent card, and the registry metadata registered with it: `capabilities` (free-text
    phrases, as the original registry had them; not A2A's `capabilities` object, which is
    `a2a_capabilities`) and `labels`. The daemon keeps those two beside the card, on the agent.
    `find_agents_by_capability` searches phrases, skill names and tags first, then descriptions and
    examples."""

    name: str = ""
    description: str = ""
    version: str = ""
    url: str = ""  # the first interface's URL (read only: set supported_interfaces)
    capabilities: tuple[str, ...] = ()
    skills: tuple[Skill, ...] = ()
    labels: Mapping[str, str] = field(default_factory=dict)
    supported_interfaces: tuple[AgentInterface, ...] = ()
    provider: AgentProvider | None = None
    documentation_url: str = ""
    a2a_capabilities: Mapping[str, Any] = field(default_factory=dict)  # streaming, pushNotifications, ...
    security_schemes: Mapping[str, Any] = field(default_factory=dict)
    security_requirements: tuple[Mapping[str, Any], ...] = ()
    default_input_modes: tuple[str, ...] = ()
    default_output_modes: tuple[str, ...] = ()
    signatures: tuple[Mapping[str, Any], ...] = ()
    icon_url: str = ""

    def __post_init__(self) -> None:
        # A card built with a bare `url` (registryd before A2A 1.0) is served over that URL.
        if self.url and not self.supported_interfaces:
            object.__setattr__(
                self, "supported_interfaces", (AgentInterface(self.url, "JSONRPC", "", "0.3"),)
            )
        elif self.supported_interfaces and not self.url:
            object.__setattr__(self, "url", self.supported_interfaces[0].url)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AgentCard:
        """A card from a dict: an A2A 1.0 card (camelCase as published at /.well-known/agent-card.json, or
        snake_case), a 0.3 card (top-level `url`, `preferredTransport`, `additionalInterfaces`,
        `protocolVersion`, `supportsAuthenticatedExtendedCard`, `security`: upgraded as A2A's 1.0 notes
        say), or the original registry's dict: `capability` (one string) and/or `capabilities` (a string
        or a list of phrases), plus `labels`."""
        phrases: list[str] = []
        if data.get("capability"):
            phrases.extend(_strings(data["capability"], "capability"))
        flags = data.get("capabilities", ())
        if isinstance(flags, Mapping):
            flags = {_camel(k): v for k, v in flags.items()}
        else:
            phrases.extend(_strings(flags, "capabilities"))
            flags = {}
        phrases.extend(_strings(_get(data, "registryCapabilities"), "registry_capabilities"))
        if _get(data, "supportsAuthenticatedExtendedCard", None) is not None:
            flags.setdefault("extendedAgentCard", bool(_get(data, "supportsAuthenticatedExtendedCard")))
        skills = tuple(
            skill if isinstance(skill, Skill) else Skill.from_dict(skill) for skill in data.get("skills", ())
        )
        provider = _get(data, "provider", None)
        return cls(
            name=str(data.get("name", "")),
            description=str(data.get("description", "")),
            version=str(data.get("version", "")),
            capabilities=tuple(dict.fromkeys(phrases)),
            skills=skills,
            labels={str(k): str(v) for k, v in dict(data.get("labels") or {}).items()},
            supported_interfaces=_interfaces(data),
            provider=None
            if provider is None
            else AgentProvider(str(provider.get("url", "")), str(provider.get("organization", ""))),
            documentation_url=str(_get(data, "documentationUrl", "") or ""),
            a2a_capabilities=flags,
            security_schemes=dict(_get(data, "securitySchemes", None) or {}),
            security_requirements=_requirements(data),
            default_input_modes=_strings(_get(data, "defaultInputModes"), "defaultInputModes"),
            default_output_modes=_strings(_get(data, "defaultOutputModes"), "defaultOutputModes"),
            signatures=tuple(dict(s) for s in _get(data, "signatures")),
            icon_url=str(_get(data, "iconUrl", "") or ""),
        )

    def to_dict(self) -> dict[str, Any]:
        """The A2A 1.0 card in its JSON form (camelCase, empty fields left out), as an A2A client reads
        it. The registry's phrases and labels are not part of it."""
        return _present(
            name=self.name,
            description=self.description,
            supportedInterfaces=[
                _present(
                    url=i.url,
                    protocolBinding=i.protocol_binding,
                    tenant=i.tenant,
                    protocolVersion=i.protocol_version,
                )
                for i in self.supported_interfaces
            ],
            provider=None
            if self.provider is None
            else _present(url=self.provider.url, organization=self.provider.organization),
            version=self.version,
            documentationUrl=self.documentation_url,
            capabilities=dict(self.a2a_capabilities),
            securitySchemes=dict(self.security_schemes),
            securityRequirements=[dict(r) for r in self.security_requirements],
            defaultInputModes=list(self.default_input_modes),
            defaultOutputModes=list(self.default_output_modes),
            skills=[s.to_dict() for s in self.skills],
            signatures=[dict(s) for s in self.signatures],
            iconUrl=self.icon_url,
        )

    def to_original_dict(self) -> dict[str, Any]:
        """The dict form the original registry kept as `a2a_card`: `capabilities` is the list of phrases."""
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


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name)


def _get(data: Mapping[str, Any], camel: str, default: Any = ()) -> Any:
    """A field of an A2A dict, camelCase (its JSON form) or snake_case (pydantic's model_dump)."""
    value = data.get(camel)
    if value is None:
        value = data.get(_snake(camel))
    return default if value is None else value


def _present(**fields: Any) -> dict[str, Any]:
    return {k: v for k, v in fields.items() if v not in (None, "", [], {})}


def _interfaces(data: Mapping[str, Any]) -> tuple[AgentInterface, ...]:
    interfaces = [
        AgentInterface(
            str(i.get("url", "")),
            str(_get(i, "protocolBinding", "")),
            str(i.get("tenant", "")),
            str(_get(i, "protocolVersion", "")),
        )
        for i in _get(data, "supportedInterfaces")
    ]
    # A 0.3 card: its url and preferred transport first, then its additional interfaces.
    version = str(_get(data, "protocolVersion", "") or "0.3")
    legacy = []
    if data.get("url"):
        legacy.append((data["url"], _get(data, "preferredTransport", "") or "JSONRPC"))
    legacy += [(i.get("url", ""), i.get("transport", "JSONRPC")) for i in _get(data, "additionalInterfaces")]
    for url, transport in legacy:
        if not any(i.url == url and i.protocol_binding == transport for i in interfaces):
            interfaces.append(AgentInterface(str(url), str(transport), "", version))
    return tuple(interfaces)


def _requirements(data: Mapping[str, Any]) -> tuple[Mapping[str, Any], ...]:
    """Security requirements; a 0.3 `security` list ({scheme: [scope, ...]}) becomes 1.0's form."""
    requirements = [dict(r) for r in _get(data, "securityRequirements")]
    for requirement in data.get("security") or ():
        requirements.append(
            {"schemes": {name: {"list": list(scopes)} for name, scopes in requirement.items()}}
        )
    return tuple(requirements)


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
    verified: bool = False  # a signature of the card verified against a key the daemon's operator set

    @property
    def a2a_card(self) -> dict[str, Any]:
        """The card in the original registry's dict form."""
        return self.card.to_original_dict()


@dataclass(frozen=True)
class RemoteAgent:
    """Stands in for the agent object of an agent registered by another client: read-only, it carries
    the id and the card in the original's attributes (`agent_id`, `_a2a_card`, `a2a_card`)."""

    agent_id: str
    card: AgentCard

    @property
    def _a2a_card(self) -> dict[str, Any]:
        return self.card.to_original_dict()

    @property
    def a2a_card(self) -> dict[str, Any]:
        return self.card.to_original_dict()


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
    matched_capability: str  # the card's text that matched best ("" when a filter alone matched)
    match_kind: MatchKind
    matched_field: str = ""  # where it is on the card: "capabilities[0]", "skills[1].tags[0]", ...


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
class ReplicaStats:
    """Facts of the replica that answered GetStats (a single daemon: itself; it always leads)."""

    replica_id: str
    leader: bool
    started_at: datetime
    streaming_runtimes: int


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
    replica: (
        ReplicaStats  # the counters since start, subscribers and heartbeat_streams are this replica's too
    )


# PEM given as bytes is used as is; a str or Path names a file to read.
PemSource = bytes | str | Path


@dataclass(frozen=True)
class LoadReport:
    """An agent's load, sent by its runtime on heartbeats. `max_concurrency` 0: no limit declared;
    `accepting` False while draining; `latency_ewma` in seconds."""

    in_flight: int = 0
    max_concurrency: int = 0
    queue_depth: int = 0
    accepting: bool = True
    utilization: float | None = None
    latency_ewma: float | None = None


@dataclass(frozen=True)
class AgentLoad:
    """What SelectAgent knew of the chosen agent's load: `in_flight` is the last fresh report plus the
    reservations made since (this one included); `known` False when no fresh report exists."""

    in_flight: int
    max_concurrency: int
    queue_depth: int
    known: bool
    error_rate: float
    utilization: float | None = None
    latency_ewma: float | None = None


@dataclass(frozen=True)
class Reservation:
    reservation_id: str
    agent_id: str
    ttl: float  # seconds
    expires_at: datetime


@dataclass(frozen=True)
class Selection:
    """SelectAgent's answer: the agent (None when none fits), why, and the reservation if one was asked."""

    agent: AgentMetadata | None
    reason: str
    load: AgentLoad | None
    reservation: Reservation | None
    matched: int  # agents the query matched with an allowed status
    eligible: int  # of those, the ones that fit


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

    target: str = "127.0.0.1:50051"  # or several replicas: "ipv4:a:p,b:p", "dns:///name:port"
    load_balancing: str = "pick_first"  # gRPC's policy over several replicas: pick_first or round_robin
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


class ReservationNotFoundError(RegistryError, LookupError):
    """The reservation is not open: released already, or expired."""


class NoAgentAvailableError(RegistryError, LookupError):
    """SelectAgent found no agent that fits (the message says why: none matches, all full, ...)."""


class RegistryUnavailableError(RegistryError):
    """The daemon could not be reached, or is shutting down, or the call timed out; retry."""
