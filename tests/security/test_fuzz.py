"""Fuzzing a live daemon (a separate process) with random and malformed requests for every RPC.

For every case: the daemon answers with a status a client can act on (never UNKNOWN, INTERNAL or a
dropped connection), says why when it refuses, and a refused call leaves the state (revision and every
agent) as it was. At the end the process is still serving and logged no unexpected exception.

`make test` runs about 400 cases in all; REGISTRYD_FUZZ_EXAMPLES=10000 (make fuzz) sets the total.
"""

from __future__ import annotations

import itertools
import os

import fuzz_strategies as fz
import grpc
import pytest
from agentregistry.v1 import registry_pb2 as pb
from agentregistry.v1 import registry_pb2_grpc as pb_grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from security_support import RefusedStreamMessage, raise_if_refused, write_tokens

from registryd.auth import Role
from registryd.server import SERVICE_NAME

TOTAL = int(os.environ.get("REGISTRYD_FUZZ_EXAMPLES", "400"))
SHARES = {
    "unary": 0.33,
    "raw": 0.18,
    "utf8": 0.1,
    "stream": 0.1,
    "stream_raw": 0.08,
    "subscribe": 0.07,
    "subscribe_events": 0.06,
    "auth": 0.05,
    "auth_streams": 0.03,
}


def fuzz_settings(share: str) -> settings:
    return settings(
        max_examples=max(10, round(TOTAL * SHARES[share])),
        deadline=None,
        database=None,
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
        ],
    )


# What a refusal may be: each tells the client what to do. UNKNOWN, INTERNAL, UNAVAILABLE, CANCELLED or a
# deadline would mean the daemon failed, not the request.
CLEAR_REFUSALS = {
    grpc.StatusCode.INVALID_ARGUMENT,
    grpc.StatusCode.NOT_FOUND,
    grpc.StatusCode.ALREADY_EXISTS,
    grpc.StatusCode.PERMISSION_DENIED,
    grpc.StatusCode.FAILED_PRECONDITION,
    grpc.StatusCode.RESOURCE_EXHAUSTED,
}
TIMEOUT = 10.0
_streams = itertools.count()


class Target:
    """A fuzzed daemon process and a client of it."""

    def __init__(self, process, token: str = "") -> None:
        self.process = process
        self.metadata = (("authorization", f"Bearer {token}"),) if token else ()
        self.channel = grpc.insecure_channel(
            process.address, options=[("grpc.max_receive_message_length", 64 << 20)]
        )
        self.stub = pb_grpc.RegistryServiceStub(self.channel)
        self.cases = 0
        for runtime, agent in (("rt-1", "seed-1"), ("rt-2", "seed-2")):
            card = pb.AgentCard(name=agent, capability_phrases=["Python code"])
            request = pb.RegisterAgentRequest(agent_id=agent, runtime_id=runtime, card=card)
            self.stub.RegisterAgent(request, metadata=self.metadata)

    def state(self) -> tuple[int, list[pb.Agent]]:
        revision = self.stub.GetStats(pb.GetStatsRequest(), timeout=TIMEOUT, metadata=self.metadata).revision
        agents: list[pb.Agent] = []
        token = ""
        while True:
            page = self.stub.ListAgents(
                pb.ListAgentsRequest(page_size=1000, page_token=token),
                timeout=TIMEOUT,
                metadata=self.metadata,
            )
            agents += page.agents
            token = page.next_page_token
            if not token:
                return revision, agents

    def check_refusal(self, error: grpc.RpcError, what: str) -> None:
        assert error.code() in CLEAR_REFUSALS, f"{what}: {error.code()} {error.details()!r}"
        assert error.details(), f"{what}: refused without saying why"
        assert len(error.details()) < 2000, f"{what}: the refusal echoes the input"

    def close(self) -> None:
        health = health_pb2_grpc.HealthStub(self.channel)
        answer = health.Check(health_pb2.HealthCheckRequest(service=SERVICE_NAME), timeout=TIMEOUT)
        assert answer.status == health_pb2.HealthCheckResponse.SERVING
        self.channel.close()
        assert self.process.proc.poll() is None, "the daemon died"
        log = self.process.log()
        for sign in ("Traceback", "Unexpected", "Exception"):
            assert sign not in log, f"the daemon logged {sign}:\n{log[-3000:]}"
        print(f"fuzz: {self.cases} cases")


FUZZ_DAEMON = ["--store", "memory", "--heartbeat-timeout", "3600", "--auto-deregister-timeout", "7200",
               "--log-level", "warning", "--bookmark-interval", "0.2"]  # fmt: skip


