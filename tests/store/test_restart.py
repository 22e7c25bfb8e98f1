"""A daemon on the sqlite store, stopped and started again on the same data dir, over real gRPC."""

from __future__ import annotations

import asyncio
from pathlib import Path

import grpc
from agentregistry.v1 import registry_pb2 as pb
from agentregistry.v1 import registry_pb2_grpc

CARD = pb.AgentCard(
    name="coder",
    description="writes code",
    version="2.0",
    url="http://127.0.0.1:9000",
    capability_phrases=["Python code generation"],
    skills=[pb.Skill(id="s1", name="refactor", description="tidies", tags=["legacy", "python"])],
    labels={"team": "tools"},
)


async def all_agents(stub: registry_pb2_grpc.RegistryServiceStub) -> dict[str, pb.Agent]:
    agents: dict[str, pb.Agent] = {}
    token = ""
    while True:
        page = await stub.ListAgents(pb.ListAgentsRequest(page_size=100, page_token=token))
        for agent in page.agents:
            agent.ClearField("last_heartbeat")  # heartbeat times are not persisted
            agents[agent.agent_id] = agent
        token = page.next_page_token
        if not token:
            return agents


async def events_until(call: grpc.aio.UnaryStreamCall, revision: int, timeout: float = 5.0) -> list[pb.Event]:
    """Events from a Subscribe stream up to and including `revision` (bookmarks skipped)."""
    events: list[pb.Event] = []

    async def collect() -> None:
        while not events or events[-1].revision < revision:
            message = await call.read()
            if message.HasField("event"):
                events.append(message.event)

    await asyncio.wait_for(collect(), timeout)
    return events


async def history(stub: registry_pb2_grpc.RegistryServiceStub) -> str:
    """The `registry-history` metadata of an answer."""
    call = stub.GetStats(pb.GetStatsRequest())
    await call
    return dict(await call.trailing_metadata())["registry-history"]


async def test_the_history_id_is_made_with_the_data_file_and_kept_across_restarts(durable) -> None:
    first = await durable()
    made = await history(first.stub)
    await first.stub.RegisterAgent(pb.RegisterAgentRequest(agent_id="a", runtime_id="rt", card=CARD))
    await first.daemon.stop()

    second = await durable()
    assert await history(second.stub) == made and len(made) == 32
    subscription = second.stub.Subscribe(pb.SubscribeRequest())
    assert dict(await subscription.initial_metadata())["registry-history"] == made
    subscription.cancel()


async def test_restart_keeps_agents_cards_owners_statuses_and_registration_times(durable) -> None:
    first = await durable()
    for i in range(5):
        await first.stub.RegisterAgent(
            pb.RegisterAgentRequest(agent_id=f"a{i}", runtime_id=f"rt-{i % 2}", card=CARD)
        )
    await first.stub.RegisterAgent(
        pb.RegisterAgentRequest(agent_id="plain", runtime_id="rt-9", card=pb.AgentCard(name="plain"))
    )
    await first.stub.UpdateAgentStatus(
        pb.UpdateAgentStatusRequest(agent_id="a1", status=pb.AGENT_STATUS_OFFLINE)
    )
    await first.stub.UpdateAgentStatus(
        pb.UpdateAgentStatusRequest(agent_id="a2", status=pb.AGENT_STATUS_DEGRADED)
    )
    await first.stub.DeregisterAgent(pb.DeregisterAgentRequest(agent_id="a3"))
    before = await all_agents(first.stub)
    runtimes = await first.stub.ListRuntimes(pb.ListRuntimesRequest())
    await first.daemon.stop()

    second = await durable()
    after = await all_agents(second.stub)
    assert after == before
    assert sorted(after) == ["a0", "a1", "a2", "a4", "plain"]
    assert after["a1"].status == pb.AGENT_STATUS_OFFLINE
    assert after["a1"].status_reason == pb.STATUS_REASON_OPERATOR
    # The pre-1.0 fields this old-style card used come back where A2A 1.0 and the Agent keep them.
    a0 = after["a0"]
    assert a0.card.name == "coder" and a0.card.skills == CARD.skills and not a0.card.labels
    assert [(i.url, i.protocol_binding) for i in a0.card.supported_interfaces] == [
        ("http://127.0.0.1:9000", "JSONRPC")
    ]
    assert list(a0.capabilities) == ["Python code generation"] and dict(a0.labels) == {"team": "tools"}
    assert after["a0"].registered_at.seconds > 0
    restored = await second.stub.ListRuntimes(pb.ListRuntimesRequest())
    assert [(r.runtime_id, list(r.agent_ids)) for r in restored.runtimes] == [
        (r.runtime_id, list(r.agent_ids)) for r in runtimes.runtimes
    ]
    found = await second.stub.FindAgents(pb.FindAgentsRequest(capability="legacy"))
    assert [m.agent.agent_id for m in found.matches] == ["a0", "a4"]


