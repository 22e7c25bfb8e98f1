"""Hypothesis strategies for requests a careless or hostile client might send: ids and texts far past
their limits, huge repeated fields, unknown enum values, raw bytes that are no message at all, and
string fields holding invalid UTF-8."""

from __future__ import annotations

from agentregistry.v1 import registry_pb2 as pb
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from hypothesis import strategies as st

# Ids that exist (or collide), so mutations also reach real agents.
RUNTIME_POOL = ["rt-1", "rt-2", "rt-3"]
AGENT_POOL = ["seed-1", "seed-2", "fz-a", "fz-b", "fz-c"]

INT32 = st.integers(-(2**31), 2**31 - 1)
INT64 = st.integers(-(2**63), 2**63 - 1)

# Any text protobuf can carry (valid UTF-8, so no lone surrogates); invalid UTF-8 goes in as raw bytes.
_any_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=40)


def _oversized(char: str, low: int, high: int) -> st.SearchStrategy[str]:
    return st.integers(low, high).map(lambda n: char * n)


def ids(pool: list[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(pool),
        st.just(""),
        _any_text,
        st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._:@-]{0,20}", fullmatch=True),
        _oversized("i", 129, 70_000),
        st.sampled_from([" ", "\t\n", "a b", "../etc", "%00", "\u202e", "\x00", "a" * 128]),
    )


texts = st.one_of(_any_text, st.sampled_from(["python", "  ", "Python code"]), _oversized("t", 200, 70_000))


def repeated(element: st.SearchStrategy, huge: object) -> st.SearchStrategy[list]:
    return st.one_of(st.lists(element, max_size=8), st.integers(65, 20_000).map(lambda n: [huge] * n))


def enum_values(enum: object) -> st.SearchStrategy[int]:
    return st.one_of(st.sampled_from(list(enum.values())), INT32)  # type: ignore[attr-defined]


statuses = enum_values(pb.AgentStatus)
event_types = enum_values(pb.EventType)

skills = st.builds(pb.Skill, id=texts, name=texts, description=texts, tags=repeated(texts, "tag"))
cards = st.builds(
    pb.AgentCard,
    name=texts,
    description=texts,
    version=texts,
    url=texts,
    capability_phrases=repeated(texts, "cap"),
    skills=st.one_of(
        st.lists(skills, max_size=4), st.integers(65, 3000).map(lambda n: [pb.Skill(name="s")] * n)
    ),
    labels=st.one_of(
        st.dictionaries(_any_text, texts, max_size=4),
        st.integers(65, 3000).map(lambda n: {f"k{i}": "v" for i in range(n)}),
    ),
)
agent_ids = ids(AGENT_POOL)
runtime_ids = ids(RUNTIME_POOL)
id_lists = repeated(agent_ids, "fz-a")

UNARY: dict[str, st.SearchStrategy] = {
    "RegisterAgent": st.builds(
        pb.RegisterAgentRequest, agent_id=agent_ids, runtime_id=runtime_ids, card=cards
    ),
    "DeregisterAgent": st.builds(pb.DeregisterAgentRequest, agent_id=agent_ids, runtime_id=runtime_ids),
    "GetAgent": st.builds(pb.GetAgentRequest, agent_id=agent_ids),
    "ListAgents": st.builds(
        pb.ListAgentsRequest,
        runtime_id=runtime_ids,
        statuses=repeated(statuses, pb.AGENT_STATUS_ACTIVE),
        page_size=INT32,
        page_token=st.one_of(texts, st.binary(max_size=64).map(lambda b: b.hex())),
    ),
    "FindAgents": st.builds(
        pb.FindAgentsRequest,
        capability=texts,
        statuses=repeated(statuses, pb.AGENT_STATUS_ACTIVE),
        limit=INT32,
    ),
    "UpdateAgentStatus": st.builds(
        pb.UpdateAgentStatusRequest, agent_id=agent_ids, status=statuses, runtime_id=runtime_ids
    ),
    "Heartbeat": st.builds(pb.HeartbeatRequest, runtime_id=runtime_ids, agent_ids=id_lists, status=statuses),
    "ListRuntimes": st.builds(
        pb.ListRuntimesRequest,
        page_size=INT32,
        page_token=st.one_of(texts, st.binary(max_size=64).map(lambda b: b.hex())),
    ),
    "GetStats": st.just(pb.GetStatsRequest()),
}