@pytest.fixture
def target(daemon_process):
    fuzzed = Target(daemon_process(*FUZZ_DAEMON))
    yield fuzzed
    fuzzed.close()


@pytest.fixture
def guarded(daemon_process, tmp_path):
    """A daemon that requires tokens; the fuzz client's own calls carry the admin token."""
    path = tmp_path / "tokens.toml"
    (admin,) = write_tokens(path, {"ops": (Role.ADMIN, ())}).values()
    process = daemon_process(*FUZZ_DAEMON, "--auth-tokens", str(path))
    fuzzed = Target(process, admin)
    yield fuzzed
    fuzzed.close()


def _refusal_changes_nothing(target: Target, what: str, call) -> None:
    before = target.state()
    target.cases += 1
    try:
        call()
    except grpc.RpcError as error:
        target.check_refusal(error, what)
        assert target.state() == before, f"refused {what} changed state"


@fuzz_settings("unary")
@given(request=st.one_of([st.tuples(st.just(name), strategy) for name, strategy in fz.UNARY.items()]))
def test_unary_rpcs_answer_random_requests_clearly(target, request):
    method, message = request
    _refusal_changes_nothing(target, method, lambda: getattr(target.stub, method)(message, timeout=TIMEOUT))


def _raw_call(target: Target, method: str, payload: bytes) -> None:
    """Send bytes as the request of `method`, whatever its kind; read the first answer, then stop."""
    path = f"/{SERVICE_NAME}/{method}"
    descriptor = pb.DESCRIPTOR.services_by_name["RegistryService"].methods_by_name[method]
    if descriptor.client_streaming:  # HeartbeatStream answers a refused message with an error ack
        call = target.channel.stream_stream(path)(iter([payload]), timeout=TIMEOUT)
        try:
            for raw in call:
                raise_if_refused(pb.HeartbeatStreamResponse.FromString(raw))
        finally:
            call.cancel()
        return
    if not descriptor.server_streaming:
        target.channel.unary_unary(path)(payload, timeout=TIMEOUT)
        return
    call = target.channel.unary_stream(path)(payload, timeout=TIMEOUT)
    try:
        for _ in call:
            break
    finally:
        call.cancel()


@fuzz_settings("raw")
@given(data=st.data(), method=st.sampled_from(sorted(fz.REQUEST_TYPES)))
def test_bytes_that_are_no_valid_request_are_refused_clearly(target, data, method):
    payload = data.draw(fz.raw_payloads(method))
    _refusal_changes_nothing(
        target, f"{method} raw {payload[:40]!r}", lambda: _raw_call(target, method, payload)
    )


@fuzz_settings("utf8")
@given(
    data=st.data(),
    method=st.sampled_from(sorted(m for m in fz.REQUEST_TYPES if fz.string_paths(fz.REQUEST_TYPES[m]))),
)
def test_invalid_utf8_in_any_string_field_is_invalid_argument(target, data, method):
    payload = data.draw(fz.with_invalid_utf8(method))
    before = target.state()
    target.cases += 1
    with pytest.raises(grpc.RpcError) as refused:
        _raw_call(target, method, payload)
    assert refused.value.code() is grpc.StatusCode.INVALID_ARGUMENT, refused.value.details()
    assert f"not a valid agentregistry.v1.{fz.REQUEST_TYPES[method].name}" in refused.value.details()
    assert target.state() == before


@fuzz_settings("stream")
@given(messages=st.lists(fz.stream_messages, min_size=1, max_size=6))
def test_heartbeat_stream_answers_random_message_sequences_clearly(target, messages):
    fresh = f"fz-stream-{next(_streams)}"
    for message in messages:
        if message.WhichOneof("action") == "bind" and message.bind.runtime_id == fz.FRESH:
            message.bind.runtime_id = fresh
    before = target.state()
    target.cases += 1
    call = target.stub.HeartbeatStream(iter(messages), timeout=TIMEOUT)
    acks = 0
    try:
        for ack in call:
            assert ack.sequence == messages[acks].sequence
            if ack.HasField("error"):
                target.check_refusal(RefusedStreamMessage(ack), f"HeartbeatStream message {acks}")
            acks += 1
    except grpc.RpcError as error:
        target.check_refusal(error, f"HeartbeatStream message {acks}")
    assert target.state() == before


