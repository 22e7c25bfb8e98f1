"""The one place where `agentregistry.v1` messages and gRPC errors turn into the SDK's public types,
and back. Nothing else in the SDK reads or builds a `_pb2` message field by field."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, TypeVar

import grpc
from google.protobuf import json_format
from google.protobuf.duration_pb2 import Duration
from google.protobuf.timestamp_pb2 import Timestamp
from google.rpc import error_details_pb2, status_pb2
from grpc_health.v1 import health_pb2

from agentregistry.types import (
    AgentAlreadyExistsError,
    AgentCard,
    AgentLoad,
    AgentMatch,
    AgentMetadata,
    AgentNotFoundError,
    AgentPage,
    AgentStatus,
    Bookmark,
    DeregisterReason,
    DeregisterResult,
    FindResult,
    HeartbeatAck,
    HeartbeatDigest,
    InvalidArgumentError,
    Liveness,
    LoadReport,
    MatchKind,
    Outcome,
    PermissionDeniedError,
    RegisterResult,
    RegistryError,
    RegistryEvent,
    RegistryEventType,
    RegistryStats,
    RegistryUnavailableError,
    ReplicaStats,
    Reservation,
    RevisionCompactedError,
    RuntimeInfo,
    RuntimeList,
    Selection,
    SelectionStrategy,
    ServingStatus,
    StatusReason,
    StatusUpdate,
    SubscriberOverflowError,
    UnauthenticatedError,
)
from agentregistry.v1 import registry_pb2 as pb
from registryd.core.filters import AgentFilter


def agent_filter_to_proto(agent_filter: AgentFilter | None) -> pb.AgentFilter | None:
    if not agent_filter:
        return None
    return pb.AgentFilter(
        skill_ids=agent_filter.skill_ids,
        tags=agent_filter.tags,
        input_modes=agent_filter.input_modes,
        output_modes=agent_filter.output_modes,
        protocol_bindings=agent_filter.protocol_bindings,
        streaming=agent_filter.streaming,
        push_notifications=agent_filter.push_notifications,
        provider=agent_filter.provider,
        verified=agent_filter.verified,
        label_selector=agent_filter.label_selector,
    )


# Public enums <-> wire enums. Wire enum values are "<PREFIX>_<NAME>" with the public member's name; a
# wire value this SDK does not know (a newer daemon) becomes the public enum's UNKNOWN member.
_STATUS_PREFIX = "AGENT_STATUS_"
_EVENT_PREFIX = "EVENT_TYPE_"

Public = TypeVar("Public", bound=enum.Enum)


def _from_proto(public: type[Public], wire: Any, prefix: str, value: int) -> Public:
    try:
        return public[wire.Name(value).removeprefix(prefix)]
    except (ValueError, KeyError):
        return public["UNKNOWN"]


def _optional_from_proto(public: type[Public], wire: Any, prefix: str, value: int) -> Public | None:
    """UNSPECIFIED (0) is None."""
    return _from_proto(public, wire, prefix, value) if value else None


def status_to_proto(status: AgentStatus) -> int:
    status = AgentStatus(status)
    if status is AgentStatus.UNKNOWN:
        raise ValueError("AgentStatus.UNKNOWN cannot be sent to the daemon")
    return pb.AgentStatus.Value(_STATUS_PREFIX + status.name)


def statuses_to_proto(statuses: Iterable[AgentStatus]) -> list[int]:
    return [status_to_proto(s) for s in statuses]


def status_from_proto(value: int) -> AgentStatus:
    return _from_proto(AgentStatus, pb.AgentStatus, _STATUS_PREFIX, value)


def status_from_name(name: str) -> AgentStatus:
    """A status from the daemon's stats keys ("ACTIVE")."""
    return AgentStatus.__members__.get(name, AgentStatus.UNKNOWN)


def _reason_from_proto(value: int) -> StatusReason | None:
    return _optional_from_proto(StatusReason, pb.StatusReason, "STATUS_REASON_", value)


def _deregister_reason_from_proto(value: int) -> DeregisterReason | None:
    return _optional_from_proto(DeregisterReason, pb.DeregisterReason, "DEREGISTER_REASON_", value)


def event_type_to_proto(event_type: RegistryEventType) -> int:
    event_type = RegistryEventType(event_type)
    if event_type is RegistryEventType.UNKNOWN:
        raise ValueError("RegistryEventType.UNKNOWN cannot be subscribed to")
    return pb.EventType.Value(_EVENT_PREFIX + event_type.name)


