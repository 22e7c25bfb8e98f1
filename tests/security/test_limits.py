"""Every limit is enforced at the daemon with a clear error: the code, the request field at fault (as a
google.rpc BadRequest field violation) and the limit's value in the message. Refusals change nothing."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, fields

import grpc
import pytest
from agentregistry.v1 import registry_pb2 as pb
from google.protobuf.duration_pb2 import Duration
from google.rpc import error_details_pb2
from grpc_status import rpc_status
from security_support import RefusedStreamMessage, raise_if_refused

from registryd.config import ConfigError, load_config
from registryd.core.validation import Limits

INVALID = grpc.StatusCode.INVALID_ARGUMENT
EXHAUSTED = grpc.StatusCode.RESOURCE_EXHAUSTED


def card(**fields_: object) -> pb.AgentCard:
    return pb.AgentCard(**{"name": "agent", "capability_phrases": ["code"], **fields_})


def register(agent_id: str = "a1", runtime_id: str = "rt", **card_fields: object) -> pb.RegisterAgentRequest:
    return pb.RegisterAgentRequest(agent_id=agent_id, runtime_id=runtime_id, card=card(**card_fields))


async def _fill(stub, count: int, runtime_ids: Callable[[int], str]) -> None:
    for i in range(count):
        await stub.RegisterAgent(register(f"a{i}", runtime_ids(i)))


async def _open_subscriber(stub) -> grpc.aio.UnaryStreamCall:
    call = stub.Subscribe(pb.SubscribeRequest())
    await call.read()  # the first bookmark: the subscription exists
    return call


async def _open_stream(stub) -> grpc.aio.StreamStreamCall:
    call = stub.HeartbeatStream()
    await call.write(pb.HeartbeatStreamRequest(sequence=1, bind=pb.Bind(runtime_id="rt")))
    await call.read()
    return call


async def _second_subscriber(stub, calls: list) -> None:
    calls.append(await _open_subscriber(stub))
    calls.append(await _open_subscriber(stub))


async def _second_stream(stub, calls: list) -> None:
    calls.append(await _open_stream(stub))
    calls.append(await _open_stream(stub))


async def _reserve_too_many(stub, calls: list) -> None:
    await _fill(stub, 1, lambda i: "rt")
    for _ in range(3):
        await stub.SelectAgent(pb.SelectAgentRequest(capability="code", reserve=True))


async def _wait_twice(stub, calls: list) -> None:
    """Two SelectAgent calls wait for a full agent on one connection: the second in line is refused."""
    await _fill(stub, 1, lambda i: "rt")
    await stub.Heartbeat(pb.HeartbeatRequest(runtime_id="rt", loads=[pb.LoadReport(max_concurrency=1)]))
    await stub.SelectAgent(pb.SelectAgentRequest(capability="code", reserve=True))
    waiting = pb.SelectAgentRequest(capability="code", wait_timeout=Duration(seconds=30))
    calls += [stub.SelectAgent(waiting, timeout=60), stub.SelectAgent(waiting, timeout=60)]
    done, _ = await asyncio.wait(
        [asyncio.ensure_future(_answer(c)) for c in calls], return_when="FIRST_COMPLETED"
    )
    done.pop().result()


async def _answer(call: grpc.aio.UnaryUnaryCall) -> object:
    return await call


async def _bind_too_many(stub, calls: list) -> None:
    await _fill(stub, 2, lambda i: "rt")
    call = stub.HeartbeatStream()
    calls.append(call)
    await call.write(
        pb.HeartbeatStreamRequest(sequence=1, bind=pb.Bind(runtime_id="rt", agent_ids=["a0", "a1"]))
    )
    raise_if_refused(await call.read())


@dataclass(frozen=True)
class Case:
    limit: str
    value: int
    act: Callable[..., Awaitable[object]]
    code: grpc.StatusCode
    field: str | None  # the BadRequest field violation, when a request field is at fault
    says: str  # what the message must contain


CASES = [
    Case("max_id_length", 8, lambda s, c: s.RegisterAgent(register("a" * 9)), INVALID, "agent_id", "the limit is 8"),
    Case("max_capabilities", 2, lambda s, c: s.RegisterAgent(register(capability_phrases=["a", "b", "c"])), INVALID,
         "card.capabilities", "the limit is 2"),
    Case("max_text_length", 8, lambda s, c: s.RegisterAgent(register(capability_phrases=["x" * 9])), INVALID,
         "card.capabilities[0]", "the limit is 8"),
    Case("max_skills", 1, lambda s, c: s.RegisterAgent(register(skills=[pb.Skill(name="a"), pb.Skill(name="b")])),
         INVALID, "card.skills", "the limit is 1"),
    Case("max_tags_per_skill", 1, lambda s, c: s.RegisterAgent(register(skills=[pb.Skill(name="a", tags=["x", "y"])])),
         INVALID, "card.skills[0].tags", "the limit is 1"),
    Case("max_description_length", 10, lambda s, c: s.RegisterAgent(register(description="d" * 11)), INVALID,
         "card.description", "the limit is 10"),
    Case("max_labels", 1, lambda s, c: s.RegisterAgent(register(labels={"a": "1", "b": "2"})), INVALID,
         "card.labels", "the limit is 1"),
    Case("max_label_length", 10, lambda s, c: s.RegisterAgent(register(labels={"key": "v" * 8})), INVALID,
         "card.labels['key']", "the limit is 10"),
    Case("max_card_bytes", 100, lambda s, c: s.RegisterAgent(register(capability_phrases=["c" * 30] * 4)), INVALID,
         "card", "the limit is 100"),
    Case("max_agents", 2, lambda s, c: _fill(s, 3, lambda i: f"rt{i}"), EXHAUSTED, None, "max_agents=2"),
    Case("max_agents_per_runtime", 2, lambda s, c: _fill(s, 3, lambda i: "rt"), EXHAUSTED, None,
         "max_agents_per_runtime=2"),
    Case("max_subscribers", 1, _second_subscriber, EXHAUSTED, None, "max_subscribers=1"),
    Case("max_streams", 1, _second_stream, EXHAUSTED, None, "max_streams=1"),
    Case("max_subscribers_per_caller", 1, _second_subscriber, EXHAUSTED, None, "max_subscribers_per_caller=1"),
    Case("max_streams_per_caller", 1, _second_stream, EXHAUSTED, None, "max_streams_per_caller=1"),
    Case("max_agents_per_stream", 1, _bind_too_many, EXHAUSTED, "bind.agent_ids", "max_agents_per_stream=1"),
    Case("max_agents_per_request", 2, lambda s, c: s.Heartbeat(pb.HeartbeatRequest(runtime_id="rt", agent_ids=["a", "b", "c"])),
         INVALID, "agent_ids", "the limit is 2"),
    Case("max_query_length", 5, lambda s, c: s.FindAgents(pb.FindAgentsRequest(capability="python")), INVALID,
         "capability", "the limit is 5"),
    Case("max_reservations", 2, _reserve_too_many, EXHAUSTED, None, "max_reservations=2"),
    Case("max_select_waiters", 1, _wait_twice, EXHAUSTED, None, "max_select_waiters=1"),
    Case("max_select_waiters_per_caller", 1, _wait_twice, EXHAUSTED, None, "max_select_waiters_per_caller=1"),
]  # fmt: skip


def test_every_limit_has_a_case():
    cut_not_refused = {"max_page_size", "max_response_bytes"}  # tested below
    tested = {case.limit for case in CASES} | cut_not_refused
    assert tested == {f.name for f in fields(Limits)}


def _status_fields(error: grpc.aio.AioRpcError) -> list[str]:
    status = rpc_status.from_call(error)
    if status is None:
        return []
    violations: list[str] = []
    for detail in status.details:
        if detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad_request = error_details_pb2.BadRequest()
            detail.Unpack(bad_request)
            violations += [v.field for v in bad_request.field_violations]
    return violations


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.limit)
async def test_a_limit_is_enforced_with_a_clear_error(serve, case):
    running = await serve(limits=Limits(**{case.limit: case.value}))
    calls: list = []
    try:
        with pytest.raises(grpc.RpcError) as refused:
            await case.act(running.stub, calls)
    finally:
        for call in calls:
            call.cancel()
    error = refused.value
    assert error.code() is case.code
    assert case.says in error.details()
    assert _bad_request_fields(error) == ([case.field] if case.field else [])


def _bad_request_fields(error: grpc.RpcError) -> list[str]:
    if isinstance(error, RefusedStreamMessage):  # a stream message's refusal names its field directly
        return [error.ack.error.field] if error.ack.error.field else []
    return _status_fields(error)


async def test_refused_registration_changes_nothing(serve):
    running = await serve(limits=Limits(max_agents_per_runtime=1))
    await running.stub.RegisterAgent(register("a0"))
    before = running.daemon.registry.revision, running.daemon.registry.list_agents().agents
    with pytest.raises(grpc.aio.AioRpcError):
        await running.stub.RegisterAgent(register("a1"))
    assert (running.daemon.registry.revision, running.daemon.registry.list_agents().agents) == before


async def test_ids_have_a_charset(serve):
    running = await serve()
    for bad in ("has space", "-leading-dash", "semi;colon", "unicode-\u00e9"):
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await running.stub.RegisterAgent(register(agent_id=bad))
        assert refused.value.code() is INVALID
        assert "outside letters, digits" in refused.value.details()
        assert _bad_request_fields(refused.value) == ["agent_id"]


async def test_page_size_beyond_the_limit_is_cut_to_it(serve):
    running = await serve(limits=Limits(max_page_size=2))
    await _fill(running.stub, 3, lambda i: "rt")
    page = await running.stub.ListAgents(pb.ListAgentsRequest(page_size=1000))
    assert len(page.agents) == 2 and page.next_page_token
    found = await running.stub.FindAgents(pb.FindAgentsRequest(capability="code", limit=1000))
    assert len(found.matches) == 2


async def test_answers_beyond_max_response_bytes_are_cut_and_paging_continues(serve):
    running = await serve(limits=Limits(max_response_bytes=10_000))
    for i in range(6):
        await running.stub.RegisterAgent(register(f"a{i}", description="d" * 4000))
    first = await running.stub.ListAgents(pb.ListAgentsRequest(page_size=100))
    assert 1 <= len(first.agents) < 6 and first.next_page_token
    pages = [first]
    while pages[-1].next_page_token:
        pages.append(
            await running.stub.ListAgents(pb.ListAgentsRequest(page_token=pages[-1].next_page_token))
        )
    assert [a.agent_id for p in pages for a in p.agents] == [f"a{i}" for i in range(6)]
    found = await running.stub.FindAgents(pb.FindAgentsRequest(capability="code", limit=100))
    assert len(found.matches) == len(first.agents)


async def test_a_message_beyond_max_message_bytes_is_refused_before_it_is_parsed(serve):
    running = await serve(max_message_bytes=4096)
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await running.stub.RegisterAgent(register(description="d" * 5000))
    assert refused.value.code() is EXHAUSTED
    assert "4096" in refused.value.details()
    assert running.daemon.registry.revision == 0


@pytest.mark.parametrize(
    "call",
    [
        lambda s: s.GetAgent(pb.GetAgentRequest(agent_id="x" * 100_000)),
        lambda s: s.ListAgents(pb.ListAgentsRequest(runtime_id="x" * 100_000)),
        lambda s: s.ListAgents(pb.ListAgentsRequest(page_token="x" * 100_000)),
        lambda s: s.ListAgents(pb.ListAgentsRequest(statuses=[pb.AGENT_STATUS_ACTIVE] * 100_000)),
        lambda s: s.DeregisterAgent(pb.DeregisterAgentRequest(agent_id="a", runtime_id="x" * 100_000)),
        lambda s: s.Subscribe(pb.SubscribeRequest(agent_id="x" * 100_000)).read(),
        lambda s: s.Subscribe(pb.SubscribeRequest(types=[pb.EVENT_TYPE_AGENT_REGISTERED] * 100_000)).read(),
    ],
    ids=[
        "get-id",
        "list-runtime",
        "page-token",
        "list-statuses",
        "deregister-runtime",
        "subscribe-id",
        "subscribe-types",
    ],
)
async def test_oversized_lookup_fields_are_refused_without_echoing_them(serve, call):
    running = await serve()
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await call(running.stub)
    assert refused.value.code() is INVALID
    assert len(refused.value.details()) < 300


def test_limits_are_options_from_flags_environment_and_file(tmp_path):
    config_file = tmp_path / "registryd.toml"
    config_file.write_text("max_labels = 3\nmax_subscribers = 7\n")
    config = load_config(
        ["--config", str(config_file), "--max-id-length", "16", "--max-subscribers", "9"],
        environ={"REGISTRYD_MAX_PAGE_SIZE": "50"},
    )
    assert (config.limits.max_id_length, config.limits.max_page_size) == (16, 50)
    assert (config.limits.max_labels, config.limits.max_subscribers) == (3, 9)  # flags win over the file
    assert config.registry_settings().limits == config.limits
    assert config.limits.max_capabilities == Limits().max_capabilities


@pytest.mark.parametrize(("argv", "complaint"), [
    (["--max-agents", "0"], "max_agents must be a positive integer"),
    (["--max-card-bytes", "lots"], "max_card_bytes must be an integer"),
    (["--max-message-bytes", "100"], "max_message_bytes must be at least 1024"),
])  # fmt: skip
def test_nonsense_limits_stop_the_daemon_at_start(argv, complaint):
    with pytest.raises(ConfigError, match=complaint):
        load_config(argv, environ={})
