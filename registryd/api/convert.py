"""Translation between agentregistry.v1 messages and registryd.core values, in both directions."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterable, Mapping, Sequence

from agentregistry.v1 import registry_pb2 as pb
from google.protobuf import json_format
from google.protobuf.duration_pb2 import Duration
from google.protobuf.internal.containers import RepeatedCompositeFieldContainer
from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp

from registryd.api.memo import IdentityMemo
from registryd.api.paging import encode_page_token
from registryd.core.errors import InvalidArgument
from registryd.core.filters import AgentFilter
from registryd.core.load import AgentLoadReport, LoadReport, Outcome, Reservation
from registryd.core.model import (
    Agent,
    AgentCapabilities,
    AgentCard,
    AgentExtension,
    AgentInterface,
    AgentProvider,
    AgentStatus,
    CardSignature,
    Event,
    EventType,
    FoundAgent,
    HeartbeatDigest,
    RuntimeInfo,
    RuntimePage,
    Skill,
    Stats,
)
from registryd.core.placement import Selection, SelectRequest, Strategy


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


def card_from_proto(
    card: pb.AgentCard, capabilities: Iterable[str] = (), labels: Mapping[str, str] | None = None
) -> AgentCard:
    """The core card of a registration: the A2A card, plus the phrases and labels given beside it (and
    those of a pre-1.0 card's deprecated fields; `labels` wins for a key in both). A deprecated `url`
    becomes the first interface, as A2A's 0.3 -> 1.0 notes say."""
    interfaces = [_interface(i) for i in card.supported_interfaces]
    if card.url and not any(i.url == card.url for i in interfaces):
        interfaces.insert(0, AgentInterface(card.url, "JSONRPC", "", "0.3"))
    flags = card.capabilities
    return AgentCard(
        name=card.name,
        description=card.description,
        version=card.version,
        capabilities=(*card.capability_phrases, *capabilities),
        skills=tuple(_skill(s) for s in card.skills),
        labels=tuple(sorted({**card.labels, **(labels or {})}.items())),
        supported_interfaces=tuple(interfaces),
        provider=AgentProvider(card.provider.url, card.provider.organization)
        if card.HasField("provider")
        else None,
        documentation_url=card.documentation_url,
        a2a_capabilities=AgentCapabilities(
            streaming=flags.streaming if flags.HasField("streaming") else None,
            push_notifications=flags.push_notifications if flags.HasField("push_notifications") else None,
            extensions=tuple(
                AgentExtension(e.uri, e.description, e.required, _struct_json(e, "params"))
                for e in flags.extensions
            ),
            extended_agent_card=flags.extended_agent_card if flags.HasField("extended_agent_card") else None,
        ),
        security_schemes=_part_json(card, "security_schemes"),
        security_requirements=_part_json(card, "security_requirements"),
        default_input_modes=tuple(card.default_input_modes),
        default_output_modes=tuple(card.default_output_modes),
        signatures=tuple(
            CardSignature(s.protected, s.signature, _struct_json(s, "header")) for s in card.signatures
        ),
        icon_url=card.icon_url,
    )


def _interface(interface: pb.AgentInterface) -> AgentInterface:
    return AgentInterface(
        interface.url, interface.protocol_binding, interface.tenant, interface.protocol_version
    )


def _skill(skill: pb.Skill) -> Skill:
    return Skill(
        skill.id,
        skill.name,
        skill.description,
        tuple(skill.tags),
        tuple(skill.examples),
        tuple(skill.input_modes),
        tuple(skill.output_modes),
        _part_json(skill, "security_requirements"),
    )


_compact = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode


def _part_json(message: Message, name: str) -> str:
    """A repeated or map field in A2A's JSON form, "" when empty (parts the registry keeps as they are)."""
    if not len(getattr(message, name)):
        return ""
    part = type(message)()
    getattr(part, name).MergeFrom(getattr(message, name))
    return _compact(next(iter(json_format.MessageToDict(part).values())))


def _struct_json(message: Message, name: str) -> str:
    return _compact(json_format.MessageToDict(getattr(message, name))) if message.HasField(name) else ""


def _set_part(message: Message, name: str, text: str) -> None:
    if text:
        part = type(message)()
        json_format.ParseDict({part.DESCRIPTOR.fields_by_name[name].json_name: json.loads(text)}, part)
        getattr(message, name).MergeFrom(getattr(part, name))


def _set_struct(message: Message, name: str, text: str) -> None:
    if text:
        getattr(message, name).update(json.loads(text))


def card_to_proto(card: AgentCard) -> pb.AgentCard:
    """The A2A card alone: the registry's phrases and labels go on the Agent."""
    message = pb.AgentCard(
        name=card.name,
        description=card.description,
        version=card.version,
        supported_interfaces=[
            pb.AgentInterface(
                url=i.url,
                protocol_binding=i.protocol_binding,
                tenant=i.tenant,
                protocol_version=i.protocol_version,
            )
            for i in card.supported_interfaces
        ],
        default_input_modes=card.default_input_modes,
        default_output_modes=card.default_output_modes,
    )
    if card.provider is not None:
        message.provider.url, message.provider.organization = card.provider.url, card.provider.organization
    if card.documentation_url:
        message.documentation_url = card.documentation_url
    if card.icon_url:
        message.icon_url = card.icon_url
    flags, out = card.a2a_capabilities, message.capabilities
    for name in ("streaming", "push_notifications", "extended_agent_card"):
        if getattr(flags, name) is not None:
            setattr(out, name, getattr(flags, name))
    for e in flags.extensions:
        _set_struct(
            out.extensions.add(uri=e.uri, description=e.description, required=e.required), "params", e.params
        )
    _set_part(message, "security_schemes", card.security_schemes)
    _set_part(message, "security_requirements", card.security_requirements)
    for s in card.skills:
        skill = message.skills.add(
            id=s.id,
            name=s.name,
            description=s.description,
            tags=s.tags,
            examples=s.examples,
            input_modes=s.input_modes,
            output_modes=s.output_modes,
        )
        _set_part(skill, "security_requirements", s.security_requirements)
    for sig in card.signatures:
        _set_struct(
            message.signatures.add(protected=sig.protected, signature=sig.signature), "header", sig.header
        )
    return message


# A beat gives an agent a new record but keeps its card: the card's message is most of the record's.
_card_message = IdentityMemo(4096, card_to_proto)


def _agent_message(agent: Agent) -> pb.Agent:
    return pb.Agent(
        agent_id=agent.agent_id,
        runtime_id=agent.runtime_id,
        card=_card_message(agent.card),
        status=int(agent.status),
        status_reason=int(agent.status_reason),
        registered_at=timestamp(agent.registered_at),
        last_heartbeat=timestamp(agent.last_heartbeat),
        status_changed_at=timestamp(agent.status_changed_at),
        revision=agent.revision,
        health=int(agent.health),
        health_reason=int(agent.health_reason),
        operator_status=int(agent.operator_status or 0),
        capabilities=agent.card.capabilities,
        labels=dict(agent.card.labels),
        verified=agent.verified,
    )


# Routers ask for the same agents again and again: building the message was most of a FindAgents call.
agent_to_proto = IdentityMemo(4096, _agent_message)

# An agent record's first message costs 6-10 us to build (the less when its card's was built before): a
# page of 1,000 new records (a mirror listing the registry) would hold the loop up to 10 ms more, so a page
# is converted in slices, a turn of the loop apart.
CONVERT_SLICE = 250


async def agent_messages(agents: Sequence[Agent]) -> list[pb.Agent]:
    """The messages of a page of agents, CONVERT_SLICE at a time (records are immutable: the page stays
    the state of its revision while other work runs between slices)."""
    messages: list[pb.Agent] = []
    for start in range(0, len(agents), CONVERT_SLICE):
        if start:
            await asyncio.sleep(0)
        messages += map(agent_to_proto, agents[start : start + CONVERT_SLICE])
    return messages


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


# Where on its card each text an agent was found by sits, per (immutable) agent record: routers ask the
# same question again and again, and finding the field was a fifth of a FindAgents call.
_match_fields: IdentityMemo[Agent, dict[str, str]] = IdentityMemo(4096, lambda agent: {})


def add_matches(matches: RepeatedCompositeFieldContainer[pb.AgentMatch], found: Iterable[FoundAgent]) -> None:
    """Append AgentMatch messages to a response's `matches` in place: each agent message is copied once
    (building AgentMatch objects first and passing the list copies every agent twice)."""
    for f in found:
        fields = _match_fields(f.agent)
        field = fields.get(f.matched_text)
        if field is None:
            field = fields[f.matched_text] = f.matched_field
        match = matches.add(matched_capability=f.matched_text, match_kind=int(f.kind), matched_field=field)
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
        replica=pb.Replica(
            replica_id=stats.replica.replica_id,
            leader=stats.replica.leader,
            started_at=timestamp(stats.replica.started_at),
            streaming_runtimes=stats.replica.streaming_runtimes,
        ),
    )