def event_type_from_proto(value: int) -> RegistryEventType:
    return _from_proto(RegistryEventType, pb.EventType, _EVENT_PREFIX, value)


def _seconds(duration: Duration) -> float:
    return duration.ToNanoseconds() / 1e9


def duration_or_none(seconds: float | None) -> Duration | None:
    if seconds is None:
        return None
    duration = Duration()
    duration.FromNanoseconds(round(seconds * 1e9))
    return duration


def liveness_fields(liveness: Liveness | None) -> dict[str, Duration]:
    """The optional heartbeat_timeout/auto_deregister_timeout fields of a register, heartbeat or bind."""
    if liveness is None:
        return {}
    fields = {
        "heartbeat_timeout": duration_or_none(liveness.heartbeat_timeout),
        "auto_deregister_timeout": duration_or_none(liveness.auto_deregister_timeout),
    }
    return {name: value for name, value in fields.items() if value is not None}


def _time(ts: Timestamp) -> datetime:
    return datetime.fromtimestamp(ts.ToNanoseconds() / 1e9, UTC)


# ------------------------------------------------------------------------------------ cards and agents


def card_to_proto(card: AgentCard) -> pb.AgentCard:
    """The A2A card alone (RegisterAgentRequest carries the phrases and labels beside it)."""
    return json_format.ParseDict(card.to_dict(), pb.AgentCard())


def card_from_proto(
    card: pb.AgentCard, capabilities: Iterable[str] = (), labels: Mapping[str, str] | None = None
) -> AgentCard:
    return replace(
        AgentCard.from_dict(json_format.MessageToDict(card)),
        capabilities=tuple(capabilities),
        labels=dict(labels or {}),
    )


def agent_from_proto(agent: pb.Agent) -> AgentMetadata:
    return AgentMetadata(
        agent_id=agent.agent_id,
        runtime_id=agent.runtime_id,
        card=card_from_proto(agent.card, agent.capabilities, agent.labels),
        status=status_from_proto(agent.status),
        status_reason=_reason_from_proto(agent.status_reason),
        registered_at=_time(agent.registered_at),
        last_heartbeat=_time(agent.last_heartbeat),
        status_changed_at=_time(agent.status_changed_at),
        revision=agent.revision,
        health=status_from_proto(agent.health) if agent.health else status_from_proto(agent.status),
        health_reason=_reason_from_proto(agent.health_reason),
        operator_status=_optional_from_proto(
            AgentStatus, pb.AgentStatus, _STATUS_PREFIX, agent.operator_status
        ),
        verified=agent.verified,
    )


# -------------------------------------------------------------------------------------------- events


def event_from_proto(event: pb.Event) -> RegistryEvent:
    event_type = event_type_from_proto(event.type)
    agent = agent_from_proto(event.agent) if event.HasField("agent") else None
    metadata: dict[str, object] = {}
    if event_type is RegistryEventType.AGENT_REGISTERED and agent is not None:
        metadata["capabilities"] = searchable_texts(agent.card)[0]
    elif event_type is RegistryEventType.AGENT_STATUS_CHANGED:
        metadata["old_status"] = status_from_proto(event.old_status).value
        metadata["new_status"] = status_from_proto(event.new_status).value
    if event_type is RegistryEventType.AGENT_DEREGISTERED:
        reason = _deregister_reason_from_proto(event.deregister_reason)
        metadata["reason"] = reason.value if reason else None
    elif event_type is RegistryEventType.AGENT_STATUS_CHANGED:
        status_reason = _reason_from_proto(event.status_reason)
        metadata["reason"] = status_reason.value if status_reason else None
    return RegistryEvent(
        event_type=event_type,
        agent_id=event.agent_id or None,
        runtime_id=event.runtime_id or None,
        timestamp=_time(event.time),
        revision=event.revision,
        metadata=metadata,
        agent=agent,
    )


def searchable_texts(card: AgentCard) -> tuple[list[str], list[str]]:
    """What discovery matches a query against, each once: capabilities, skill names and skill tags; and,
    ranked below, descriptions and skill examples."""
    ranked = [*card.capabilities]
    described = [card.description]
    for skill in card.skills:
        ranked.extend((skill.name, *skill.tags))
        described.extend((skill.description, *skill.examples))
    return list(dict.fromkeys(t for t in ranked if t)), list(dict.fromkeys(t for t in described if t))


