"""The registry's values: statuses, reasons, cards, agents and events. All immutable."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, field

from registryd.core.status import AgentStatus, StatusReason, effective, effective_reason

__all__ = ["AgentStatus", "StatusReason"]  # re-exported: they belong to the status rule


class DeregisterReason(enum.IntEnum):
    REQUESTED = 1
    EXPIRED = 2


class EventType(enum.IntEnum):
    AGENT_REGISTERED = 1
    AGENT_DEREGISTERED = 2
    AGENT_STATUS_CHANGED = 3
    AGENT_HEARTBEAT = 4
    RUNTIME_JOINED = 5
    RUNTIME_LEFT = 6


class MatchKind(enum.IntEnum):
    EXACT = 1
    WORD = 2
    SUBSTRING = 3
    FILTER = 4  # no text query: the structured filter alone matched


# The A2A 1.0 card (specification/a2a.proto of a2aproject/A2A). Parts the registry never looks into
# (security schemes and requirements, extension parameters, signature headers) are kept as compact JSON
# text in A2A's JSON form, "" when absent.


@dataclass(frozen=True, slots=True)
class AgentInterface:
    url: str = ""
    protocol_binding: str = ""
    tenant: str = ""
    protocol_version: str = ""


@dataclass(frozen=True, slots=True)
class AgentProvider:
    url: str = ""
    organization: str = ""


@dataclass(frozen=True, slots=True)
class AgentExtension:
    uri: str = ""
    description: str = ""
    required: bool = False
    params: str = ""  # JSON object


@dataclass(frozen=True, slots=True)
class AgentCapabilities:
    """A2A's capability flags (None: the card does not say) and extensions."""

    streaming: bool | None = None
    push_notifications: bool | None = None
    extensions: tuple[AgentExtension, ...] = ()
    extended_agent_card: bool | None = None


@dataclass(frozen=True, slots=True)
class CardSignature:
    protected: str = ""
    signature: str = ""
    header: str = ""  # JSON object


@dataclass(frozen=True, slots=True)
class Skill:
    id: str = ""
    name: str = ""
    description: str = ""
    tags: tuple[str, ...] = ()
    examples: tuple[str, ...] = ()
    input_modes: tuple[str, ...] = ()
    output_modes: tuple[str, ...] = ()
    security_requirements: str = ""  # JSON array


@dataclass(frozen=True, slots=True)
class AgentCard:
    """An A2A 1.0 card, and the registry metadata registered with it (`capabilities`: the original
    registry's free-text phrases; `labels`), which the API carries beside the card, on the agent."""

    name: str = ""
    description: str = ""
    version: str = ""
    capabilities: tuple[str, ...] = ()  # registry metadata: free-text phrases, not A2A's capabilities
    skills: tuple[Skill, ...] = ()
    labels: tuple[tuple[str, str], ...] = ()  # registry metadata, sorted by key
    supported_interfaces: tuple[AgentInterface, ...] = ()
    provider: AgentProvider | None = None
    documentation_url: str = ""
    a2a_capabilities: AgentCapabilities = AgentCapabilities()  # A2A's `capabilities` object
    security_schemes: str = ""  # JSON object
    security_requirements: str = ""  # JSON array
    default_input_modes: tuple[str, ...] = ()
    default_output_modes: tuple[str, ...] = ()
    signatures: tuple[CardSignature, ...] = ()
    icon_url: str = ""

    def indexed_texts(self) -> list[str]:
        """The texts discovery ranks first: capability phrases, skill names and skill tags."""
        texts = list(self.capabilities)
        for skill in self.skills:
            if skill.name:
                texts.append(skill.name)
            texts.extend(skill.tags)
        return texts

    def described_texts(self) -> list[str]:
        """The texts discovery ranks below those: descriptions and skill examples."""
        texts = [self.description] if self.description else []
        for skill in self.skills:
            if skill.description:
                texts.append(skill.description)
            texts.extend(skill.examples)
        return texts

    def field_of(self, spelling: str) -> str:
        """The first searched field holding `spelling` (a text as the card spells it, stripped), as a
        path: "capabilities[0]", "skills[1].tags[0]", "description". Built for answers only."""
        at = _position(self.capabilities, spelling)
        if at is not None:
            return f"capabilities[{at}]"
        for i, skill in enumerate(self.skills):
            if skill.name.strip() == spelling:
                return f"skills[{i}].name"
            at = _position(skill.tags, spelling)
            if at is not None:
                return f"skills[{i}].tags[{at}]"
        if self.description.strip() == spelling:
            return "description"
        for i, skill in enumerate(self.skills):
            if skill.description.strip() == spelling:
                return f"skills[{i}].description"
            at = _position(skill.examples, spelling)
            if at is not None:
                return f"skills[{i}].examples[{at}]"
        return ""


def _position(texts: tuple[str, ...], spelling: str) -> int | None:
    """Where `spelling` is in `texts`, by a C scan first (texts are rarely padded with spaces)."""
    if spelling in texts:
        return texts.index(spelling)
    return next((i for i, text in enumerate(texts) if text.strip() == spelling), None)