def loads_from_proto(reports: Sequence[pb.LoadReport]) -> tuple[AgentLoadReport, ...]:
    return tuple(
        AgentLoadReport(
            tuple(r.agent_ids),
            LoadReport(
                in_flight=r.in_flight,
                max_concurrency=r.max_concurrency,
                queue_depth=r.queue_depth,
                accepting=r.accepting if r.HasField("accepting") else True,
                utilization=r.utilization if r.HasField("utilization") else None,
                latency_ewma=optional_seconds(r, "latency_ewma"),
            ),
        )
        for r in reports
    )


def select_request_from_proto(request: pb.SelectAgentRequest) -> SelectRequest:
    try:
        strategy = Strategy(request.strategy or Strategy.P2C)
    except ValueError:
        raise InvalidArgument(
            f"strategy is not a selection strategy (got {_enum_name(pb.SelectionStrategy, request.strategy)})",
            field="strategy",
        ) from None
    return SelectRequest(
        request.capability,
        strategy,
        request.affinity_key,
        frozenset(request.exclude_agent_ids),
        frozenset(request.exclude_runtime_ids),
        request.allow_degraded,
        request.reserve,
        optional_seconds(request, "reservation_ttl"),
        optional_seconds(request, "wait_timeout") or 0.0,
        agent_filter_from_proto(request.filter),
    )