def subscribe_item_from_proto(
    message: pb.SubscribeResponse,
) -> RegistryEvent | Bookmark | HeartbeatDigest | None:
    """None for a kind of message this SDK does not know (a newer daemon)."""
    kind = message.WhichOneof("kind")
    if kind == "bookmark":
        return Bookmark(message.bookmark.revision)
    if kind == "heartbeat_digest":
        return HeartbeatDigest({b.agent_id: _time(b.last_heartbeat) for b in message.heartbeat_digest.beats})
    if kind == "event":
        return event_from_proto(message.event)
    return None


# ------------------------------------------------------------------------------------------- results


def register_result(response: pb.RegisterAgentResponse) -> RegisterResult:
    return RegisterResult(
        agent_from_proto(response.agent),
        response.created,
        response.revision,
        _seconds(response.heartbeat_timeout),
        _seconds(response.auto_deregister_timeout),
    )


def deregister_result(response: pb.DeregisterAgentResponse) -> DeregisterResult:
    return DeregisterResult(agent_from_proto(response.agent), response.revision)


def status_update(response: pb.UpdateAgentStatusResponse) -> StatusUpdate:
    return StatusUpdate(agent_from_proto(response.agent), response.changed, response.revision)


def agent_page(response: pb.ListAgentsResponse) -> AgentPage:
    return AgentPage(
        [agent_from_proto(a) for a in response.agents], response.next_page_token, response.revision
    )


def find_result(response: pb.FindAgentsResponse) -> FindResult:
    matches = [
        AgentMatch(
            agent_from_proto(m.agent),
            m.matched_capability,
            _from_proto(MatchKind, pb.MatchKind, "MATCH_KIND_", m.match_kind),
            m.matched_field,
        )
        for m in response.matches
    ]
    return FindResult(matches, response.revision)


def heartbeat_ack(response: pb.HeartbeatResponse | pb.HeartbeatStreamResponse) -> HeartbeatAck:
    common: dict[str, Any] = {
        "unknown_agent_ids": tuple(response.unknown_agent_ids),
        "server_time": _time(response.server_time),
        "heartbeat_timeout": _seconds(response.heartbeat_timeout),
        "auto_deregister_timeout": _seconds(response.auto_deregister_timeout),
        "refused_agent_ids": tuple(response.refused_agent_ids),
    }
    if isinstance(response, pb.HeartbeatResponse):
        return HeartbeatAck(**common, revision=response.revision)
    return HeartbeatAck(**common, sequence=response.sequence, bound_agents=response.bound_agents)


def loads_to_proto(loads: Iterable[tuple[Iterable[str], LoadReport]]) -> list[pb.LoadReport]:
    """(agent ids, report) pairs as LoadReport messages (no ids: every agent the beat covers)."""
    return [
        pb.LoadReport(
            agent_ids=list(agent_ids),
            in_flight=load.in_flight,
            max_concurrency=load.max_concurrency,
            queue_depth=load.queue_depth,
            accepting=load.accepting,
            utilization=load.utilization,
            latency_ewma=duration_or_none(load.latency_ewma),
        )
        for agent_ids, load in loads
    ]


def strategy_to_proto(strategy: SelectionStrategy) -> int:
    return pb.SelectionStrategy.Value("SELECTION_STRATEGY_" + SelectionStrategy(strategy).name)


def outcome_to_proto(outcome: Outcome | None) -> int:
    if outcome is None:
        return pb.RESERVATION_OUTCOME_UNSPECIFIED
    return pb.ReservationOutcome.Value("RESERVATION_OUTCOME_" + Outcome(outcome).name)


def reservation_from_proto(reservation: pb.Reservation) -> Reservation:
    return Reservation(
        reservation.reservation_id,
        reservation.agent_id,
        _seconds(reservation.ttl),
        _time(reservation.expires_at),
    )


def selection(response: pb.SelectAgentResponse) -> Selection:
    if not response.HasField("agent"):
        return Selection(None, response.reason, None, None, response.matched, response.eligible)
    load = response.load
    reservation = response.reservation if response.HasField("reservation") else None
    return Selection(
        agent_from_proto(response.agent),
        response.reason,
        AgentLoad(
            load.in_flight,
            load.max_concurrency,
            load.queue_depth,
            load.known,
            load.error_rate,
            load.utilization if load.HasField("utilization") else None,
            _seconds(load.latency_ewma) if load.HasField("latency_ewma") else None,
        ),
        None if reservation is None else reservation_from_proto(reservation),
        response.matched,
        response.eligible,
    )


