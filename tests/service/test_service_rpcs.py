"""Every RPC of RegistryService and every error code, against a daemon on a loopback port."""

from __future__ import annotations

import time

import grpc
import pytest
from agentregistry.v1 import registry_pb2 as pb
from service_support import EVENT, STEADY, bad_request_fields, card, register, rich_status

from registryd.core.validation import Limits

ACTIVE, DEGRADED, UNHEALTHY, OFFLINE = (
    pb.AGENT_STATUS_ACTIVE,
    pb.AGENT_STATUS_DEGRADED,
    pb.AGENT_STATUS_UNHEALTHY,
    pb.AGENT_STATUS_OFFLINE,
)


async def refused(call: object) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await call  # type: ignore[misc]
    return error.value


async def test_register_creates_then_reregisters_idempotently(daemon):
    first = await register(daemon.stub, "rt", "a1", "Python code")
    assert first.created and first.agent.status == ACTIVE and first.revision == 2
    again = await daemon.stub.RegisterAgent(
        pb.RegisterAgentRequest(runtime_id="rt", agent_id="a1", card=card("Rust code"))
    )
    assert not again.created and list(again.agent.capabilities) == ["Rust code"]
    assert again.agent.registered_at == first.agent.registered_at


async def test_register_without_an_id_gets_one_from_the_server(daemon):
    response = await daemon.stub.RegisterAgent(pb.RegisterAgentRequest(runtime_id="rt", card=card("x")))
    assert response.created and response.agent.agent_id


async def test_register_under_another_runtime_is_already_exists(daemon):
    await register(daemon.stub, "rt", "a1")
    error = await refused(register(daemon.stub, "other", "a1"))
    assert error.code() == grpc.StatusCode.ALREADY_EXISTS and "'rt'" in error.details()


@pytest.mark.parametrize(
    ("request_", "field", "words"),
    [
        (pb.RegisterAgentRequest(agent_id="a1", card=card("x")), "runtime_id", "required"),
        (pb.RegisterAgentRequest(runtime_id="r t", card=card("x")), "runtime_id", "characters"),
        (pb.RegisterAgentRequest(runtime_id="rt", agent_id="a" * 129, card=card("x")), "agent_id", "128"),
        (
            pb.RegisterAgentRequest(runtime_id="rt", card=card("x", description="d" * 5000)),
            "card.description",
            "4096",
        ),
        (pb.RegisterAgentRequest(runtime_id="rt", card=pb.AgentCard()), "card", "name or at least one"),
    ],
)
async def test_invalid_registration_names_the_field_in_bad_request_details(daemon, request_, field, words):
    error = await refused(daemon.stub.RegisterAgent(request_))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert field in error.details() and words in error.details()
    assert bad_request_fields(error) == [field]
    assert rich_status(error).code == grpc.StatusCode.INVALID_ARGUMENT.value[0]
    assert (await daemon.stub.GetStats(pb.GetStatsRequest())).total_agents == 0


async def test_deregister_removes_the_agent_and_returns_its_last_state(daemon):
    await register(daemon.stub, "rt", "a1")
    response = await daemon.stub.DeregisterAgent(pb.DeregisterAgentRequest(agent_id="a1", runtime_id="rt"))
    assert (
        response.agent.agent_id == "a1" and response.revision == 4
    )  # joined, registered, deregistered, left
    error = await refused(daemon.stub.GetAgent(pb.GetAgentRequest(agent_id="a1")))
    assert error.code() == grpc.StatusCode.NOT_FOUND


async def test_deregister_unknown_is_not_found_and_by_non_owner_is_permission_denied(daemon):
    error = await refused(daemon.stub.DeregisterAgent(pb.DeregisterAgentRequest(agent_id="ghost")))
    assert error.code() == grpc.StatusCode.NOT_FOUND and "ghost" in error.details()
    await register(daemon.stub, "rt", "a1")
    error = await refused(
        daemon.stub.DeregisterAgent(pb.DeregisterAgentRequest(agent_id="a1", runtime_id="x"))
    )
    assert error.code() == grpc.StatusCode.PERMISSION_DENIED
    assert (await daemon.stub.GetAgent(pb.GetAgentRequest(agent_id="a1"))).agent.runtime_id == "rt"


async def test_get_agent_returns_the_agent_and_the_revision(daemon):
    registered = await register(daemon.stub, "rt", "a1", "x")
    response = await daemon.stub.GetAgent(pb.GetAgentRequest(agent_id="a1"))
    assert response.agent == registered.agent and response.revision == registered.revision


