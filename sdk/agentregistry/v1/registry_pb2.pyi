import datetime

from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class AgentStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    AGENT_STATUS_UNSPECIFIED: _ClassVar[AgentStatus]
    AGENT_STATUS_ACTIVE: _ClassVar[AgentStatus]
    AGENT_STATUS_DEGRADED: _ClassVar[AgentStatus]
    AGENT_STATUS_UNHEALTHY: _ClassVar[AgentStatus]
    AGENT_STATUS_OFFLINE: _ClassVar[AgentStatus]

class StatusReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    STATUS_REASON_UNSPECIFIED: _ClassVar[StatusReason]
    STATUS_REASON_REGISTERED: _ClassVar[StatusReason]
    STATUS_REASON_OPERATOR: _ClassVar[StatusReason]
    STATUS_REASON_SELF_REPORTED: _ClassVar[StatusReason]
    STATUS_REASON_HEARTBEAT_TIMEOUT: _ClassVar[StatusReason]
    STATUS_REASON_STREAM_LOST: _ClassVar[StatusReason]
    STATUS_REASON_STREAM_CLOSED: _ClassVar[StatusReason]
    STATUS_REASON_HEARTBEAT_RESUMED: _ClassVar[StatusReason]

class DeregisterReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DEREGISTER_REASON_UNSPECIFIED: _ClassVar[DeregisterReason]
    DEREGISTER_REASON_REQUESTED: _ClassVar[DeregisterReason]
    DEREGISTER_REASON_EXPIRED: _ClassVar[DeregisterReason]

class EventType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    EVENT_TYPE_UNSPECIFIED: _ClassVar[EventType]
    EVENT_TYPE_AGENT_REGISTERED: _ClassVar[EventType]
    EVENT_TYPE_AGENT_DEREGISTERED: _ClassVar[EventType]
    EVENT_TYPE_AGENT_STATUS_CHANGED: _ClassVar[EventType]
    EVENT_TYPE_AGENT_HEARTBEAT: _ClassVar[EventType]
    EVENT_TYPE_RUNTIME_JOINED: _ClassVar[EventType]
    EVENT_TYPE_RUNTIME_LEFT: _ClassVar[EventType]

class MatchKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    MATCH_KIND_UNSPECIFIED: _ClassVar[MatchKind]
    MATCH_KIND_EXACT: _ClassVar[MatchKind]
    MATCH_KIND_WORD: _ClassVar[MatchKind]
    MATCH_KIND_SUBSTRING: _ClassVar[MatchKind]
AGENT_STATUS_UNSPECIFIED: AgentStatus
AGENT_STATUS_ACTIVE: AgentStatus
AGENT_STATUS_DEGRADED: AgentStatus
AGENT_STATUS_UNHEALTHY: AgentStatus
AGENT_STATUS_OFFLINE: AgentStatus
STATUS_REASON_UNSPECIFIED: StatusReason
STATUS_REASON_REGISTERED: StatusReason
STATUS_REASON_OPERATOR: StatusReason
STATUS_REASON_SELF_REPORTED: StatusReason
STATUS_REASON_HEARTBEAT_TIMEOUT: StatusReason
STATUS_REASON_STREAM_LOST: StatusReason
STATUS_REASON_STREAM_CLOSED: StatusReason
STATUS_REASON_HEARTBEAT_RESUMED: StatusReason
DEREGISTER_REASON_UNSPECIFIED: DeregisterReason
DEREGISTER_REASON_REQUESTED: DeregisterReason
DEREGISTER_REASON_EXPIRED: DeregisterReason
EVENT_TYPE_UNSPECIFIED: EventType
EVENT_TYPE_AGENT_REGISTERED: EventType
EVENT_TYPE_AGENT_DEREGISTERED: EventType
EVENT_TYPE_AGENT_STATUS_CHANGED: EventType
EVENT_TYPE_AGENT_HEARTBEAT: EventType
EVENT_TYPE_RUNTIME_JOINED: EventType
EVENT_TYPE_RUNTIME_LEFT: EventType
MATCH_KIND_UNSPECIFIED: MatchKind
MATCH_KIND_EXACT: MatchKind
MATCH_KIND_WORD: MatchKind
MATCH_KIND_SUBSTRING: MatchKind

class Skill(_message.Message):
    __slots__ = ("id", "name", "description", "tags")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    description: str
    tags: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., description: _Optional[str] = ..., tags: _Optional[_Iterable[str]] = ...) -> None: ...

