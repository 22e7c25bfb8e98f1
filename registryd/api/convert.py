"""Translation between agentregistry.v1 messages and registryd.core values, in both directions."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from agentregistry.v1 import registry_pb2 as pb
from google.protobuf.duration_pb2 import Duration
from google.protobuf.internal.containers import RepeatedCompositeFieldContainer
from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp

from registryd.api.memo import IdentityMemo
from registryd.api.paging import encode_page_token
from registryd.core.errors import InvalidArgument
from registryd.core.model import (
    Agent,
    AgentCard,
    AgentStatus,
    Event,
    EventType,
    FoundAgent,
    HeartbeatDigest,
    RuntimeInfo,
    RuntimePage,
    Skill,
    Stats,
)


def timestamp(seconds: float) -> Timestamp:
    ts = Timestamp()
    ts.FromNanoseconds(int(seconds * 1e9))
    return ts


def duration(seconds: float) -> Duration:
    d = Duration()
    d.FromNanoseconds(int(seconds * 1e9))
    return d


def status_from_proto(value: int, field: str) -> AgentStatus:
    try:
        return AgentStatus(value)
    except ValueError:
        raise InvalidArgument(
            f"{field} must be one of ACTIVE, DEGRADED, UNHEALTHY, OFFLINE (got {_enum_name(pb.AgentStatus, value)})",
            field=field,
        ) from None


def optional_seconds(message: Message, field: str) -> float | None:
    """A Duration field in seconds, None when unset."""
    if not message.HasField(field):
        return None
    value: Duration = getattr(message, field)
    return value.seconds + value.nanos / 1e9


def heartbeat_digest_to_proto(digest: HeartbeatDigest) -> pb.SubscribeResponse:
    response = pb.SubscribeResponse()
    beats = response.heartbeat_digest.beats
    for agent_id, at in digest.beats:
        beats.add(agent_id=agent_id).last_heartbeat.FromNanoseconds(int(at * 1e9))
    return response


def optional_status_from_proto(value: int, field: str) -> AgentStatus | None:
    return None if value == pb.AGENT_STATUS_UNSPECIFIED else status_from_proto(value, field)


# A filter names each status or event type at most once; more entries are noise (or an attack).
MAX_FILTER_ENTRIES = 16


def _check_filter_size(values: Sequence[int], field: str) -> None:
    if len(values) > MAX_FILTER_ENTRIES:
        raise InvalidArgument(
            f"{field} has {len(values)} entries; the limit is {MAX_FILTER_ENTRIES}", field=field
        )


def statuses_from_proto(values: Sequence[int], field: str) -> frozenset[AgentStatus]:
    _check_filter_size(values, field)
    return frozenset(status_from_proto(v, f"{field}[{i}]") for i, v in enumerate(values))


def event_types_from_proto(values: Sequence[int], field: str) -> frozenset[EventType]:
    _check_filter_size(values, field)
    types = set()
    for i, value in enumerate(values):
        try:
            types.add(EventType(value))
        except ValueError:
            raise InvalidArgument(
                f"{field}[{i}] is not an event type (got {_enum_name(pb.EventType, value)})",
                field=f"{field}[{i}]",
            ) from None
    return frozenset(types)


def _enum_name(enum: object, value: int) -> str:
    try:
        return enum.Name(value)  # type: ignore[attr-defined,no-any-return]
    except ValueError:
        return str(value)


def card_from_proto(card: pb.AgentCard) -> AgentCard:
    return AgentCard(
        name=card.name,
        description=card.description,
        version=card.version,
        url=card.url,
        capabilities=tuple(card.capabilities),
        skills=tuple(
            Skill(id=s.id, name=s.name, description=s.description, tags=tuple(s.tags)) for s in card.skills
        ),
        labels=tuple(sorted(card.labels.items())),
    )


def card_to_proto(card: AgentCard) -> pb.AgentCard:
    return pb.AgentCard(
        name=card.name,
        description=card.description,
        version=card.version,
        url=card.url,
        capabilities=card.capabilities,
        skills=[pb.Skill(id=s.id, name=s.name, description=s.description, tags=s.tags) for s in card.skills],
        labels=dict(card.labels),
    )


def _agent_message(agent: Agent) -> pb.Agent:
    return pb.Agent(
        agent_id=agent.agent_id,
        runtime_id=agent.runtime_id,
        card=card_to_proto(agent.card),
        status=int(agent.status),
        status_reason=int(agent.status_reason),
        registered_at=timestamp(agent.registered_at),
        last_heartbeat=timestamp(agent.last_heartbeat),
        status_changed_at=timestamp(agent.status_changed_at),
        revision=agent.revision,
        health=int(agent.health),
        health_reason=int(agent.health_reason),
        operator_status=int(agent.operator_status or 0),
    )


# Routers ask for the same agents again and again: building the message was most of a FindAgents call.
agent_to_proto = IdentityMemo(4096, _agent_message)


def event_to_proto(event: Event) -> pb.Event:
    message = pb.Event(
        revision=event.revision,
        type=int(event.type),
        time=timestamp(event.time),
        agent_id=event.agent_id,
        runtime_id=event.runtime_id,
        old_status=int(event.old_status or 0),
        new_status=int(event.new_status or 0),
        status_reason=int(event.status_reason or 0),
        deregister_reason=int(event.deregister_reason or 0),
    )
    if event.agent is not None:
        message.agent.CopyFrom(agent_to_proto(event.agent))
    return message


def add_matches(matches: RepeatedCompositeFieldContainer[pb.AgentMatch], found: Iterable[FoundAgent]) -> None:
    """Append AgentMatch messages to a response's `matches` in place: each agent message is copied once
    (building AgentMatch objects first and passing the list copies every agent twice)."""
    for f in found:
        match = matches.add(matched_capability=f.matched_text, match_kind=int(f.kind))
        match.agent.CopyFrom(agent_to_proto(f.agent))


def runtime_to_proto(runtime: RuntimeInfo) -> pb.Runtime:
    return pb.Runtime(
        runtime_id=runtime.runtime_id,
        agent_ids=runtime.agent_ids,
        agent_count=len(runtime.agent_ids),
        stream_connected=runtime.stream_connected,
        heartbeat_timeout=duration(runtime.heartbeat_timeout),
        auto_deregister_timeout=duration(runtime.auto_deregister_timeout),
    )


def runtime_page_to_proto(page: RuntimePage, revision: int) -> pb.ListRuntimesResponse:
    token = encode_page_token(page.next_after, "", ()) if page.next_after else ""
    return pb.ListRuntimesResponse(
        runtimes=[runtime_to_proto(r) for r in page.runtimes], next_page_token=token, revision=revision
    )


def stats_to_proto(stats: Stats) -> pb.GetStatsResponse:
    return pb.GetStatsResponse(
        total_agents=stats.total_agents,
        total_runtimes=stats.total_runtimes,
        status_distribution=stats.status_distribution,
        runtime_distribution=stats.runtime_distribution,
        total_queries=stats.total_queries,
        total_registrations=stats.total_registrations,
        total_deregistrations=stats.total_deregistrations,
        capability_index_size=stats.capability_index_size,
        revision=stats.revision,
        compacted_revision=stats.compacted_revision,
        subscribers=stats.subscribers,
        heartbeat_streams=stats.heartbeat_streams,
        expiry_guard_active=stats.expiry_guard_active,
    )