def runtime_list(response: pb.ListRuntimesResponse) -> RuntimeList:
    runtimes = [
        RuntimeInfo(
            r.runtime_id,
            tuple(r.agent_ids),
            r.agent_count,
            r.stream_connected,
            _seconds(r.heartbeat_timeout),
            _seconds(r.auto_deregister_timeout),
        )
        for r in response.runtimes
    ]
    return RuntimeList(runtimes, response.revision, response.next_page_token)


def stats(response: pb.GetStatsResponse) -> RegistryStats:
    return RegistryStats(
        total_agents=response.total_agents,
        total_runtimes=response.total_runtimes,
        status_distribution={status_from_name(k): v for k, v in response.status_distribution.items()},
        runtime_distribution=dict(response.runtime_distribution),
        total_queries=response.total_queries,
        total_registrations=response.total_registrations,
        total_deregistrations=response.total_deregistrations,
        capability_index_size=response.capability_index_size,
        revision=response.revision,
        compacted_revision=response.compacted_revision,
        subscribers=response.subscribers,
        heartbeat_streams=response.heartbeat_streams,
        expiry_guard_active=response.expiry_guard_active,
        replica=ReplicaStats(
            replica_id=response.replica.replica_id,
            leader=response.replica.leader,
            started_at=_time(response.replica.started_at),
            streaming_runtimes=response.replica.streaming_runtimes,
        ),
    )


def serving_status(value: int) -> ServingStatus:
    return _from_proto(ServingStatus, health_pb2.HealthCheckResponse.ServingStatus, "", value)


# -------------------------------------------------------------------------------------------- errors

_ERRORS: dict[grpc.StatusCode, type[RegistryError]] = {
    grpc.StatusCode.INVALID_ARGUMENT: InvalidArgumentError,
    grpc.StatusCode.NOT_FOUND: AgentNotFoundError,
    grpc.StatusCode.ALREADY_EXISTS: AgentAlreadyExistsError,
    grpc.StatusCode.PERMISSION_DENIED: PermissionDeniedError,
    grpc.StatusCode.UNAUTHENTICATED: UnauthenticatedError,
    grpc.StatusCode.UNAVAILABLE: RegistryUnavailableError,
    grpc.StatusCode.DEADLINE_EXCEEDED: RegistryUnavailableError,
}
_REASONS: dict[str, type[RegistryError]] = {
    "REVISION_COMPACTED": RevisionCompactedError,
    "SUBSCRIBER_OVERFLOW": SubscriberOverflowError,
}
_STATUS_DETAILS_KEY = "grpc-status-details-bin"


def stream_error(error: pb.StreamError) -> RegistryError:
    """The SDK exception for a heartbeat stream message the daemon refused (the stream stays open)."""
    code = grpc.StatusCode.__members__.get(error.code, grpc.StatusCode.UNKNOWN)
    violations = {error.field: error.message} if error.field else {}
    return _ERRORS.get(code, RegistryError)(error.message or code.name, code, field_violations=violations)


def error_from_rpc(error: grpc.RpcError) -> RegistryError:
    """The SDK exception for a failed call, with the daemon's ErrorInfo and BadRequest details."""
    code: grpc.StatusCode = error.code()  # type: ignore[attr-defined]
    message: str = error.details() or code.name  # type: ignore[attr-defined]
    reason, error_metadata, violations = "", {}, {}
    for key, value in error.trailing_metadata() or ():  # type: ignore[attr-defined]
        if key != _STATUS_DETAILS_KEY:
            continue
        for detail in status_pb2.Status.FromString(value).details:
            if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
                info = error_details_pb2.ErrorInfo()
                detail.Unpack(info)
                reason, error_metadata = info.reason, dict(info.metadata)
            elif detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
                bad = error_details_pb2.BadRequest()
                detail.Unpack(bad)
                violations.update({v.field: v.description for v in bad.field_violations})
    error_type = _REASONS.get(reason) or _ERRORS.get(code, RegistryError)
    return error_type(message, code, reason, error_metadata, violations)