class AgentCard(_message.Message):
    __slots__ = ("name", "description", "version", "url", "capabilities", "skills", "labels")
    class LabelsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    NAME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    URL_FIELD_NUMBER: _ClassVar[int]
    CAPABILITIES_FIELD_NUMBER: _ClassVar[int]
    SKILLS_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    name: str
    description: str
    version: str
    url: str
    capabilities: _containers.RepeatedScalarFieldContainer[str]
    skills: _containers.RepeatedCompositeFieldContainer[Skill]
    labels: _containers.ScalarMap[str, str]
    def __init__(self, name: _Optional[str] = ..., description: _Optional[str] = ..., version: _Optional[str] = ..., url: _Optional[str] = ..., capabilities: _Optional[_Iterable[str]] = ..., skills: _Optional[_Iterable[_Union[Skill, _Mapping]]] = ..., labels: _Optional[_Mapping[str, str]] = ...) -> None: ...

class Agent(_message.Message):
    __slots__ = ("agent_id", "runtime_id", "card", "status", "status_reason", "registered_at", "last_heartbeat", "status_changed_at", "revision", "health", "health_reason", "operator_status")
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    RUNTIME_ID_FIELD_NUMBER: _ClassVar[int]
    CARD_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    STATUS_REASON_FIELD_NUMBER: _ClassVar[int]
    REGISTERED_AT_FIELD_NUMBER: _ClassVar[int]
    LAST_HEARTBEAT_FIELD_NUMBER: _ClassVar[int]
    STATUS_CHANGED_AT_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    HEALTH_FIELD_NUMBER: _ClassVar[int]
    HEALTH_REASON_FIELD_NUMBER: _ClassVar[int]
    OPERATOR_STATUS_FIELD_NUMBER: _ClassVar[int]
    agent_id: str
    runtime_id: str
    card: AgentCard
    status: AgentStatus
    status_reason: StatusReason
    registered_at: _timestamp_pb2.Timestamp
    last_heartbeat: _timestamp_pb2.Timestamp
    status_changed_at: _timestamp_pb2.Timestamp
    revision: int
    health: AgentStatus
    health_reason: StatusReason
    operator_status: AgentStatus
    def __init__(self, agent_id: _Optional[str] = ..., runtime_id: _Optional[str] = ..., card: _Optional[_Union[AgentCard, _Mapping]] = ..., status: _Optional[_Union[AgentStatus, str]] = ..., status_reason: _Optional[_Union[StatusReason, str]] = ..., registered_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_heartbeat: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., status_changed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., revision: _Optional[int] = ..., health: _Optional[_Union[AgentStatus, str]] = ..., health_reason: _Optional[_Union[StatusReason, str]] = ..., operator_status: _Optional[_Union[AgentStatus, str]] = ...) -> None: ...

class Event(_message.Message):
    __slots__ = ("revision", "type", "time", "agent_id", "runtime_id", "agent", "old_status", "new_status", "status_reason", "deregister_reason")
    REVISION_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    TIME_FIELD_NUMBER: _ClassVar[int]
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    RUNTIME_ID_FIELD_NUMBER: _ClassVar[int]
    AGENT_FIELD_NUMBER: _ClassVar[int]
    OLD_STATUS_FIELD_NUMBER: _ClassVar[int]
    NEW_STATUS_FIELD_NUMBER: _ClassVar[int]
    STATUS_REASON_FIELD_NUMBER: _ClassVar[int]
    DEREGISTER_REASON_FIELD_NUMBER: _ClassVar[int]
    revision: int
    type: EventType
    time: _timestamp_pb2.Timestamp
    agent_id: str
    runtime_id: str
    agent: Agent
    old_status: AgentStatus
    new_status: AgentStatus
    status_reason: StatusReason
    deregister_reason: DeregisterReason
    def __init__(self, revision: _Optional[int] = ..., type: _Optional[_Union[EventType, str]] = ..., time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., agent_id: _Optional[str] = ..., runtime_id: _Optional[str] = ..., agent: _Optional[_Union[Agent, _Mapping]] = ..., old_status: _Optional[_Union[AgentStatus, str]] = ..., new_status: _Optional[_Union[AgentStatus, str]] = ..., status_reason: _Optional[_Union[StatusReason, str]] = ..., deregister_reason: _Optional[_Union[DeregisterReason, str]] = ...) -> None: ...

