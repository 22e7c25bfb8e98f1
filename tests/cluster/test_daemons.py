"""registryd processes in cluster mode (--store etcd) over a real etcd, through real gRPC channels."""

from __future__ import annotations

import asyncio
import signal
import time

import grpc
import pytest
from agentregistry.v1 import registry_pb2 as pb
from agentregistry.v1 import registry_pb2_grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from tests.service.service_support import Subscriber, register

NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING
SERVING = health_pb2.HealthCheckResponse.SERVING


async def test_a_write_on_one_replica_reaches_a_subscriber_on_another_in_order(cluster):
    a, b = cluster(), cluster()
    async with grpc.aio.insecure_channel(a.address) as ca, grpc.aio.insecure_channel(b.address) as cb:
        on_a = registry_pb2_grpc.RegistryServiceStub(ca)
        on_b = registry_pb2_grpc.RegistryServiceStub(cb)
        watcher = Subscriber(on_b, pb.SubscribeRequest())
        await watcher.started()
        answer = await register(on_a, "rt", "a1", "python")
        events = await watcher.events(2)
        assert [e.type for e in events] == [pb.EVENT_TYPE_RUNTIME_JOINED, pb.EVENT_TYPE_AGENT_REGISTERED]
        assert events[-1].revision == answer.revision
        call = on_a.ListAgents(pb.ListAgentsRequest())
        listed = await call
        history = dict(await call.trailing_metadata())["registry-history"]
        other = on_b.GetStats(pb.GetStatsRequest())
        await other
        assert dict(await other.trailing_metadata())["registry-history"] == history  # one history
        resumed = Subscriber(on_b, pb.SubscribeRequest(from_revision=listed.revision + 1))
        await on_b.DeregisterAgent(pb.DeregisterAgentRequest(agent_id="a1"))
        (gone,) = await resumed.events(1)
        assert (gone.type, gone.revision) == (pb.EVENT_TYPE_AGENT_DEREGISTERED, listed.revision + 1)
        await watcher.close()
        await resumed.close()


async def test_a_replica_cut_off_from_etcd_is_not_serving_and_refuses_writes_at_once(cluster, etcd):
    a = cluster()
    async with grpc.aio.insecure_channel(a.address) as channel:
        stub = registry_pb2_grpc.RegistryServiceStub(channel)
        health = health_pb2_grpc.HealthStub(channel)
        await register(stub, "rt", "a1")
        etcd.proc.send_signal(signal.SIGSTOP)
        try:
            started = time.monotonic()
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await register(stub, "rt", "a2")
            assert refused.value.code() == grpc.StatusCode.UNAVAILABLE
            assert time.monotonic() - started < 3
            while (await health.Check(health_pb2.HealthCheckRequest())).status != NOT_SERVING:
                assert time.monotonic() - started < 5
                await asyncio.sleep(0.1)
            reads = await stub.GetAgent(pb.GetAgentRequest(agent_id="a1"))  # reads still answer
            assert reads.agent.agent_id == "a1"
        finally:
            etcd.proc.send_signal(signal.SIGCONT)
        while (await health.Check(health_pb2.HealthCheckRequest())).status != SERVING:
            assert time.monotonic() - started < 15, "did not recover when etcd came back"
            await asyncio.sleep(0.1)
        await register(stub, "rt", "a3")