async def test_a_consistent_read_reflects_a_write_acknowledged_before_it(daemon):
    registered = await register(daemon.stub, "rt", "a1", "x")
    stub = daemon.other.stub  # the other replica, when there are two
    got = await stub.GetAgent(pb.GetAgentRequest(agent_id="a1", consistent=True))
    listed = await stub.ListAgents(pb.ListAgentsRequest(consistent=True))
    found = await stub.FindAgents(pb.FindAgentsRequest(capability="x", consistent=True))
    selected = await stub.SelectAgent(pb.SelectAgentRequest(capability="x", consistent=True))
    runtimes = await stub.ListRuntimes(pb.ListRuntimesRequest(consistent=True))
    stats = await stub.GetStats(pb.GetStatsRequest(consistent=True))
    assert got.revision == listed.revision == found.revision == runtimes.revision == stats.revision
    assert got.revision == registered.revision and selected.agent.agent_id == "a1"


async def test_get_agent_without_an_id_is_invalid(daemon):
    error = await refused(daemon.stub.GetAgent(pb.GetAgentRequest()))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT and bad_request_fields(error) == ["agent_id"]


async def test_find_agents_ranks_matches_and_reports_the_matched_capability(daemon):
    await register(daemon.stub, "rt", "sub", "Pythonic style")
    await register(daemon.stub, "rt", "word", "Python code generation")
    await register(daemon.stub, "rt", "exact", "python")
    await register(daemon.stub, "rt", "none", "Rust")
    response = await daemon.stub.FindAgents(pb.FindAgentsRequest(capability="PYTHON"))
    assert [(m.agent.agent_id, m.matched_capability, m.match_kind) for m in response.matches] == [
        ("exact", "python", pb.MATCH_KIND_EXACT),
        ("word", "Python code generation", pb.MATCH_KIND_WORD),
        ("sub", "Pythonic style", pb.MATCH_KIND_SUBSTRING),
    ]
    assert response.revision == (await daemon.stub.GetStats(pb.GetStatsRequest())).revision
    limited = await daemon.stub.FindAgents(pb.FindAgentsRequest(capability="python", limit=1))
    assert [m.agent.agent_id for m in limited.matches] == ["exact"]


async def test_find_agents_filters_by_status_active_by_default(daemon):
    await register(daemon.stub, "rt", "a1", "search")
    await register(daemon.stub, "rt", "a2", "search")
    await daemon.stub.UpdateAgentStatus(pb.UpdateAgentStatusRequest(agent_id="a2", status=DEGRADED))
    default = await daemon.stub.FindAgents(pb.FindAgentsRequest(capability="search"))
    assert [m.agent.agent_id for m in default.matches] == ["a1"]
    degraded = await daemon.stub.FindAgents(pb.FindAgentsRequest(capability="search", statuses=[DEGRADED]))
    assert [m.agent.agent_id for m in degraded.matches] == ["a2"]


@pytest.mark.parametrize(
    ("request_", "field"),
    [
        (pb.FindAgentsRequest(capability="   "), "capability"),
        (pb.FindAgentsRequest(capability="x", limit=-1), "limit"),
        (pb.FindAgentsRequest(capability="x", statuses=[pb.AGENT_STATUS_UNSPECIFIED]), "statuses[0]"),
        (pb.FindAgentsRequest(capability="x", statuses=[ACTIVE, 42]), "statuses[1]"),
    ],
)
async def test_invalid_find_names_the_field(daemon, request_, field):
    error = await refused(daemon.stub.FindAgents(request_))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT and bad_request_fields(error) == [field]


async def test_update_status_changes_once_and_is_a_no_op_the_second_time(daemon, subscribe):
    await register(daemon.stub, "rt", "a1")
    await daemon.synced()
    events = subscribe(daemon.other.stub)
    await events.started()
    request = pb.UpdateAgentStatusRequest(agent_id="a1", status=OFFLINE, runtime_id="rt")
    first = await daemon.stub.UpdateAgentStatus(request)
    second = await daemon.stub.UpdateAgentStatus(request)
    assert first.changed and first.agent.status == OFFLINE
    assert first.agent.status_reason == pb.STATUS_REASON_OPERATOR
    assert not second.changed and second.revision == first.revision
    [changed] = await events.events(1)
    assert (changed.type, changed.old_status, changed.new_status) == (
        EVENT.Value("EVENT_TYPE_AGENT_STATUS_CHANGED"),
        ACTIVE,
        OFFLINE,
    )
    await register(daemon.stub, "rt", "a2")  # the next event is this one, not a repeat of the no-op
    assert (await events.events(1))[0].agent_id == "a2"