subscribe_requests = st.builds(
    pb.SubscribeRequest,
    types=repeated(event_types, pb.EVENT_TYPE_AGENT_REGISTERED),
    runtime_id=runtime_ids,
    agent_id=agent_ids,
    from_revision=INT64,
)

# A heartbeat stream speaks for a runtime with no agents (FRESH is replaced by a new id per stream) or
# for garbage: then no message, accepted or refused, and no way the stream ends can change any agent.
FRESH = "{fresh}"
stream_runtimes = st.one_of(st.just(FRESH), st.just(""), _any_text, _oversized("r", 129, 5000))
stream_messages = st.one_of(
    st.builds(lambda s, r, a: pb.HeartbeatStreamRequest(sequence=s, bind=pb.Bind(runtime_id=r, agent_ids=a)),
              INT64, stream_runtimes, id_lists),
    st.builds(lambda s, a, st_: pb.HeartbeatStreamRequest(sequence=s, beat=pb.Beat(agent_ids=a, status=st_)),
              INT64, id_lists, statuses),
    st.builds(lambda s, a: pb.HeartbeatStreamRequest(sequence=s, unbind=pb.Unbind(agent_ids=a)), INT64, id_lists),
    st.builds(lambda s: pb.HeartbeatStreamRequest(sequence=s), INT64),
)  # fmt: skip

REQUEST_TYPES: dict[str, Descriptor] = {
    name: method.input_type
    for name, method in pb.DESCRIPTOR.services_by_name["RegistryService"].methods_by_name.items()
}


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _length_delimited(number: int, payload: bytes) -> bytes:
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def string_paths(descriptor: Descriptor, depth: int = 0) -> list[tuple[int, ...]]:
    """Field-number paths from `descriptor` to every string field, through nested messages and maps."""
    paths: list[tuple[int, ...]] = []
    for field in descriptor.fields:
        if field.type == FieldDescriptor.TYPE_STRING:
            paths.append((field.number,))
        elif field.type == FieldDescriptor.TYPE_MESSAGE and depth < 3:
            paths += [(field.number, *rest) for rest in string_paths(field.message_type, depth + 1)]
    return paths


invalid_utf8 = st.one_of(
    st.sampled_from([b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\xf8\x88\x80\x80\x80", b"\xe2\x82"]),
    st.binary(min_size=1, max_size=32).map(lambda b: b"ok" + b + b"\xff"),
)


def with_invalid_utf8(method: str) -> st.SearchStrategy[bytes]:
    """A request of `method` whose string field (maybe nested) holds bytes that are not UTF-8."""
    paths = string_paths(REQUEST_TYPES[method])

    def encode(path: tuple[int, ...], bad: bytes) -> bytes:
        payload = bad
        for number in reversed(path):
            payload = _length_delimited(number, payload)
        return payload

    return st.builds(encode, st.sampled_from(paths), invalid_utf8)


def raw_payloads(method: str) -> st.SearchStrategy[bytes]:
    """Bytes that mostly are not a valid request: random, truncated, or with a wrong wire type."""
    strategies: list[st.SearchStrategy[bytes]] = [
        st.binary(max_size=512),
        st.sampled_from([b"\xff" * 11, b"\x0a\xff\xff\xff\xff\x0f", b"\x08", b"\x12\x05ab", b"\x0b\x0c"]),
    ]
    if string_paths(REQUEST_TYPES[method]):
        strategies.append(with_invalid_utf8(method))
    return st.one_of(strategies)


def stream_payloads() -> st.SearchStrategy[pb.HeartbeatStreamRequest | bytes]:
    """A heartbeat stream message: a well-formed one, or bytes that are none."""
    return st.one_of(stream_messages, raw_payloads("HeartbeatStream"))


# Filters a subscriber can be served with: known types, pool ids or none.
served_filters = st.builds(
    pb.SubscribeRequest,
    types=st.lists(st.sampled_from([t for t in pb.EventType.values() if t]), max_size=3),
    runtime_id=st.sampled_from(["", *RUNTIME_POOL]),
    agent_id=st.sampled_from(["", *AGENT_POOL]),
    from_revision=st.integers(0, 40),
)
