"""Consistent reads (`consistent` on GetAgent, ListAgents, FindAgents, SelectAgent, ListRuntimes and
GetStats): two daemons over a real etcd, through real gRPC channels and the SDK."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
import time
from pathlib import Path

import grpc
import pytest
from agentregistry import AgentStatus, RegistryClient
from agentregistry.v1 import registry_pb2 as pb

from tests.service.service_support import STEADY, register

REGISTRYCTL = Path(sys.executable).with_name("registryctl")


@pytest.fixture
async def pair(serve, etcd, prefix):
    """Two replicas over one etcd prefix, each its own daemon in this loop."""
    options = {"store": "etcd", "etcd_endpoints": etcd.endpoint, "etcd_prefix": prefix, **STEADY}
    return await serve(**options, etcd_timeout=1.5), await serve(**options, etcd_timeout=1.5)


async def test_a_consistent_read_on_one_replica_reflects_a_write_acknowledged_on_another(pair):
    a, b = pair
    for n in range(10):
        written = await register(a.stub, "rt", f"agent-{n}", "python")
        got = await b.stub.GetAgent(pb.GetAgentRequest(agent_id=f"agent-{n}", consistent=True))
        assert got.agent.agent_id == f"agent-{n}" and got.revision >= written.revision
    await a.stub.UpdateAgentStatus(
        pb.UpdateAgentStatusRequest(agent_id="agent-9", status=pb.AGENT_STATUS_DEGRADED)
    )
    listed = await b.stub.ListAgents(pb.ListAgentsRequest(consistent=True))
    found = await b.stub.FindAgents(pb.FindAgentsRequest(capability="python", limit=100, consistent=True))
    selected = await b.stub.SelectAgent(pb.SelectAgentRequest(capability="python", consistent=True))
    runtimes = await b.stub.ListRuntimes(pb.ListRuntimesRequest(consistent=True))
    stats = await b.stub.GetStats(pb.GetStatsRequest(consistent=True))
    assert [x.status for x in listed.agents if x.agent_id == "agent-9"] == [pb.AGENT_STATUS_DEGRADED]
    assert len(found.matches) == 9  # ACTIVE only: agent-9 is DEGRADED now
    assert selected.agent.agent_id and selected.agent.agent_id != "agent-9"
    assert [r.agent_count for r in runtimes.runtimes] == [10]
    assert stats.total_agents == 10 and stats.status_distribution["DEGRADED"] == 1


async def test_the_sdk_and_a_plain_read_take_the_consistent_keyword(pair):
    a, b = pair
    async with RegistryClient(a.address, timeout=5.0) as on_a, RegistryClient(b.address, timeout=5.0) as on_b:
        await register(a.stub, "rt", "a1", "python")
        await on_a.update_agent_status("a1", AgentStatus.OFFLINE)
        assert (await on_b.get_agent("a1", consistent=True)).status is AgentStatus.OFFLINE
        assert [x.agent_id for x in (await on_b.list_all_agents(consistent=True)).agents] == ["a1"]
        statuses = (AgentStatus.OFFLINE,)
        assert len((await on_b.find_agents("python", statuses, consistent=True)).matches) == 1
        assert (await on_b.select_agent("python", consistent=True)).agent is None  # none is ACTIVE
        assert [r.runtime_id for r in (await on_b.list_runtimes(consistent=True)).runtimes] == ["rt"]
        assert (await on_b.get_stats(consistent=True)).total_agents == 1


async def test_a_replica_that_cannot_catch_up_refuses_a_consistent_read_within_the_timeout(pair):
    a, b = pair
    await register(a.stub, "rt", "a1")
    await b.stub.GetAgent(pb.GetAgentRequest(agent_id="a1", consistent=True))
    b.daemon.registry.committer._follower.cancel()  # b's view stops applying changes: it lags from now on
    await register(a.stub, "rt", "a2")
    started = time.monotonic()
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await b.stub.GetAgent(pb.GetAgentRequest(agent_id="a2", consistent=True))
    assert refused.value.code() == grpc.StatusCode.UNAVAILABLE
    assert "not yet" in refused.value.details() and time.monotonic() - started < 5
    with pytest.raises(grpc.aio.AioRpcError) as plain:  # a plain read answers from the view at once
        await b.stub.GetAgent(pb.GetAgentRequest(agent_id="a2"))
    assert plain.value.code() == grpc.StatusCode.NOT_FOUND


async def test_a_consistent_read_is_refused_when_etcd_cannot_answer_and_a_plain_read_is_not(pair, etcd):
    a, b = pair
    await register(a.stub, "rt", "a1")
    await b.stub.GetAgent(pb.GetAgentRequest(agent_id="a1", consistent=True))  # b has applied it
    etcd.proc.send_signal(signal.SIGSTOP)
    try:
        started = time.monotonic()
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await b.stub.ListAgents(pb.ListAgentsRequest(consistent=True))
        assert refused.value.code() == grpc.StatusCode.UNAVAILABLE
        assert "store's revision" in refused.value.details() and time.monotonic() - started < 5
        assert len((await b.stub.ListAgents(pb.ListAgentsRequest())).agents) == 1
    finally:
        etcd.proc.send_signal(signal.SIGCONT)


async def test_registryctl_reads_consistently_from_another_replica(pair):
    a, b = pair
    await register(a.stub, "rt", "a1", "python")
    command = await asyncio.create_subprocess_exec(
        str(REGISTRYCTL), "--target", b.address, "-o", "json", "agents", "get", "a1", "--consistent",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(command.communicate(), 30)
    assert command.returncode == 0, err.decode()
    assert json.loads(out)["agent_id"] == "a1"