async def test_revisions_continue_where_they_stopped(durable) -> None:
    first = await durable()
    await first.stub.RegisterAgent(pb.RegisterAgentRequest(agent_id="a", runtime_id="rt", card=CARD))
    stopped_at = (await first.stub.GetStats(pb.GetStatsRequest())).revision
    await first.daemon.stop()

    second = await durable()
    assert (await second.stub.GetStats(pb.GetStatsRequest())).revision == stopped_at
    response = await second.stub.RegisterAgent(
        pb.RegisterAgentRequest(agent_id="b", runtime_id="rt", card=CARD)
    )
    assert response.revision == response.agent.revision == stopped_at + 1


async def test_subscriber_resumes_across_a_restart_without_a_gap(durable) -> None:
    first = await durable()
    subscription = first.stub.Subscribe(pb.SubscribeRequest(from_revision=1))
    seen = (
        await first.stub.RegisterAgent(pb.RegisterAgentRequest(agent_id="a", runtime_id="rt", card=CARD))
    ).revision
    received = await events_until(subscription, seen)
    subscription.cancel()
    # Changes the subscriber misses: before the stop, and after the restart.
    await first.stub.UpdateAgentStatus(
        pb.UpdateAgentStatusRequest(agent_id="a", status=pb.AGENT_STATUS_DEGRADED)
    )
    await first.stub.RegisterAgent(pb.RegisterAgentRequest(agent_id="b", runtime_id="rt-2", card=CARD))
    await first.daemon.stop()
    second = await durable()
    last = (await second.stub.DeregisterAgent(pb.DeregisterAgentRequest(agent_id="b"))).revision

    resumed = await events_until(second.stub.Subscribe(pb.SubscribeRequest(from_revision=seen + 1)), last)
    revisions = [e.revision for e in received + resumed]
    assert revisions == list(range(1, last + 1))
    assert [pb.EventType.Name(e.type) for e in resumed] == [
        "EVENT_TYPE_AGENT_STATUS_CHANGED",
        "EVENT_TYPE_RUNTIME_JOINED",
        "EVENT_TYPE_AGENT_REGISTERED",
        "EVENT_TYPE_AGENT_DEREGISTERED",
        "EVENT_TYPE_RUNTIME_LEFT",
    ]


async def test_compacted_revision_survives_a_restart(durable) -> None:
    first = await durable(event_retention=3)
    for i in range(4):
        await first.stub.RegisterAgent(pb.RegisterAgentRequest(agent_id=f"a{i}", runtime_id="rt", card=CARD))
    await first.daemon.stop()

    second = await durable(event_retention=3)
    stats = await second.stub.GetStats(pb.GetStatsRequest())
    assert (stats.compacted_revision, stats.revision) == (2, 5)
    try:
        await second.stub.Subscribe(pb.SubscribeRequest(from_revision=2)).read()
    except grpc.aio.AioRpcError as error:
        assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
    else:
        raise AssertionError("resuming from a compacted revision was accepted")
    replay = await events_until(second.stub.Subscribe(pb.SubscribeRequest(from_revision=3)), 5)
    assert [e.revision for e in replay] == [3, 4, 5]


async def test_loaded_agents_get_a_fresh_grace_period_after_downtime(durable) -> None:
    first = await durable(heartbeat_timeout=0.3, auto_deregister_timeout=0.8)
    await first.stub.RegisterAgent(pb.RegisterAgentRequest(agent_id="a", runtime_id="rt", card=CARD))
    await first.daemon.stop()
    await asyncio.sleep(1.0)  # downtime longer than auto_deregister_timeout

    second = await durable(heartbeat_timeout=0.3, auto_deregister_timeout=0.8)
    agent = (await second.stub.GetAgent(pb.GetAgentRequest(agent_id="a"))).agent
    assert agent.status == pb.AGENT_STATUS_ACTIVE
    deadline = asyncio.get_running_loop().time() + 5
    while (
        await second.stub.GetAgent(pb.GetAgentRequest(agent_id="a"))
    ).agent.status == pb.AGENT_STATUS_ACTIVE:
        assert asyncio.get_running_loop().time() < deadline, "the loaded agent never timed out"
        await asyncio.sleep(0.05)


async def test_memory_store_keeps_nothing_and_writes_no_files(serve, tmp_path: Path) -> None:
    data_dir = tmp_path / "unused"
    first = await serve(store="memory", data_dir=str(data_dir))
    await first.stub.RegisterAgent(pb.RegisterAgentRequest(agent_id="a", runtime_id="rt", card=CARD))
    first_history = await history(first.stub)
    await first.daemon.stop()

    second = await serve(store="memory", data_dir=str(data_dir))
    assert (await second.stub.GetStats(pb.GetStatsRequest())).total_agents == 0
    assert await history(second.stub) != first_history  # each start is a new history
    assert not data_dir.exists()