class RegisterAgentRequest(_message.Message):
    __slots__ = ("agent_id", "runtime_id", "card", "heartbeat_timeout", "auto_deregister_timeout")
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    RUNTIME_ID_FIELD_NUMBER: _ClassVar[int]
    CARD_FIELD_NUMBER: _ClassVar[int]
    HEARTBEAT_TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    AUTO_DEREGISTER_TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    agent_id: str
    runtime_id: str
    card: AgentCard
    heartbeat_timeout: _duration_pb2.Duration
    auto_deregister_timeout: _duration_pb2.Duration
    def __init__(self, agent_id: _Optional[str] = ..., runtime_id: _Optional[str] = ..., card: _Optional[_Union[AgentCard, _Mapping]] = ..., heartbeat_timeout: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., auto_deregister_timeout: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class RegisterAgentResponse(_message.Message):
    __slots__ = ("agent", "created", "revision", "heartbeat_timeout", "auto_deregister_timeout")
    AGENT_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    HEARTBEAT_TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    AUTO_DEREGISTER_TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    agent: Agent
    created: bool
    revision: int
    heartbeat_timeout: _duration_pb2.Duration
    auto_deregister_timeout: _duration_pb2.Duration
    def __init__(self, agent: _Optional[_Union[Agent, _Mapping]] = ..., created: _Optional[bool] = ..., revision: _Optional[int] = ..., heartbeat_timeout: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., auto_deregister_timeout: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class DeregisterAgentRequest(_message.Message):
    __slots__ = ("agent_id", "runtime_id")
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    RUNTIME_ID_FIELD_NUMBER: _ClassVar[int]
    agent_id: str
    runtime_id: str
    def __init__(self, agent_id: _Optional[str] = ..., runtime_id: _Optional[str] = ...) -> None: ...

class DeregisterAgentResponse(_message.Message):
    __slots__ = ("agent", "revision")
    AGENT_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    agent: Agent
    revision: int
    def __init__(self, agent: _Optional[_Union[Agent, _Mapping]] = ..., revision: _Optional[int] = ...) -> None: ...

class GetAgentRequest(_message.Message):
    __slots__ = ("agent_id",)
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    agent_id: str
    def __init__(self, agent_id: _Optional[str] = ...) -> None: ...

class GetAgentResponse(_message.Message):
    __slots__ = ("agent", "revision")
    AGENT_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    agent: Agent
    revision: int
    def __init__(self, agent: _Optional[_Union[Agent, _Mapping]] = ..., revision: _Optional[int] = ...) -> None: ...

class ListAgentsRequest(_message.Message):
    __slots__ = ("runtime_id", "statuses", "page_size", "page_token")
    RUNTIME_ID_FIELD_NUMBER: _ClassVar[int]
    STATUSES_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    runtime_id: str
    statuses: _containers.RepeatedScalarFieldContainer[AgentStatus]
    page_size: int
    page_token: str
    def __init__(self, runtime_id: _Optional[str] = ..., statuses: _Optional[_Iterable[_Union[AgentStatus, str]]] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListAgentsResponse(_message.Message):
    __slots__ = ("agents", "next_page_token", "revision")
    AGENTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    agents: _containers.RepeatedCompositeFieldContainer[Agent]
    next_page_token: str
    revision: int
    def __init__(self, agents: _Optional[_Iterable[_Union[Agent, _Mapping]]] = ..., next_page_token: _Optional[str] = ..., revision: _Optional[int] = ...) -> None: ...

class FindAgentsRequest(_message.Message):
    __slots__ = ("capability", "statuses", "limit")
    CAPABILITY_FIELD_NUMBER: _ClassVar[int]
    STATUSES_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    capability: str
    statuses: _containers.RepeatedScalarFieldContainer[AgentStatus]
    limit: int
    def __init__(self, capability: _Optional[str] = ..., statuses: _Optional[_Iterable[_Union[AgentStatus, str]]] = ..., limit: _Optional[int] = ...) -> None: ...

class AgentMatch(_message.Message):
    __slots__ = ("agent", "matched_capability", "match_kind")
    AGENT_FIELD_NUMBER: _ClassVar[int]
    MATCHED_CAPABILITY_FIELD_NUMBER: _ClassVar[int]
    MATCH_KIND_FIELD_NUMBER: _ClassVar[int]
    agent: Agent
    matched_capability: str
    match_kind: MatchKind
    def __init__(self, agent: _Optional[_Union[Agent, _Mapping]] = ..., matched_capability: _Optional[str] = ..., match_kind: _Optional[_Union[MatchKind, str]] = ...) -> None: ...

class FindAgentsResponse(_message.Message):
    __slots__ = ("matches", "revision")
    MATCHES_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    matches: _containers.RepeatedCompositeFieldContainer[AgentMatch]
    revision: int
    def __init__(self, matches: _Optional[_Iterable[_Union[AgentMatch, _Mapping]]] = ..., revision: _Optional[int] = ...) -> None: ...

class UpdateAgentStatusRequest(_message.Message):
    __slots__ = ("agent_id", "status", "runtime_id")
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    RUNTIME_ID_FIELD_NUMBER: _ClassVar[int]
    agent_id: str
    status: AgentStatus
    runtime_id: str
    def __init__(self, agent_id: _Optional[str] = ..., status: _Optional[_Union[AgentStatus, str]] = ..., runtime_id: _Optional[str] = ...) -> None: ...

class UpdateAgentStatusResponse(_message.Message):
    __slots__ = ("agent", "changed", "revision")
    AGENT_FIELD_NUMBER: _ClassVar[int]
    CHANGED_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    agent: Agent
    changed: bool
    revision: int
    def __init__(self, agent: _Optional[_Union[Agent, _Mapping]] = ..., changed: _Optional[bool] = ..., revision: _Optional[int] = ...) -> None: ...

class HeartbeatRequest(_message.Message):
    __slots__ = ("runtime_id", "agent_ids", "status", "heartbeat_timeout", "auto_deregister_timeout")
    RUNTIME_ID_FIELD_NUMBER: _ClassVar[int]
    AGENT_IDS_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    HEARTBEAT_TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    AUTO_DEREGISTER_TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    runtime_id: str
    agent_ids: _containers.RepeatedScalarFieldContainer[str]
    status: AgentStatus
    heartbeat_timeout: _duration_pb2.Duration
    auto_deregister_timeout: _duration_pb2.Duration
    def __init__(self, runtime_id: _Optional[str] = ..., agent_ids: _Optional[_Iterable[str]] = ..., status: _Optional[_Union[AgentStatus, str]] = ..., heartbeat_timeout: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., auto_deregister_timeout: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class HeartbeatResponse(_message.Message):
    __slots__ = ("unknown_agent_ids", "server_time", "heartbeat_timeout", "revision", "auto_deregister_timeout", "refused_agent_ids")
    UNKNOWN_AGENT_IDS_FIELD_NUMBER: _ClassVar[int]
    SERVER_TIME_FIELD_NUMBER: _ClassVar[int]
    HEARTBEAT_TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    AUTO_DEREGISTER_TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    REFUSED_AGENT_IDS_FIELD_NUMBER: _ClassVar[int]
    unknown_agent_ids: _containers.RepeatedScalarFieldContainer[str]
    server_time: _timestamp_pb2.Timestamp
    heartbeat_timeout: _duration_pb2.Duration
    revision: int
    auto_deregister_timeout: _duration_pb2.Duration
    refused_agent_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, unknown_agent_ids: _Optional[_Iterable[str]] = ..., server_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., heartbeat_timeout: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., revision: _Optional[int] = ..., auto_deregister_timeout: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., refused_agent_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class Bind(_message.Message):
    __slots__ = ("runtime_id", "agent_ids", "heartbeat_timeout", "auto_deregister_timeout")
    RUNTIME_ID_FIELD_NUMBER: _ClassVar[int]
    AGENT_IDS_FIELD_NUMBER: _ClassVar[int]
    HEARTBEAT_TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    AUTO_DEREGISTER_TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    runtime_id: str
    agent_ids: _containers.RepeatedScalarFieldContainer[str]
    heartbeat_timeout: _duration_pb2.Duration
    auto_deregister_timeout: _duration_pb2.Duration
    def __init__(self, runtime_id: _Optional[str] = ..., agent_ids: _Optional[_Iterable[str]] = ..., heartbeat_timeout: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., auto_deregister_timeout: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class Beat(_message.Message):
    __slots__ = ("agent_ids", "status")
    AGENT_IDS_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    agent_ids: _containers.RepeatedScalarFieldContainer[str]
    status: AgentStatus
    def __init__(self, agent_ids: _Optional[_Iterable[str]] = ..., status: _Optional[_Union[AgentStatus, str]] = ...) -> None: ...

class Unbind(_message.Message):
    __slots__ = ("agent_ids",)
    AGENT_IDS_FIELD_NUMBER: _ClassVar[int]
    agent_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, agent_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class HeartbeatStreamRequest(_message.Message):
    __slots__ = ("sequence", "bind", "beat", "unbind")
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    BIND_FIELD_NUMBER: _ClassVar[int]
    BEAT_FIELD_NUMBER: _ClassVar[int]
    UNBIND_FIELD_NUMBER: _ClassVar[int]
    sequence: int
    bind: Bind
    beat: Beat
    unbind: Unbind
    def __init__(self, sequence: _Optional[int] = ..., bind: _Optional[_Union[Bind, _Mapping]] = ..., beat: _Optional[_Union[Beat, _Mapping]] = ..., unbind: _Optional[_Union[Unbind, _Mapping]] = ...) -> None: ...

class HeartbeatStreamResponse(_message.Message):
    __slots__ = ("sequence", "server_time", "heartbeat_timeout", "unknown_agent_ids", "bound_agents", "auto_deregister_timeout", "refused_agent_ids", "error")
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    SERVER_TIME_FIELD_NUMBER: _ClassVar[int]
    HEARTBEAT_TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    UNKNOWN_AGENT_IDS_FIELD_NUMBER: _ClassVar[int]
    BOUND_AGENTS_FIELD_NUMBER: _ClassVar[int]
    AUTO_DEREGISTER_TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    REFUSED_AGENT_IDS_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    sequence: int
    server_time: _timestamp_pb2.Timestamp
    heartbeat_timeout: _duration_pb2.Duration
    unknown_agent_ids: _containers.RepeatedScalarFieldContainer[str]
    bound_agents: int
    auto_deregister_timeout: _duration_pb2.Duration
    refused_agent_ids: _containers.RepeatedScalarFieldContainer[str]
    error: StreamError
    def __init__(self, sequence: _Optional[int] = ..., server_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., heartbeat_timeout: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., unknown_agent_ids: _Optional[_Iterable[str]] = ..., bound_agents: _Optional[int] = ..., auto_deregister_timeout: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., refused_agent_ids: _Optional[_Iterable[str]] = ..., error: _Optional[_Union[StreamError, _Mapping]] = ...) -> None: ...

class StreamError(_message.Message):
    __slots__ = ("code", "message", "field")
    CODE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    FIELD_FIELD_NUMBER: _ClassVar[int]
    code: str
    message: str
    field: str
    def __init__(self, code: _Optional[str] = ..., message: _Optional[str] = ..., field: _Optional[str] = ...) -> None: ...

class SubscribeRequest(_message.Message):
    __slots__ = ("types", "runtime_id", "agent_id", "from_revision", "heartbeat_digests")
    TYPES_FIELD_NUMBER: _ClassVar[int]
    RUNTIME_ID_FIELD_NUMBER: _ClassVar[int]
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    FROM_REVISION_FIELD_NUMBER: _ClassVar[int]
    HEARTBEAT_DIGESTS_FIELD_NUMBER: _ClassVar[int]
    types: _containers.RepeatedScalarFieldContainer[EventType]
    runtime_id: str
    agent_id: str
    from_revision: int
    heartbeat_digests: bool
    def __init__(self, types: _Optional[_Iterable[_Union[EventType, str]]] = ..., runtime_id: _Optional[str] = ..., agent_id: _Optional[str] = ..., from_revision: _Optional[int] = ..., heartbeat_digests: _Optional[bool] = ...) -> None: ...

class AgentBeat(_message.Message):
    __slots__ = ("agent_id", "last_heartbeat")
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    LAST_HEARTBEAT_FIELD_NUMBER: _ClassVar[int]
    agent_id: str
    last_heartbeat: _timestamp_pb2.Timestamp
    def __init__(self, agent_id: _Optional[str] = ..., last_heartbeat: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class HeartbeatDigest(_message.Message):
    __slots__ = ("beats",)
    BEATS_FIELD_NUMBER: _ClassVar[int]
    beats: _containers.RepeatedCompositeFieldContainer[AgentBeat]
    def __init__(self, beats: _Optional[_Iterable[_Union[AgentBeat, _Mapping]]] = ...) -> None: ...

class Bookmark(_message.Message):
    __slots__ = ("revision",)
    REVISION_FIELD_NUMBER: _ClassVar[int]
    revision: int
    def __init__(self, revision: _Optional[int] = ...) -> None: ...

class SubscribeResponse(_message.Message):
    __slots__ = ("event", "bookmark", "heartbeat_digest")
    EVENT_FIELD_NUMBER: _ClassVar[int]
    BOOKMARK_FIELD_NUMBER: _ClassVar[int]
    HEARTBEAT_DIGEST_FIELD_NUMBER: _ClassVar[int]
    event: Event
    bookmark: Bookmark
    heartbeat_digest: HeartbeatDigest
    def __init__(self, event: _Optional[_Union[Event, _Mapping]] = ..., bookmark: _Optional[_Union[Bookmark, _Mapping]] = ..., heartbeat_digest: _Optional[_Union[HeartbeatDigest, _Mapping]] = ...) -> None: ...

class ListRuntimesRequest(_message.Message):
    __slots__ = ("page_size", "page_token")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class Runtime(_message.Message):
    __slots__ = ("runtime_id", "agent_ids", "agent_count", "stream_connected", "heartbeat_timeout", "auto_deregister_timeout")
    RUNTIME_ID_FIELD_NUMBER: _ClassVar[int]
    AGENT_IDS_FIELD_NUMBER: _ClassVar[int]
    AGENT_COUNT_FIELD_NUMBER: _ClassVar[int]
    STREAM_CONNECTED_FIELD_NUMBER: _ClassVar[int]
    HEARTBEAT_TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    AUTO_DEREGISTER_TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    runtime_id: str
    agent_ids: _containers.RepeatedScalarFieldContainer[str]
    agent_count: int
    stream_connected: bool
    heartbeat_timeout: _duration_pb2.Duration
    auto_deregister_timeout: _duration_pb2.Duration
    def __init__(self, runtime_id: _Optional[str] = ..., agent_ids: _Optional[_Iterable[str]] = ..., agent_count: _Optional[int] = ..., stream_connected: _Optional[bool] = ..., heartbeat_timeout: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., auto_deregister_timeout: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class ListRuntimesResponse(_message.Message):
    __slots__ = ("runtimes", "revision", "next_page_token")
    RUNTIMES_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    runtimes: _containers.RepeatedCompositeFieldContainer[Runtime]
    revision: int
    next_page_token: str
    def __init__(self, runtimes: _Optional[_Iterable[_Union[Runtime, _Mapping]]] = ..., revision: _Optional[int] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetStatsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetStatsResponse(_message.Message):
    __slots__ = ("total_agents", "total_runtimes", "status_distribution", "runtime_distribution", "total_queries", "total_registrations", "total_deregistrations", "capability_index_size", "revision", "compacted_revision", "subscribers", "heartbeat_streams", "expiry_guard_active")
    class StatusDistributionEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    class RuntimeDistributionEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    TOTAL_AGENTS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_RUNTIMES_FIELD_NUMBER: _ClassVar[int]
    STATUS_DISTRIBUTION_FIELD_NUMBER: _ClassVar[int]
    RUNTIME_DISTRIBUTION_FIELD_NUMBER: _ClassVar[int]
    TOTAL_QUERIES_FIELD_NUMBER: _ClassVar[int]
    TOTAL_REGISTRATIONS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_DEREGISTRATIONS_FIELD_NUMBER: _ClassVar[int]
    CAPABILITY_INDEX_SIZE_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    COMPACTED_REVISION_FIELD_NUMBER: _ClassVar[int]
    SUBSCRIBERS_FIELD_NUMBER: _ClassVar[int]
    HEARTBEAT_STREAMS_FIELD_NUMBER: _ClassVar[int]
    EXPIRY_GUARD_ACTIVE_FIELD_NUMBER: _ClassVar[int]
    total_agents: int
    total_runtimes: int
    status_distribution: _containers.ScalarMap[str, int]
    runtime_distribution: _containers.ScalarMap[str, int]
    total_queries: int
    total_registrations: int
    total_deregistrations: int
    capability_index_size: int
    revision: int
    compacted_revision: int
    subscribers: int
    heartbeat_streams: int
    expiry_guard_active: bool
    def __init__(self, total_agents: _Optional[int] = ..., total_runtimes: _Optional[int] = ..., status_distribution: _Optional[_Mapping[str, int]] = ..., runtime_distribution: _Optional[_Mapping[str, int]] = ..., total_queries: _Optional[int] = ..., total_registrations: _Optional[int] = ..., total_deregistrations: _Optional[int] = ..., capability_index_size: _Optional[int] = ..., revision: _Optional[int] = ..., compacted_revision: _Optional[int] = ..., subscribers: _Optional[int] = ..., heartbeat_streams: _Optional[int] = ..., expiry_guard_active: _Optional[bool] = ...) -> None: ...