async def test_invalid_update_status_is_refused(daemon):
    await register(daemon.stub, "rt", "a1")
    error = await refused(daemon.stub.UpdateAgentStatus(pb.UpdateAgentStatusRequest(agent_id="a1")))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT and bad_request_fields(error) == ["status"]
    error = await refused(
        daemon.stub.UpdateAgentStatus(
            pb.UpdateAgentStatusRequest(agent_id="a1", status=OFFLINE, runtime_id="x")
        )
    )
    assert error.code() == grpc.StatusCode.PERMISSION_DENIED
    error = await refused(
        daemon.stub.UpdateAgentStatus(pb.UpdateAgentStatusRequest(agent_id="zz", status=OFFLINE))
    )
    assert error.code() == grpc.StatusCode.NOT_FOUND


async def test_unary_heartbeat_beats_reports_unknown_ids_and_carries_a_status(daemon):
    await register(daemon.stub, "rt", "a1")
    response = await daemon.stub.Heartbeat(
        pb.HeartbeatRequest(runtime_id="rt", agent_ids=["a1", "ghost"], status=DEGRADED)
    )
    assert list(response.unknown_agent_ids) == ["ghost"]
    assert response.heartbeat_timeout.ToSeconds() == 60 and response.server_time.seconds > 0
    agent = (await daemon.stub.GetAgent(pb.GetAgentRequest(agent_id="a1"))).agent
    assert (agent.status, agent.status_reason) == (DEGRADED, pb.STATUS_REASON_SELF_REPORTED)


async def test_invalid_unary_heartbeats_are_refused_and_foreign_agents_are_not_beaten(daemon):
    await register(daemon.stub, "rt", "a1")
    await register(daemon.stub, "other", "b1")
    error = await refused(daemon.stub.Heartbeat(pb.HeartbeatRequest(runtime_id="rt", status=UNHEALTHY)))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT and bad_request_fields(error) == ["status"]
    beat = await daemon.stub.Heartbeat(pb.HeartbeatRequest(runtime_id="rt", agent_ids=["a1", "b1"]))
    assert list(beat.refused_agent_ids) == ["b1"]  # another runtime's agent: reported, not beaten
    error = await refused(daemon.stub.Heartbeat(pb.HeartbeatRequest()))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT and bad_request_fields(error) == ["runtime_id"]


async def test_heartbeat_stream_acks_every_message(daemon):
    await register(daemon.stub, "rt", "a1")
    await register(daemon.stub, "rt", "a2")
    call = daemon.stub.HeartbeatStream()
    await call.write(pb.HeartbeatStreamRequest(sequence=1, bind=pb.Bind(runtime_id="rt")))
    bound = await call.read()
    assert (bound.sequence, bound.bound_agents) == (1, 2)
    assert bound.heartbeat_timeout.ToSeconds() == 60
    await call.write(pb.HeartbeatStreamRequest(sequence=2, beat=pb.Beat(agent_ids=["a1", "ghost"])))
    beat = await call.read()
    assert (beat.sequence, list(beat.unknown_agent_ids)) == (2, ["ghost"])
    await call.write(pb.HeartbeatStreamRequest(sequence=3, unbind=pb.Unbind(agent_ids=["a2"])))
    assert (await call.read()).bound_agents == 1
    runtimes = await daemon.stub.ListRuntimes(pb.ListRuntimesRequest())
    assert [(r.runtime_id, r.stream_connected) for r in runtimes.runtimes] == [("rt", True)]
    call.cancel()


async def test_a_refused_stream_message_is_answered_and_the_stream_stays_open(daemon):
    await register(daemon.stub, "rt", "a1")
    call = daemon.stub.HeartbeatStream()
    await call.write(pb.HeartbeatStreamRequest(sequence=1, beat=pb.Beat()))
    first = await call.read()
    assert (first.sequence, first.error.code) == (1, "FAILED_PRECONDITION") and "bind" in first.error.message
    await call.write(pb.HeartbeatStreamRequest(sequence=2))
    no_action = await call.read()
    assert (no_action.error.code, no_action.error.field) == ("INVALID_ARGUMENT", "action")
    await call.write(pb.HeartbeatStreamRequest(sequence=3, bind=pb.Bind(runtime_id="rt")))
    bound = await call.read()
    assert (bound.sequence, bound.bound_agents, bound.HasField("error")) == (3, 1, False)
    await call.write(pb.HeartbeatStreamRequest(sequence=4, beat=pb.Beat(status=UNHEALTHY)))
    unhealthy = await call.read()
    assert (unhealthy.error.code, unhealthy.error.field) == ("INVALID_ARGUMENT", "beat.status")
    assert unhealthy.bound_agents == 1 and unhealthy.heartbeat_timeout.ToSeconds() == 60  # the state stands
    agent = (await daemon.stub.GetAgent(pb.GetAgentRequest(agent_id="a1"))).agent
    assert agent.status == pb.AGENT_STATUS_ACTIVE  # nothing of a refused message applies, the stream lives
    await call.done_writing()
    assert await call.read() is grpc.aio.EOF


