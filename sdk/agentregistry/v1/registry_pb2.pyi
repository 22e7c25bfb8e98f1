import datetime

from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import struct_pb2 as _struct_pb2
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
    MATCH_KIND_FILTER: _ClassVar[MatchKind]

class SelectionStrategy(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SELECTION_STRATEGY_UNSPECIFIED: _ClassVar[SelectionStrategy]
    SELECTION_STRATEGY_P2C: _ClassVar[SelectionStrategy]
    SELECTION_STRATEGY_LEAST_LOADED: _ClassVar[SelectionStrategy]
    SELECTION_STRATEGY_ROUND_ROBIN: _ClassVar[SelectionStrategy]
    SELECTION_STRATEGY_RANDOM: _ClassVar[SelectionStrategy]
    SELECTION_STRATEGY_AFFINITY: _ClassVar[SelectionStrategy]

class ReservationOutcome(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RESERVATION_OUTCOME_UNSPECIFIED: _ClassVar[ReservationOutcome]
    RESERVATION_OUTCOME_OK: _ClassVar[ReservationOutcome]
    RESERVATION_OUTCOME_ERROR: _ClassVar[ReservationOutcome]
    RESERVATION_OUTCOME_TIMEOUT: _ClassVar[ReservationOutcome]
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
MATCH_KIND_FILTER: MatchKind
SELECTION_STRATEGY_UNSPECIFIED: SelectionStrategy
SELECTION_STRATEGY_P2C: SelectionStrategy
SELECTION_STRATEGY_LEAST_LOADED: SelectionStrategy
SELECTION_STRATEGY_ROUND_ROBIN: SelectionStrategy
SELECTION_STRATEGY_RANDOM: SelectionStrategy
SELECTION_STRATEGY_AFFINITY: SelectionStrategy
RESERVATION_OUTCOME_UNSPECIFIED: ReservationOutcome
RESERVATION_OUTCOME_OK: ReservationOutcome
RESERVATION_OUTCOME_ERROR: ReservationOutcome
RESERVATION_OUTCOME_TIMEOUT: ReservationOutcome

class LoadReport(_message.Message):
    __slots__ = ("agent_ids", "in_flight", "max_concurrency", "queue_depth", "accepting", "utilization", "latency_ewma")
    AGENT_IDS_FIELD_NUMBER: _ClassVar[int]
    IN_FLIGHT_FIELD_NUMBER: _ClassVar[int]
    MAX_CONCURRENCY_FIELD_NUMBER: _ClassVar[int]
    QUEUE_DEPTH_FIELD_NUMBER: _ClassVar[int]
    ACCEPTING_FIELD_NUMBER: _ClassVar[int]
    UTILIZATION_FIELD_NUMBER: _ClassVar[int]
    LATENCY_EWMA_FIELD_NUMBER: _ClassVar[int]
    agent_ids: _containers.RepeatedScalarFieldContainer[str]
    in_flight: int
    max_concurrency: int
    queue_depth: int
    accepting: bool
    utilization: float
    latency_ewma: _duration_pb2.Duration
    def __init__(self, agent_ids: _Optional[_Iterable[str]] = ..., in_flight: _Optional[int] = ..., max_concurrency: _Optional[int] = ..., queue_depth: _Optional[int] = ..., accepting: _Optional[bool] = ..., utilization: _Optional[float] = ..., latency_ewma: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class AgentLoad(_message.Message):
    __slots__ = ("in_flight", "max_concurrency", "queue_depth", "known", "error_rate", "utilization", "latency_ewma")
    IN_FLIGHT_FIELD_NUMBER: _ClassVar[int]
    MAX_CONCURRENCY_FIELD_NUMBER: _ClassVar[int]
    QUEUE_DEPTH_FIELD_NUMBER: _ClassVar[int]
    KNOWN_FIELD_NUMBER: _ClassVar[int]
    ERROR_RATE_FIELD_NUMBER: _ClassVar[int]
    UTILIZATION_FIELD_NUMBER: _ClassVar[int]
    LATENCY_EWMA_FIELD_NUMBER: _ClassVar[int]
    in_flight: int
    max_concurrency: int
    queue_depth: int
    known: bool
    error_rate: float
    utilization: float
    latency_ewma: _duration_pb2.Duration
    def __init__(self, in_flight: _Optional[int] = ..., max_concurrency: _Optional[int] = ..., queue_depth: _Optional[int] = ..., known: _Optional[bool] = ..., error_rate: _Optional[float] = ..., utilization: _Optional[float] = ..., latency_ewma: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class Reservation(_message.Message):
    __slots__ = ("reservation_id", "agent_id", "ttl", "expires_at")
    RESERVATION_ID_FIELD_NUMBER: _ClassVar[int]
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    TTL_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    reservation_id: str
    agent_id: str
    ttl: _duration_pb2.Duration
    expires_at: _timestamp_pb2.Timestamp
    def __init__(self, reservation_id: _Optional[str] = ..., agent_id: _Optional[str] = ..., ttl: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., expires_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class AgentInterface(_message.Message):
    __slots__ = ("url", "protocol_binding", "tenant", "protocol_version")
    URL_FIELD_NUMBER: _ClassVar[int]
    PROTOCOL_BINDING_FIELD_NUMBER: _ClassVar[int]
    TENANT_FIELD_NUMBER: _ClassVar[int]
    PROTOCOL_VERSION_FIELD_NUMBER: _ClassVar[int]
    url: str
    protocol_binding: str
    tenant: str
    protocol_version: str
    def __init__(self, url: _Optional[str] = ..., protocol_binding: _Optional[str] = ..., tenant: _Optional[str] = ..., protocol_version: _Optional[str] = ...) -> None: ...

class AgentProvider(_message.Message):
    __slots__ = ("url", "organization")
    URL_FIELD_NUMBER: _ClassVar[int]
    ORGANIZATION_FIELD_NUMBER: _ClassVar[int]
    url: str
    organization: str
    def __init__(self, url: _Optional[str] = ..., organization: _Optional[str] = ...) -> None: ...

class AgentExtension(_message.Message):
    __slots__ = ("uri", "description", "required", "params")
    URI_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    REQUIRED_FIELD_NUMBER: _ClassVar[int]
    PARAMS_FIELD_NUMBER: _ClassVar[int]
    uri: str
    description: str
    required: bool
    params: _struct_pb2.Struct
    def __init__(self, uri: _Optional[str] = ..., description: _Optional[str] = ..., required: _Optional[bool] = ..., params: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class AgentCapabilities(_message.Message):
    __slots__ = ("streaming", "push_notifications", "extensions", "extended_agent_card")
    STREAMING_FIELD_NUMBER: _ClassVar[int]
    PUSH_NOTIFICATIONS_FIELD_NUMBER: _ClassVar[int]
    EXTENSIONS_FIELD_NUMBER: _ClassVar[int]
    EXTENDED_AGENT_CARD_FIELD_NUMBER: _ClassVar[int]
    streaming: bool
    push_notifications: bool
    extensions: _containers.RepeatedCompositeFieldContainer[AgentExtension]
    extended_agent_card: bool
    def __init__(self, streaming: _Optional[bool] = ..., push_notifications: _Optional[bool] = ..., extensions: _Optional[_Iterable[_Union[AgentExtension, _Mapping]]] = ..., extended_agent_card: _Optional[bool] = ...) -> None: ...

class StringList(_message.Message):
    __slots__ = ("list",)
    LIST_FIELD_NUMBER: _ClassVar[int]
    list: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, list: _Optional[_Iterable[str]] = ...) -> None: ...

class SecurityRequirement(_message.Message):
    __slots__ = ("schemes",)
    class SchemesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: StringList
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[StringList, _Mapping]] = ...) -> None: ...
    SCHEMES_FIELD_NUMBER: _ClassVar[int]
    schemes: _containers.MessageMap[str, StringList]
    def __init__(self, schemes: _Optional[_Mapping[str, StringList]] = ...) -> None: ...

class SecurityScheme(_message.Message):
    __slots__ = ("api_key_security_scheme", "http_auth_security_scheme", "oauth2_security_scheme", "open_id_connect_security_scheme", "mtls_security_scheme")
    API_KEY_SECURITY_SCHEME_FIELD_NUMBER: _ClassVar[int]
    HTTP_AUTH_SECURITY_SCHEME_FIELD_NUMBER: _ClassVar[int]
    OAUTH2_SECURITY_SCHEME_FIELD_NUMBER: _ClassVar[int]
    OPEN_ID_CONNECT_SECURITY_SCHEME_FIELD_NUMBER: _ClassVar[int]
    MTLS_SECURITY_SCHEME_FIELD_NUMBER: _ClassVar[int]
    api_key_security_scheme: APIKeySecurityScheme
    http_auth_security_scheme: HTTPAuthSecurityScheme
    oauth2_security_scheme: OAuth2SecurityScheme
    open_id_connect_security_scheme: OpenIdConnectSecurityScheme
    mtls_security_scheme: MutualTlsSecurityScheme
    def __init__(self, api_key_security_scheme: _Optional[_Union[APIKeySecurityScheme, _Mapping]] = ..., http_auth_security_scheme: _Optional[_Union[HTTPAuthSecurityScheme, _Mapping]] = ..., oauth2_security_scheme: _Optional[_Union[OAuth2SecurityScheme, _Mapping]] = ..., open_id_connect_security_scheme: _Optional[_Union[OpenIdConnectSecurityScheme, _Mapping]] = ..., mtls_security_scheme: _Optional[_Union[MutualTlsSecurityScheme, _Mapping]] = ...) -> None: ...

class APIKeySecurityScheme(_message.Message):
    __slots__ = ("description", "location", "name")
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    LOCATION_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    description: str
    location: str
    name: str
    def __init__(self, description: _Optional[str] = ..., location: _Optional[str] = ..., name: _Optional[str] = ...) -> None: ...

class HTTPAuthSecurityScheme(_message.Message):
    __slots__ = ("description", "scheme", "bearer_format")
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    SCHEME_FIELD_NUMBER: _ClassVar[int]
    BEARER_FORMAT_FIELD_NUMBER: _ClassVar[int]
    description: str
    scheme: str
    bearer_format: str
    def __init__(self, description: _Optional[str] = ..., scheme: _Optional[str] = ..., bearer_format: _Optional[str] = ...) -> None: ...

class OAuth2SecurityScheme(_message.Message):
    __slots__ = ("description", "flows", "oauth2_metadata_url")
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    FLOWS_FIELD_NUMBER: _ClassVar[int]
    OAUTH2_METADATA_URL_FIELD_NUMBER: _ClassVar[int]
    description: str
    flows: OAuthFlows
    oauth2_metadata_url: str
    def __init__(self, description: _Optional[str] = ..., flows: _Optional[_Union[OAuthFlows, _Mapping]] = ..., oauth2_metadata_url: _Optional[str] = ...) -> None: ...

class OpenIdConnectSecurityScheme(_message.Message):
    __slots__ = ("description", "open_id_connect_url")
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    OPEN_ID_CONNECT_URL_FIELD_NUMBER: _ClassVar[int]
    description: str
    open_id_connect_url: str
    def __init__(self, description: _Optional[str] = ..., open_id_connect_url: _Optional[str] = ...) -> None: ...

class MutualTlsSecurityScheme(_message.Message):
    __slots__ = ("description",)
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    description: str
    def __init__(self, description: _Optional[str] = ...) -> None: ...

class OAuthFlows(_message.Message):
    __slots__ = ("authorization_code", "client_credentials", "implicit", "password", "device_code")
    AUTHORIZATION_CODE_FIELD_NUMBER: _ClassVar[int]
    CLIENT_CREDENTIALS_FIELD_NUMBER: _ClassVar[int]
    IMPLICIT_FIELD_NUMBER: _ClassVar[int]
    PASSWORD_FIELD_NUMBER: _ClassVar[int]
    DEVICE_CODE_FIELD_NUMBER: _ClassVar[int]
    authorization_code: AuthorizationCodeOAuthFlow
    client_credentials: ClientCredentialsOAuthFlow
    implicit: ImplicitOAuthFlow
    password: PasswordOAuthFlow
    device_code: DeviceCodeOAuthFlow
    def __init__(self, authorization_code: _Optional[_Union[AuthorizationCodeOAuthFlow, _Mapping]] = ..., client_credentials: _Optional[_Union[ClientCredentialsOAuthFlow, _Mapping]] = ..., implicit: _Optional[_Union[ImplicitOAuthFlow, _Mapping]] = ..., password: _Optional[_Union[PasswordOAuthFlow, _Mapping]] = ..., device_code: _Optional[_Union[DeviceCodeOAuthFlow, _Mapping]] = ...) -> None: ...

class AuthorizationCodeOAuthFlow(_message.Message):
    __slots__ = ("authorization_url", "token_url", "refresh_url", "scopes", "pkce_required")
    class ScopesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    AUTHORIZATION_URL_FIELD_NUMBER: _ClassVar[int]
    TOKEN_URL_FIELD_NUMBER: _ClassVar[int]
    REFRESH_URL_FIELD_NUMBER: _ClassVar[int]
    SCOPES_FIELD_NUMBER: _ClassVar[int]
    PKCE_REQUIRED_FIELD_NUMBER: _ClassVar[int]
    authorization_url: str
    token_url: str
    refresh_url: str
    scopes: _containers.ScalarMap[str, str]
    pkce_required: bool
    def __init__(self, authorization_url: _Optional[str] = ..., token_url: _Optional[str] = ..., refresh_url: _Optional[str] = ..., scopes: _Optional[_Mapping[str, str]] = ..., pkce_required: _Optional[bool] = ...) -> None: ...

class ClientCredentialsOAuthFlow(_message.Message):
    __slots__ = ("token_url", "refresh_url", "scopes")
    class ScopesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    TOKEN_URL_FIELD_NUMBER: _ClassVar[int]
    REFRESH_URL_FIELD_NUMBER: _ClassVar[int]
    SCOPES_FIELD_NUMBER: _ClassVar[int]
    token_url: str
    refresh_url: str
    scopes: _containers.ScalarMap[str, str]
    def __init__(self, token_url: _Optional[str] = ..., refresh_url: _Optional[str] = ..., scopes: _Optional[_Mapping[str, str]] = ...) -> None: ...

class ImplicitOAuthFlow(_message.Message):
    __slots__ = ("authorization_url", "refresh_url", "scopes")
    class ScopesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    AUTHORIZATION_URL_FIELD_NUMBER: _ClassVar[int]
    REFRESH_URL_FIELD_NUMBER: _ClassVar[int]
    SCOPES_FIELD_NUMBER: _ClassVar[int]
    authorization_url: str
    refresh_url: str
    scopes: _containers.ScalarMap[str, str]
    def __init__(self, authorization_url: _Optional[str] = ..., refresh_url: _Optional[str] = ..., scopes: _Optional[_Mapping[str, str]] = ...) -> None: ...

class PasswordOAuthFlow(_message.Message):
    __slots__ = ("token_url", "refresh_url", "scopes")
    class ScopesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    TOKEN_URL_FIELD_NUMBER: _ClassVar[int]
    REFRESH_URL_FIELD_NUMBER: _ClassVar[int]
    SCOPES_FIELD_NUMBER: _ClassVar[int]
    token_url: str
    refresh_url: str
    scopes: _containers.ScalarMap[str, str]
    def __init__(self, token_url: _Optional[str] = ..., refresh_url: _Optional[str] = ..., scopes: _Optional[_Mapping[str, str]] = ...) -> None: ...

class DeviceCodeOAuthFlow(_message.Message):
    __slots__ = ("device_authorization_url", "token_url", "refresh_url", "scopes")
    class ScopesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    DEVICE_AUTHORIZATION_URL_FIELD_NUMBER: _ClassVar[int]
    TOKEN_URL_FIELD_NUMBER: _ClassVar[int]
    REFRESH_URL_FIELD_NUMBER: _ClassVar[int]
    SCOPES_FIELD_NUMBER: _ClassVar[int]
    device_authorization_url: str
    token_url: str
    refresh_url: str
    scopes: _containers.ScalarMap[str, str]
    def __init__(self, device_authorization_url: _Optional[str] = ..., token_url: _Optional[str] = ..., refresh_url: _Optional[str] = ..., scopes: _Optional[_Mapping[str, str]] = ...) -> None: ...

class AgentCardSignature(_message.Message):
    __slots__ = ("protected", "signature", "header")
    PROTECTED_FIELD_NUMBER: _ClassVar[int]
    SIGNATURE_FIELD_NUMBER: _ClassVar[int]
    HEADER_FIELD_NUMBER: _ClassVar[int]
    protected: str
    signature: str
    header: _struct_pb2.Struct
    def __init__(self, protected: _Optional[str] = ..., signature: _Optional[str] = ..., header: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class Skill(_message.Message):
    __slots__ = ("id", "name", "description", "tags", "examples", "input_modes", "output_modes", "security_requirements")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    EXAMPLES_FIELD_NUMBER: _ClassVar[int]
    INPUT_MODES_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_MODES_FIELD_NUMBER: _ClassVar[int]
    SECURITY_REQUIREMENTS_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    description: str
    tags: _containers.RepeatedScalarFieldContainer[str]
    examples: _containers.RepeatedScalarFieldContainer[str]
    input_modes: _containers.RepeatedScalarFieldContainer[str]
    output_modes: _containers.RepeatedScalarFieldContainer[str]
    security_requirements: _containers.RepeatedCompositeFieldContainer[SecurityRequirement]
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., description: _Optional[str] = ..., tags: _Optional[_Iterable[str]] = ..., examples: _Optional[_Iterable[str]] = ..., input_modes: _Optional[_Iterable[str]] = ..., output_modes: _Optional[_Iterable[str]] = ..., security_requirements: _Optional[_Iterable[_Union[SecurityRequirement, _Mapping]]] = ...) -> None: ...

class AgentCard(_message.Message):
    __slots__ = ("name", "description", "version", "url", "capability_phrases", "skills", "labels", "supported_interfaces", "provider", "documentation_url", "capabilities", "security_schemes", "security_requirements", "default_input_modes", "default_output_modes", "signatures", "icon_url")
    class LabelsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    class SecuritySchemesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: SecurityScheme
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[SecurityScheme, _Mapping]] = ...) -> None: ...
    NAME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    URL_FIELD_NUMBER: _ClassVar[int]
    CAPABILITY_PHRASES_FIELD_NUMBER: _ClassVar[int]
    SKILLS_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    SUPPORTED_INTERFACES_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    DOCUMENTATION_URL_FIELD_NUMBER: _ClassVar[int]
    CAPABILITIES_FIELD_NUMBER: _ClassVar[int]
    SECURITY_SCHEMES_FIELD_NUMBER: _ClassVar[int]
    SECURITY_REQUIREMENTS_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_INPUT_MODES_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_OUTPUT_MODES_FIELD_NUMBER: _ClassVar[int]
    SIGNATURES_FIELD_NUMBER: _ClassVar[int]
    ICON_URL_FIELD_NUMBER: _ClassVar[int]
    name: str
    description: str
    version: str
    url: str
    capability_phrases: _containers.RepeatedScalarFieldContainer[str]
    skills: _containers.RepeatedCompositeFieldContainer[Skill]
    labels: _containers.ScalarMap[str, str]
    supported_interfaces: _containers.RepeatedCompositeFieldContainer[AgentInterface]
    provider: AgentProvider
    documentation_url: str
    capabilities: AgentCapabilities
    security_schemes: _containers.MessageMap[str, SecurityScheme]
    security_requirements: _containers.RepeatedCompositeFieldContainer[SecurityRequirement]
    default_input_modes: _containers.RepeatedScalarFieldContainer[str]
    default_output_modes: _containers.RepeatedScalarFieldContainer[str]
    signatures: _containers.RepeatedCompositeFieldContainer[AgentCardSignature]
    icon_url: str
    def __init__(self, name: _Optional[str] = ..., description: _Optional[str] = ..., version: _Optional[str] = ..., url: _Optional[str] = ..., capability_phrases: _Optional[_Iterable[str]] = ..., skills: _Optional[_Iterable[_Union[Skill, _Mapping]]] = ..., labels: _Optional[_Mapping[str, str]] = ..., supported_interfaces: _Optional[_Iterable[_Union[AgentInterface, _Mapping]]] = ..., provider: _Optional[_Union[AgentProvider, _Mapping]] = ..., documentation_url: _Optional[str] = ..., capabilities: _Optional[_Union[AgentCapabilities, _Mapping]] = ..., security_schemes: _Optional[_Mapping[str, SecurityScheme]] = ..., security_requirements: _Optional[_Iterable[_Union[SecurityRequirement, _Mapping]]] = ..., default_input_modes: _Optional[_Iterable[str]] = ..., default_output_modes: _Optional[_Iterable[str]] = ..., signatures: _Optional[_Iterable[_Union[AgentCardSignature, _Mapping]]] = ..., icon_url: _Optional[str] = ...) -> None: ...

class Agent(_message.Message):
    __slots__ = ("agent_id", "runtime_id", "card", "status", "status_reason", "registered_at", "last_heartbeat", "status_changed_at", "revision", "health", "health_reason", "operator_status", "capabilities", "labels", "verified")
    class LabelsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
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
    CAPABILITIES_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    VERIFIED_FIELD_NUMBER: _ClassVar[int]
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
    capabilities: _containers.RepeatedScalarFieldContainer[str]
    labels: _containers.ScalarMap[str, str]
    verified: bool
    def __init__(self, agent_id: _Optional[str] = ..., runtime_id: _Optional[str] = ..., card: _Optional[_Union[AgentCard, _Mapping]] = ..., status: _Optional[_Union[AgentStatus, str]] = ..., status_reason: _Optional[_Union[StatusReason, str]] = ..., registered_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_heartbeat: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., status_changed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., revision: _Optional[int] = ..., health: _Optional[_Union[AgentStatus, str]] = ..., health_reason: _Optional[_Union[StatusReason, str]] = ..., operator_status: _Optional[_Union[AgentStatus, str]] = ..., capabilities: _Optional[_Iterable[str]] = ..., labels: _Optional[_Mapping[str, str]] = ..., verified: _Optional[bool] = ...) -> None: ...

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
    __slots__ = ("agent_id", "runtime_id", "card", "heartbeat_timeout", "auto_deregister_timeout", "capabilities", "labels")
    class LabelsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    RUNTIME_ID_FIELD_NUMBER: _ClassVar[int]
    CARD_FIELD_NUMBER: _ClassVar[int]
    HEARTBEAT_TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    AUTO_DEREGISTER_TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    CAPABILITIES_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    agent_id: str
    runtime_id: str
    card: AgentCard
    heartbeat_timeout: _duration_pb2.Duration
    auto_deregister_timeout: _duration_pb2.Duration
    capabilities: _containers.RepeatedScalarFieldContainer[str]
    labels: _containers.ScalarMap[str, str]
    def __init__(self, agent_id: _Optional[str] = ..., runtime_id: _Optional[str] = ..., card: _Optional[_Union[AgentCard, _Mapping]] = ..., heartbeat_timeout: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., auto_deregister_timeout: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., capabilities: _Optional[_Iterable[str]] = ..., labels: _Optional[_Mapping[str, str]] = ...) -> None: ...

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
    __slots__ = ("agent_id", "consistent")
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    CONSISTENT_FIELD_NUMBER: _ClassVar[int]
    agent_id: str
    consistent: bool
    def __init__(self, agent_id: _Optional[str] = ..., consistent: _Optional[bool] = ...) -> None: ...

class GetAgentResponse(_message.Message):
    __slots__ = ("agent", "revision")
    AGENT_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    agent: Agent
    revision: int
    def __init__(self, agent: _Optional[_Union[Agent, _Mapping]] = ..., revision: _Optional[int] = ...) -> None: ...

class AgentFilter(_message.Message):
    __slots__ = ("skill_ids", "tags", "input_modes", "output_modes", "protocol_bindings", "streaming", "push_notifications", "provider", "verified", "label_selector")
    SKILL_IDS_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    INPUT_MODES_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_MODES_FIELD_NUMBER: _ClassVar[int]
    PROTOCOL_BINDINGS_FIELD_NUMBER: _ClassVar[int]
    STREAMING_FIELD_NUMBER: _ClassVar[int]
    PUSH_NOTIFICATIONS_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    VERIFIED_FIELD_NUMBER: _ClassVar[int]
    LABEL_SELECTOR_FIELD_NUMBER: _ClassVar[int]
    skill_ids: _containers.RepeatedScalarFieldContainer[str]
    tags: _containers.RepeatedScalarFieldContainer[str]
    input_modes: _containers.RepeatedScalarFieldContainer[str]
    output_modes: _containers.RepeatedScalarFieldContainer[str]
    protocol_bindings: _containers.RepeatedScalarFieldContainer[str]
    streaming: bool
    push_notifications: bool
    provider: str
    verified: bool
    label_selector: str
    def __init__(self, skill_ids: _Optional[_Iterable[str]] = ..., tags: _Optional[_Iterable[str]] = ..., input_modes: _Optional[_Iterable[str]] = ..., output_modes: _Optional[_Iterable[str]] = ..., protocol_bindings: _Optional[_Iterable[str]] = ..., streaming: _Optional[bool] = ..., push_notifications: _Optional[bool] = ..., provider: _Optional[str] = ..., verified: _Optional[bool] = ..., label_selector: _Optional[str] = ...) -> None: ...

class ListAgentsRequest(_message.Message):
    __slots__ = ("runtime_id", "statuses", "page_size", "page_token", "filter", "consistent")
    RUNTIME_ID_FIELD_NUMBER: _ClassVar[int]
    STATUSES_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    FILTER_FIELD_NUMBER: _ClassVar[int]
    CONSISTENT_FIELD_NUMBER: _ClassVar[int]
    runtime_id: str
    statuses: _containers.RepeatedScalarFieldContainer[AgentStatus]
    page_size: int
    page_token: str
    filter: AgentFilter
    consistent: bool
    def __init__(self, runtime_id: _Optional[str] = ..., statuses: _Optional[_Iterable[_Union[AgentStatus, str]]] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., filter: _Optional[_Union[AgentFilter, _Mapping]] = ..., consistent: _Optional[bool] = ...) -> None: ...

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
    __slots__ = ("capability", "statuses", "limit", "filter", "consistent")
    CAPABILITY_FIELD_NUMBER: _ClassVar[int]
    STATUSES_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    FILTER_FIELD_NUMBER: _ClassVar[int]
    CONSISTENT_FIELD_NUMBER: _ClassVar[int]
    capability: str
    statuses: _containers.RepeatedScalarFieldContainer[AgentStatus]
    limit: int
    filter: AgentFilter
    consistent: bool
    def __init__(self, capability: _Optional[str] = ..., statuses: _Optional[_Iterable[_Union[AgentStatus, str]]] = ..., limit: _Optional[int] = ..., filter: _Optional[_Union[AgentFilter, _Mapping]] = ..., consistent: _Optional[bool] = ...) -> None: ...

class SelectAgentRequest(_message.Message):
    __slots__ = ("capability", "filter", "strategy", "affinity_key", "exclude_agent_ids", "exclude_runtime_ids", "allow_degraded", "reserve", "reservation_ttl", "wait_timeout", "consistent")
    CAPABILITY_FIELD_NUMBER: _ClassVar[int]
    FILTER_FIELD_NUMBER: _ClassVar[int]
    STRATEGY_FIELD_NUMBER: _ClassVar[int]
    AFFINITY_KEY_FIELD_NUMBER: _ClassVar[int]
    EXCLUDE_AGENT_IDS_FIELD_NUMBER: _ClassVar[int]
    EXCLUDE_RUNTIME_IDS_FIELD_NUMBER: _ClassVar[int]
    ALLOW_DEGRADED_FIELD_NUMBER: _ClassVar[int]
    RESERVE_FIELD_NUMBER: _ClassVar[int]
    RESERVATION_TTL_FIELD_NUMBER: _ClassVar[int]
    WAIT_TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    CONSISTENT_FIELD_NUMBER: _ClassVar[int]
    capability: str
    filter: AgentFilter
    strategy: SelectionStrategy
    affinity_key: str
    exclude_agent_ids: _containers.RepeatedScalarFieldContainer[str]
    exclude_runtime_ids: _containers.RepeatedScalarFieldContainer[str]
    allow_degraded: bool
    reserve: bool
    reservation_ttl: _duration_pb2.Duration
    wait_timeout: _duration_pb2.Duration
    consistent: bool
    def __init__(self, capability: _Optional[str] = ..., filter: _Optional[_Union[AgentFilter, _Mapping]] = ..., strategy: _Optional[_Union[SelectionStrategy, str]] = ..., affinity_key: _Optional[str] = ..., exclude_agent_ids: _Optional[_Iterable[str]] = ..., exclude_runtime_ids: _Optional[_Iterable[str]] = ..., allow_degraded: _Optional[bool] = ..., reserve: _Optional[bool] = ..., reservation_ttl: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., wait_timeout: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., consistent: _Optional[bool] = ...) -> None: ...

class SelectAgentResponse(_message.Message):
    __slots__ = ("agent", "reason", "load", "reservation", "matched", "eligible")
    AGENT_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    LOAD_FIELD_NUMBER: _ClassVar[int]
    RESERVATION_FIELD_NUMBER: _ClassVar[int]
    MATCHED_FIELD_NUMBER: _ClassVar[int]
    ELIGIBLE_FIELD_NUMBER: _ClassVar[int]
    agent: Agent
    reason: str
    load: AgentLoad
    reservation: Reservation
    matched: int
    eligible: int
    def __init__(self, agent: _Optional[_Union[Agent, _Mapping]] = ..., reason: _Optional[str] = ..., load: _Optional[_Union[AgentLoad, _Mapping]] = ..., reservation: _Optional[_Union[Reservation, _Mapping]] = ..., matched: _Optional[int] = ..., eligible: _Optional[int] = ...) -> None: ...

class ReleaseReservationRequest(_message.Message):
    __slots__ = ("reservation_id", "outcome")
    RESERVATION_ID_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    reservation_id: str
    outcome: ReservationOutcome
    def __init__(self, reservation_id: _Optional[str] = ..., outcome: _Optional[_Union[ReservationOutcome, str]] = ...) -> None: ...

class ReleaseReservationResponse(_message.Message):
    __slots__ = ("agent_id",)
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    agent_id: str
    def __init__(self, agent_id: _Optional[str] = ...) -> None: ...

class RenewReservationRequest(_message.Message):
    __slots__ = ("reservation_id", "ttl")
    RESERVATION_ID_FIELD_NUMBER: _ClassVar[int]
    TTL_FIELD_NUMBER: _ClassVar[int]
    reservation_id: str
    ttl: _duration_pb2.Duration
    def __init__(self, reservation_id: _Optional[str] = ..., ttl: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class RenewReservationResponse(_message.Message):
    __slots__ = ("reservation",)
    RESERVATION_FIELD_NUMBER: _ClassVar[int]
    reservation: Reservation
    def __init__(self, reservation: _Optional[_Union[Reservation, _Mapping]] = ...) -> None: ...

class AgentMatch(_message.Message):
    __slots__ = ("agent", "matched_capability", "match_kind", "matched_field")
    AGENT_FIELD_NUMBER: _ClassVar[int]
    MATCHED_CAPABILITY_FIELD_NUMBER: _ClassVar[int]
    MATCH_KIND_FIELD_NUMBER: _ClassVar[int]
    MATCHED_FIELD_FIELD_NUMBER: _ClassVar[int]
    agent: Agent
    matched_capability: str
    match_kind: MatchKind
    matched_field: str
    def __init__(self, agent: _Optional[_Union[Agent, _Mapping]] = ..., matched_capability: _Optional[str] = ..., match_kind: _Optional[_Union[MatchKind, str]] = ..., matched_field: _Optional[str] = ...) -> None: ...

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
    __slots__ = ("runtime_id", "agent_ids", "status", "heartbeat_timeout", "auto_deregister_timeout", "loads")
    RUNTIME_ID_FIELD_NUMBER: _ClassVar[int]
    AGENT_IDS_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    HEARTBEAT_TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    AUTO_DEREGISTER_TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    LOADS_FIELD_NUMBER: _ClassVar[int]
    runtime_id: str
    agent_ids: _containers.RepeatedScalarFieldContainer[str]
    status: AgentStatus
    heartbeat_timeout: _duration_pb2.Duration
    auto_deregister_timeout: _duration_pb2.Duration
    loads: _containers.RepeatedCompositeFieldContainer[LoadReport]
    def __init__(self, runtime_id: _Optional[str] = ..., agent_ids: _Optional[_Iterable[str]] = ..., status: _Optional[_Union[AgentStatus, str]] = ..., heartbeat_timeout: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., auto_deregister_timeout: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., loads: _Optional[_Iterable[_Union[LoadReport, _Mapping]]] = ...) -> None: ...

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
    __slots__ = ("agent_ids", "status", "loads")
    AGENT_IDS_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    LOADS_FIELD_NUMBER: _ClassVar[int]
    agent_ids: _containers.RepeatedScalarFieldContainer[str]
    status: AgentStatus
    loads: _containers.RepeatedCompositeFieldContainer[LoadReport]
    def __init__(self, agent_ids: _Optional[_Iterable[str]] = ..., status: _Optional[_Union[AgentStatus, str]] = ..., loads: _Optional[_Iterable[_Union[LoadReport, _Mapping]]] = ...) -> None: ...

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
    __slots__ = ("types", "runtime_id", "agent_id", "from_revision", "heartbeat_digests", "filter")
    TYPES_FIELD_NUMBER: _ClassVar[int]
    RUNTIME_ID_FIELD_NUMBER: _ClassVar[int]
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    FROM_REVISION_FIELD_NUMBER: _ClassVar[int]
    HEARTBEAT_DIGESTS_FIELD_NUMBER: _ClassVar[int]
    FILTER_FIELD_NUMBER: _ClassVar[int]
    types: _containers.RepeatedScalarFieldContainer[EventType]
    runtime_id: str
    agent_id: str
    from_revision: int
    heartbeat_digests: bool
    filter: AgentFilter
    def __init__(self, types: _Optional[_Iterable[_Union[EventType, str]]] = ..., runtime_id: _Optional[str] = ..., agent_id: _Optional[str] = ..., from_revision: _Optional[int] = ..., heartbeat_digests: _Optional[bool] = ..., filter: _Optional[_Union[AgentFilter, _Mapping]] = ...) -> None: ...

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
    __slots__ = ("page_size", "page_token", "consistent")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    CONSISTENT_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    consistent: bool
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., consistent: _Optional[bool] = ...) -> None: ...

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
    __slots__ = ("consistent",)
    CONSISTENT_FIELD_NUMBER: _ClassVar[int]
    consistent: bool
    def __init__(self, consistent: _Optional[bool] = ...) -> None: ...

class GetStatsResponse(_message.Message):
    __slots__ = ("total_agents", "total_runtimes", "status_distribution", "runtime_distribution", "total_queries", "total_registrations", "total_deregistrations", "capability_index_size", "revision", "compacted_revision", "subscribers", "heartbeat_streams", "expiry_guard_active", "replica")
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
    REPLICA_FIELD_NUMBER: _ClassVar[int]
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
    replica: Replica
    def __init__(self, total_agents: _Optional[int] = ..., total_runtimes: _Optional[int] = ..., status_distribution: _Optional[_Mapping[str, int]] = ..., runtime_distribution: _Optional[_Mapping[str, int]] = ..., total_queries: _Optional[int] = ..., total_registrations: _Optional[int] = ..., total_deregistrations: _Optional[int] = ..., capability_index_size: _Optional[int] = ..., revision: _Optional[int] = ..., compacted_revision: _Optional[int] = ..., subscribers: _Optional[int] = ..., heartbeat_streams: _Optional[int] = ..., expiry_guard_active: _Optional[bool] = ..., replica: _Optional[_Union[Replica, _Mapping]] = ...) -> None: ...

class Replica(_message.Message):
    __slots__ = ("replica_id", "leader", "started_at", "streaming_runtimes")
    REPLICA_ID_FIELD_NUMBER: _ClassVar[int]
    LEADER_FIELD_NUMBER: _ClassVar[int]
    STARTED_AT_FIELD_NUMBER: _ClassVar[int]
    STREAMING_RUNTIMES_FIELD_NUMBER: _ClassVar[int]
    replica_id: str
    leader: bool
    started_at: _timestamp_pb2.Timestamp
    streaming_runtimes: int
    def __init__(self, replica_id: _Optional[str] = ..., leader: _Optional[bool] = ..., started_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., streaming_runtimes: _Optional[int] = ...) -> None: ...