@fuzz_settings("stream_raw")
@given(payloads=st.lists(fz.stream_payloads(), min_size=1, max_size=6))
def test_heartbeat_stream_answers_every_message_even_after_malformed_ones(target, payloads):
    """Each message, well-formed or not, gets its ack (an error ack when refused) on a stream that stays
    open, until the client half-closes."""
    fresh = f"fz-stream-{next(_streams)}"
    for message in payloads:
        if isinstance(message, pb.HeartbeatStreamRequest) and message.bind.runtime_id == fz.FRESH:
            message.bind.runtime_id = fresh
    payloads = [p.SerializeToString() if isinstance(p, pb.HeartbeatStreamRequest) else p for p in payloads]
    before = target.state()
    target.cases += 1
    call = target.channel.stream_stream(f"/{SERVICE_NAME}/HeartbeatStream")(iter(payloads), timeout=TIMEOUT)
    acks = 0
    try:
        for raw in call:
            ack = pb.HeartbeatStreamResponse.FromString(raw)
            if ack.HasField("error"):
                target.check_refusal(RefusedStreamMessage(ack), f"HeartbeatStream payload {acks}")
            acks += 1
    except grpc.RpcError as error:
        target.check_refusal(error, f"HeartbeatStream payload {acks}")
    assert acks == len(payloads), f"{acks} acks for {len(payloads)} messages"
    assert target.state() == before


@fuzz_settings("subscribe")
@given(request=fz.subscribe_requests)
def test_subscribe_answers_random_filters_clearly(target, request):
    before = target.state()
    target.cases += 1
    call = target.stub.Subscribe(request, timeout=TIMEOUT)
    try:
        first = next(call)
        assert first.WhichOneof("kind") in ("bookmark", "event")
    except grpc.RpcError as error:
        target.check_refusal(error, "Subscribe")
    finally:
        call.cancel()
    assert target.state() == before


@fuzz_settings("subscribe_events")
@given(request=fz.served_filters)
def test_subscribe_sends_matching_events_in_revision_order(target, request):
    """A served filter: replayed events come in strictly increasing revisions, each one the filter
    matches, then a bookmark that claims no more than the daemon's revision."""
    revision = target.state()[0]
    target.cases += 1
    call = target.stub.Subscribe(request, timeout=TIMEOUT)
    seen: list[pb.Event] = []
    bookmarks = 0
    try:
        for message in call:
            if message.HasField("bookmark"):
                assert message.bookmark.revision <= revision
                bookmarks += 1
                if bookmarks == 2:  # the first one comes before the replay
                    break
            elif message.HasField("event"):
                seen.append(message.event)
    finally:
        call.cancel()
    revisions = [e.revision for e in seen]
    assert revisions == sorted(set(revisions)) and all(
        request.from_revision <= r <= revision for r in revisions
    )
    for event in seen:
        assert not request.types or event.type in request.types
        assert not request.runtime_id or event.runtime_id == request.runtime_id
        assert not request.agent_id or event.agent_id == request.agent_id


# Header values a client library can send: printable ASCII.
_header_values = st.one_of(
    st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=200),
    st.builds(
        lambda t: f"Bearer {t}", st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=80)
    ),
)


@fuzz_settings("auth")
@given(
    data=st.data(),
    method=st.sampled_from(sorted(fz.UNARY)),
    header=st.one_of(st.none(), _header_values, st.lists(_header_values, min_size=2, max_size=3)),
)
def test_random_authorization_never_authenticates(guarded, data, method, header):
    """Anything but a token from the file is UNAUTHENTICATED, before the request is even looked at."""
    request = data.draw(fz.UNARY[method])
    headers = [] if header is None else [header] if isinstance(header, str) else header
    metadata = tuple(("authorization", value) for value in headers)
    before = guarded.state()
    guarded.cases += 1
    with pytest.raises(grpc.RpcError) as refused:
        getattr(guarded.stub, method)(request, timeout=TIMEOUT, metadata=metadata)
    assert refused.value.code() is grpc.StatusCode.UNAUTHENTICATED, refused.value.details()
    assert guarded.state() == before


@fuzz_settings("auth_streams")
@given(
    method=st.sampled_from(["Subscribe", "HeartbeatStream"]),
    header=st.one_of(st.none(), _header_values, st.lists(_header_values, min_size=2, max_size=3)),
)
def test_random_authorization_never_opens_a_stream(guarded, method, header):
    headers = [] if header is None else [header] if isinstance(header, str) else header
    metadata = tuple(("authorization", value) for value in headers)
    guarded.cases += 1
    if method == "Subscribe":
        call = guarded.stub.Subscribe(pb.SubscribeRequest(), timeout=TIMEOUT, metadata=metadata)
    else:
        bind = pb.HeartbeatStreamRequest(sequence=1, bind=pb.Bind(runtime_id="rt-1"))
        call = guarded.stub.HeartbeatStream(iter([bind]), timeout=TIMEOUT, metadata=metadata)
    with pytest.raises(grpc.RpcError) as refused:
        next(call)
    assert refused.value.code() is grpc.StatusCode.UNAUTHENTICATED, refused.value.details()
