"""The registry's values: statuses, reasons, cards, agents and events. All immutable."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class AgentStatus(enum.IntEnum):
    ACTIVE = 1
    DEGRADED = 2
    UNHEALTHY = 3
    OFFLINE = 4


class StatusReason(enum.IntEnum):
    REGISTERED = 1
    OPERATOR = 2
    SELF_REPORTED = 3
    HEARTBEAT_TIMEOUT = 4
    STREAM_LOST = 5
    STREAM_CLOSED = 6
    HEARTBEAT_RESUMED = 7


# Statuses the machine set because it lost track of the agent; a heartbeat undoes them.
RECOVERABLE_REASONS = frozenset(
    {StatusReason.HEARTBEAT_TIMEOUT, StatusReason.STREAM_LOST, StatusReason.STREAM_CLOSED}
)

# Statuses an agent may report about itself in a heartbeat.
SELF_REPORTABLE = frozenset({AgentStatus.ACTIVE, AgentStatus.DEGRADED})


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


@dataclass(frozen=True, slots=True)
class Skill:
    id: str = ""
    name: str = ""
    description: str = ""
    tags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class AgentCard:
    name: str = ""
    description: str = ""
    version: str = ""
    url: str = ""
    capabilities: tuple[str, ...] = ()
    skills: tuple[Skill, ...] = ()
    labels: tuple[tuple[str, str], ...] = ()

    def indexed_texts(self) -> list[str]:
        """The texts discovery matches against: capabilities, skill names and skill tags."""
        texts = list(self.capabilities)
        for skill in self.skills:
            if skill.name:
                texts.append(skill.name)
            texts.extend(skill.tags)
        return texts


@dataclass(frozen=True, slots=True)
class Agent:
    agent_id: str
    runtime_id: str
    card: AgentCard
    status: AgentStatus
    status_reason: StatusReason
    registered_at: float  # wall-clock seconds since the epoch
    last_heartbeat: float
    status_changed_at: float
    revision: int

    @property
    def operator_pinned(self) -> bool:
        """An operator's DEGRADED/UNHEALTHY/OFFLINE holds until an operator changes it."""
        return self.status_reason is StatusReason.OPERATOR and self.status is not AgentStatus.ACTIVE

    def beaten(self, at: float) -> Agent:
        """This agent with `last_heartbeat=at`. Every beat of every agent makes one, and building it
        directly costs less than half of `dataclasses.replace` (which walks the fields each time)."""
        return Agent(
            agent_id=self.agent_id,
            runtime_id=self.runtime_id,
            card=self.card,
            status=self.status,
            status_reason=self.status_reason,
            registered_at=self.registered_at,
            last_heartbeat=at,
            status_changed_at=self.status_changed_at,
            revision=self.revision,
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
class FoundAgent:
    agent: Agent
    matched_text: str
    kind: MatchKind


@dataclass(frozen=True, slots=True)
class RuntimeInfo:
    runtime_id: str
    agent_ids: tuple[str, ...]
    stream_connected: bool


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


@dataclass(frozen=True, slots=True)
class BeatResult:
    unknown_agent_ids: tuple[str, ...] = ()
    bound_agents: int = 0


@dataclass(slots=True)
class Page:
    agents: list[Agent] = field(default_factory=list)
    next_after: str | None = None  # the last agent_id of this page when more follow
    revision: int = 0