@dataclass(frozen=True, slots=True)
class Agent:
    agent_id: str
    runtime_id: str
    card: AgentCard
    health: AgentStatus  # decided by the registry alone (core/status.py)
    health_reason: StatusReason
    registered_at: float  # wall-clock seconds since the epoch
    last_heartbeat: float
    status_changed_at: float
    revision: int
    operator_status: AgentStatus | None = None  # DEGRADED, UNHEALTHY or OFFLINE set by an operator
    verified: bool = False  # a signature of the card verified against a key the operator configured

    @property
    def status(self) -> AgentStatus:
        """The effective status (core/status.py), which discovery filters on."""
        return effective(self.health, self.operator_status)

    @property
    def status_reason(self) -> StatusReason:
        return effective_reason(self.health, self.health_reason, self.operator_status)

    def judged(
        self,
        health: AgentStatus,
        health_reason: StatusReason,
        operator: AgentStatus | None,
        revision: int,
        at: float,
    ) -> Agent:
        """This agent with a new health and operator setting at `revision`, changed at `at` if its effective
        status changed. Built directly, as `beaten` is: a mass timeout makes one per agent."""
        status_changed_at = self.status_changed_at if effective(health, operator) is self.status else at
        return Agent(
            self.agent_id,
            self.runtime_id,
            self.card,
            health,
            health_reason,
            self.registered_at,
            self.last_heartbeat,
            status_changed_at,
            revision,
            operator,
            self.verified,
        )

    def beaten(self, at: float) -> Agent:
        """This agent with `last_heartbeat=at`. Every beat of every agent makes one, and building it
        directly costs less than half of `dataclasses.replace` (which walks the fields each time)."""
        return Agent(
            self.agent_id,
            self.runtime_id,
            self.card,
            self.health,
            self.health_reason,
            self.registered_at,
            at,
            self.status_changed_at,
            self.revision,
            self.operator_status,
            self.verified,
        )


@dataclass(frozen=True, slots=True)
class Event:
    revision: int  # 0 for the ephemeral AGENT_HEARTBEAT
    type: EventType
    time: float
    runtime_id: str
    agent_id: str = ""
    agent: Agent | None = None
    old_status: AgentStatus | None = None
    new_status: AgentStatus | None = None
    status_reason: StatusReason | None = None
    deregister_reason: DeregisterReason | None = None


@dataclass(frozen=True, slots=True)
class HeartbeatDigest:
    """The last heartbeat time of agents that beat since the previous digest (ephemeral, never replayed)."""

    beats: tuple[tuple[str, float], ...]  # (agent_id, wall time)


@dataclass(frozen=True, slots=True)
class FoundAgent:
    agent: Agent
    matched_text: str  # as the card spells it; "" when a filter alone matched
    kind: MatchKind

    @property
    def matched_field(self) -> str:
        """Where on the card: "capabilities[0]", "skills[1].tags[0]", "description" (made when asked:
        an answer's message needs it, the core's ranking does not)."""
        return self.agent.card.field_of(self.matched_text) if self.matched_text else ""


@dataclass(frozen=True, slots=True)
class RuntimeInfo:
    runtime_id: str
    agent_ids: tuple[str, ...]
    stream_connected: bool
    heartbeat_timeout: float
    auto_deregister_timeout: float


@dataclass(slots=True)
class RuntimePage:
    runtimes: list[RuntimeInfo] = field(default_factory=list)
    next_after: str | None = None  # the last runtime_id of this page when more follow
    revision: int = 0


@dataclass(frozen=True, slots=True)
class Replica:
    """Facts of this process, which other replicas do not share."""

    replica_id: str
    leader: bool
    started_at: float  # wall clock
    streaming_runtimes: int  # runtimes whose heartbeat stream this replica holds


@dataclass(frozen=True, slots=True)
class Stats:
    total_agents: int
    total_runtimes: int
    status_distribution: dict[str, int]
    runtime_distribution: dict[str, int]
    total_queries: int
    total_registrations: int
    total_deregistrations: int
    capability_index_size: int
    revision: int
    compacted_revision: int
    subscribers: int
    heartbeat_streams: int
    expiry_guard_active: bool
    replica: Replica


@dataclass(frozen=True, slots=True)
class BeatResult:
    unknown_agent_ids: tuple[str, ...] = ()
    bound_agents: int = 0
    refused_agent_ids: tuple[str, ...] = ()  # another runtime's agents: neither bound nor beaten

    def merge(self, unknown: Iterable[str], refused: Iterable[str]) -> BeatResult:
        """This result with more unknown and refused ids (each listed once, in first-seen order)."""
        return BeatResult(
            tuple(dict.fromkeys((*self.unknown_agent_ids, *unknown))),
            self.bound_agents,
            tuple(dict.fromkeys((*self.refused_agent_ids, *refused))),
        )


@dataclass(slots=True)
class Page:
    agents: list[Agent] = field(default_factory=list)
    next_after: str | None = None  # the last agent_id of this page when more follow
    revision: int = 0
