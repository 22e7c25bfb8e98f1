"""Heartbeat timeouts through the daemon, with tenth-of-a-second settings (0.3 s, 0.8 s)."""

from __future__ import annotations

import asyncio

import grpc
import pytest
from agentregistry.v1 import registry_pb2 as pb
from agentregistry.v1 import registry_pb2_grpc
from service_support import EVENT, Subscriber, register

PRECISION = 0.1  # a transition fires within this long after its deadline (plus a little for the wire)
REPLICA_LAG = 0.2  # later still when another replica judges (README, Cluster mode: late, never early)
HEARTBEAT_TIMEOUT, AUTO_DEREGISTER_TIMEOUT = 0.3, 0.8


@pytest.fixture
async def daemon(serve):
    """These tests need the tenth-of-a-second liveness of the shared FAST configuration."""
    return await serve()


def seconds(ts) -> float:
    return ts.seconds + ts.nanos / 1e9


async def assert_silent_agent_times_out_on_time(
    stub, events: Subscriber, precision: float = PRECISION
) -> None:
    await events.started()
    agent = (await register(stub, "rt", "a1")).agent
    await events.events(2)  # joined, registered
    _, unhealthy = await events.event_of(EVENT.Value("EVENT_TYPE_AGENT_STATUS_CHANGED"))
    assert (unhealthy.new_status, unhealthy.status_reason) == (
        pb.AGENT_STATUS_UNHEALTHY,
        pb.STATUS_REASON_HEARTBEAT_TIMEOUT,
    )
    late = seconds(unhealthy.time) - seconds(agent.last_heartbeat) - HEARTBEAT_TIMEOUT
    assert -0.01 <= late < precision
    _, removed = await events.event_of(EVENT.Value("EVENT_TYPE_AGENT_DEREGISTERED"))
    assert removed.deregister_reason == pb.DEREGISTER_REASON_EXPIRED
    late = seconds(removed.time) - seconds(agent.last_heartbeat) - AUTO_DEREGISTER_TIMEOUT
    assert -0.01 <= late < precision
    _, left = await events.event_of(EVENT.Value("EVENT_TYPE_RUNTIME_LEFT"), timeout=1)
    assert left.runtime_id == "rt"


async def test_silent_agent_turns_unhealthy_then_is_deregistered_on_time(daemon, subscribe):
    precision = PRECISION if daemon.other is daemon else PRECISION + REPLICA_LAG
    await assert_silent_agent_times_out_on_time(daemon.stub, subscribe(daemon.other.stub), precision)


async def test_daemon_process_on_uvloop_times_agents_out_on_time(daemon_process, subscribe):
    process = daemon_process(
        "--store",
        "memory",
        "--heartbeat-timeout",
        str(HEARTBEAT_TIMEOUT),
        "--auto-deregister-timeout",
        str(AUTO_DEREGISTER_TIMEOUT),
    )
    async with grpc.aio.insecure_channel(process.address) as channel:
        stub = registry_pb2_grpc.RegistryServiceStub(channel)
        events = subscribe(stub)
        await assert_silent_agent_times_out_on_time(stub, events)
        await events.close()


async def test_unary_heartbeats_keep_an_agent_active(daemon):
    await register(daemon.stub, "rt", "a1")
    for _ in range(10):  # 1 s in all: past both timeouts
        await daemon.stub.Heartbeat(pb.HeartbeatRequest(runtime_id="rt"))
        await asyncio.sleep(0.1)
    agent = (await daemon.stub.GetAgent(pb.GetAgentRequest(agent_id="a1"))).agent
    assert agent.status == pb.AGENT_STATUS_ACTIVE


async def test_heartbeat_after_a_timeout_resumes_the_agent(daemon, subscribe):
    events = subscribe(daemon.other.stub, types=[EVENT.Value("EVENT_TYPE_AGENT_STATUS_CHANGED")])
    await events.started()
    await register(daemon.stub, "rt", "a1")
    await events.event()
    await daemon.stub.Heartbeat(pb.HeartbeatRequest(runtime_id="rt", agent_ids=["a1"]))
    _, resumed = await events.event()
    assert (resumed.old_status, resumed.new_status, resumed.status_reason) == (
        pb.AGENT_STATUS_UNHEALTHY,
        pb.AGENT_STATUS_ACTIVE,
        pb.STATUS_REASON_HEARTBEAT_RESUMED,
    )