def agent_filter_from_proto(message: pb.AgentFilter) -> AgentFilter:
    return AgentFilter(
        skill_ids=tuple(message.skill_ids),
        tags=tuple(message.tags),
        input_modes=tuple(message.input_modes),
        output_modes=tuple(message.output_modes),
        protocol_bindings=tuple(message.protocol_bindings),
        streaming=message.streaming,
        push_notifications=message.push_notifications,
        provider=message.provider,
        verified=message.verified,
        label_selector=message.label_selector,
    )


def outcome_from_proto(value: int) -> Outcome | None:
    if value == pb.RESERVATION_OUTCOME_UNSPECIFIED:
        return None
    try:
        return Outcome(value)
    except ValueError:
        raise InvalidArgument(
            f"outcome must be OK, ERROR or TIMEOUT (got {_enum_name(pb.ReservationOutcome, value)})",
            field="outcome",
        ) from None


def selection_to_proto(selection: Selection, now: float) -> pb.SelectAgentResponse:
    """`now`: the wall time the reservation's expiry is reckoned from."""
    response = pb.SelectAgentResponse(
        reason=selection.reason, matched=selection.matched, eligible=selection.eligible
    )
    chosen = selection.chosen
    if chosen is None:
        return response
    response.agent.CopyFrom(agent_to_proto(chosen.agent))
    load = chosen.load
    response.load.CopyFrom(
        pb.AgentLoad(
            in_flight=load.in_flight,
            max_concurrency=load.max_concurrency,
            queue_depth=load.queue_depth,
            known=load.known,
            error_rate=load.error_rate,
            utilization=load.utilization,
        )
    )
    if load.latency_ewma is not None:
        response.load.latency_ewma.CopyFrom(duration(load.latency_ewma))
    if selection.reservation is not None:
        response.reservation.CopyFrom(reservation_to_proto(selection.reservation, now))
    return response


def reservation_to_proto(reservation: Reservation, now: float) -> pb.Reservation:
    """`now`: the wall time the reservation's expiry is reckoned from."""
    return pb.Reservation(
        reservation_id=reservation.reservation_id,
        agent_id=reservation.agent_id,
        ttl=duration(reservation.ttl),
        expires_at=timestamp(now + reservation.ttl),
    )