async def test_list_runtimes_lists_each_runtime_with_its_agents(daemon):
    await register(daemon.stub, "rt-b", "b1")
    await register(daemon.stub, "rt-a", "a2")
    await register(daemon.stub, "rt-a", "a1")
    response = await daemon.stub.ListRuntimes(pb.ListRuntimesRequest())
    assert [
        (r.runtime_id, list(r.agent_ids), r.agent_count, r.stream_connected) for r in response.runtimes
    ] == [
        ("rt-a", ["a1", "a2"], 2, False),
        ("rt-b", ["b1"], 1, False),
    ]
    assert response.revision == 5


async def test_get_stats_reports_totals_distributions_and_counters(daemon):
    await register(daemon.stub, "rt", "a1", "x")
    await register(daemon.stub, "rt", "a2", "y")
    await daemon.stub.UpdateAgentStatus(pb.UpdateAgentStatusRequest(agent_id="a2", status=OFFLINE))
    await daemon.stub.FindAgents(pb.FindAgentsRequest(capability="x"))
    await daemon.stub.DeregisterAgent(pb.DeregisterAgentRequest(agent_id="a1"))
    stats = await daemon.stub.GetStats(pb.GetStatsRequest())
    assert (stats.total_agents, stats.total_runtimes) == (1, 1)
    assert stats.status_distribution["OFFLINE"] == 1 and stats.status_distribution["ACTIVE"] == 0
    assert dict(stats.runtime_distribution) == {"rt": 1}
    assert (stats.total_registrations, stats.total_deregistrations, stats.total_queries) == (2, 1, 1)
    assert stats.capability_index_size == 1 and stats.revision == 5 and not stats.expiry_guard_active


@pytest.mark.one_process("a single daemon always leads; of two replicas either may (tests/cluster)")
async def test_get_stats_reports_the_replica_that_answered_and_a_single_daemon_leads(daemon):
    await register(daemon.stub, "rt", "a1", "x")
    call = daemon.stub.HeartbeatStream()
    await call.write(pb.HeartbeatStreamRequest(bind=pb.Bind(runtime_id="rt")))
    await call.read()
    replica = (await daemon.stub.GetStats(pb.GetStatsRequest())).replica
    call.cancel()
    assert replica.leader and len(replica.replica_id) == 32 and replica.streaming_runtimes == 1
    assert replica.started_at.seconds <= time.time() < replica.started_at.seconds + 600


async def test_subscribe_refuses_bad_filters(daemon):
    for request, field in [
        (pb.SubscribeRequest(from_revision=-1), "from_revision"),
        (pb.SubscribeRequest(types=[pb.EVENT_TYPE_UNSPECIFIED]), "types[0]"),
    ]:
        call = daemon.stub.Subscribe(request)
        with pytest.raises(grpc.aio.AioRpcError) as error:
            await call.read()
        assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert bad_request_fields(error.value) == [field]


async def test_limits_beyond_capacity_are_resource_exhausted_and_change_nothing(serve):
    daemon = await serve(limits=Limits(max_agents_per_runtime=2, max_subscribers=1), **STEADY)
    await register(daemon.stub, "rt", "a1")
    await register(daemon.stub, "rt", "a2")
    error = await refused(register(daemon.stub, "rt", "a3"))
    assert (
        error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED and "max_agents_per_runtime=2" in error.details()
    )
    assert (await daemon.stub.GetStats(pb.GetStatsRequest())).total_agents == 2
    first = daemon.stub.Subscribe(pb.SubscribeRequest())
    await first.read()
    second = daemon.stub.Subscribe(pb.SubscribeRequest())
    with pytest.raises(grpc.aio.AioRpcError) as error_info:
        await second.read()
    assert error_info.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert "max_subscribers=1" in error_info.value.details()
    first.cancel()
