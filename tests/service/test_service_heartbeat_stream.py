"""How a heartbeat stream's end reaches subscribers: lost -> UNHEALTHY, half-closed -> OFFLINE."""

from __future__ import annotations

import asyncio
import time

import grpc
from agentregistry.v1 import registry_pb2 as pb
from agentregistry.v1 import registry_pb2_grpc
from service_support import EVENT, register

STATUS_CHANGED = EVENT.Value("EVENT_TYPE_AGENT_STATUS_CHANGED")
LOSS_BOUND = 2.0  # seconds from a killed stream to the subscriber's event (generous; typically ~50 ms)
QUIET = 0.5  # seconds in which nothing may happen (another replica reacts within milliseconds)


async def bound_stream(daemon, runtime_id: str, *agent_ids: str) -> grpc.aio.StreamStreamCall:
    """Register `agent_ids`, then open a stream on a connection of its own bound to every agent of the runtime."""
    for agent_id in agent_ids:
        await register(daemon.stub, runtime_id, agent_id)
    call = daemon.new_stub().HeartbeatStream()
    await call.write(pb.HeartbeatStreamRequest(sequence=1, bind=pb.Bind(runtime_id=runtime_id)))
    await call.read()
    return call


async def test_cancelled_stream_marks_bound_agents_unhealthy_stream_lost(daemon, subscribe):
    call = await bound_stream(daemon, "rt", "a1", "a2")
    events = subscribe(daemon.other.stub, types=[STATUS_CHANGED])
    await events.started()
    killed_at = time.monotonic()
    call.cancel()
    arrivals = [await events.event(LOSS_BOUND + 1) for _ in range(2)]
    latency = arrivals[-1][0] - killed_at
    print(f"\nstream cancel -> AGENT_STATUS_CHANGED(STREAM_LOST) at the subscriber: {latency * 1000:.1f} ms")
    assert latency < LOSS_BOUND
    assert [(e.agent_id, e.new_status, e.status_reason) for _, e in arrivals] == [
        ("a1", pb.AGENT_STATUS_UNHEALTHY, pb.STATUS_REASON_STREAM_LOST),
        ("a2", pb.AGENT_STATUS_UNHEALTHY, pb.STATUS_REASON_STREAM_LOST),
    ]


async def test_closed_channel_marks_bound_agents_unhealthy_stream_lost(daemon, subscribe):
    await register(daemon.stub, "rt", "a1")
    channel = grpc.aio.insecure_channel(daemon.address)
    call = registry_pb2_grpc.RegistryServiceStub(channel).HeartbeatStream()
    await call.write(pb.HeartbeatStreamRequest(sequence=1, bind=pb.Bind(runtime_id="rt")))
    await call.read()
    events = subscribe(daemon.other.stub, types=[STATUS_CHANGED])
    await events.started()
    closed_at = time.monotonic()
    await channel.close()
    at, event = await events.event(LOSS_BOUND + 1)
    print(
        f"\nchannel close -> AGENT_STATUS_CHANGED(STREAM_LOST) at the subscriber: {(at - closed_at) * 1000:.1f} ms"
    )
    assert at - closed_at < LOSS_BOUND
    assert (event.agent_id, event.new_status, event.status_reason) == (
        "a1",
        pb.AGENT_STATUS_UNHEALTHY,
        pb.STATUS_REASON_STREAM_LOST,
    )


async def test_half_closed_stream_marks_bound_agents_offline_stream_closed(daemon, subscribe):
    call = await bound_stream(daemon, "rt", "a1")
    await register(daemon.stub, "rt", "a2")  # the runtime's, but not bound to the stream
    events = subscribe(daemon.other.stub, types=[STATUS_CHANGED])
    await events.started()
    await call.done_writing()
    assert await call.code() == grpc.StatusCode.OK  # once the change is applied: reads after it see it
    agent = (await daemon.stub.GetAgent(pb.GetAgentRequest(agent_id="a1"))).agent
    assert (agent.status, agent.status_reason) == (pb.AGENT_STATUS_OFFLINE, pb.STATUS_REASON_STREAM_CLOSED)
    _, event = await events.event(LOSS_BOUND + 1)
    assert (event.agent_id, event.new_status, event.status_reason) == (
        "a1",
        pb.AGENT_STATUS_OFFLINE,
        pb.STATUS_REASON_STREAM_CLOSED,
    )
    await asyncio.sleep(QUIET)  # a clean end is no death: the unbound agent keeps its status, everywhere
    assert events.drained() == []
    await daemon.synced()
    agent = (await daemon.other.stub.GetAgent(pb.GetAgentRequest(agent_id="a2"))).agent
    assert agent.status == pb.AGENT_STATUS_ACTIVE


async def test_heartbeat_after_stream_loss_brings_agents_back(daemon, subscribe):
    call = await bound_stream(daemon, "rt", "a1")
    events = subscribe(daemon.other.stub, types=[STATUS_CHANGED])
    await events.started()
    call.cancel()
    await events.event()
    again = await bound_stream(daemon, "rt")
    _, event = await events.event()
    assert (event.new_status, event.status_reason) == (
        pb.AGENT_STATUS_ACTIVE,
        pb.STATUS_REASON_HEARTBEAT_RESUMED,
    )
    again.cancel()


async def test_stream_beats_keep_agents_alive_past_their_timeout(serve):
    daemon = await serve()  # tenth-of-a-second liveness
    call = await bound_stream(daemon, "rt", "a1")
    deadline = time.monotonic() + 1.0  # longer than auto_deregister_timeout (0.8 s)
    sequence = 2
    while time.monotonic() < deadline:
        await call.write(pb.HeartbeatStreamRequest(sequence=sequence, beat=pb.Beat()))
        assert (await call.read()).sequence == sequence
        sequence += 1
        await asyncio.sleep(0.1)
    agent = (await daemon.stub.GetAgent(pb.GetAgentRequest(agent_id="a1"))).agent
    assert agent.status == pb.AGENT_STATUS_ACTIVE
    call.cancel()


async def test_open_but_silent_stream_still_times_its_agents_out(serve, subscribe):
    """A runtime that hangs while its socket stays open is caught by the heartbeat timeout."""
    daemon = await serve()  # tenth-of-a-second liveness
    call = await bound_stream(daemon, "rt", "a1")
    events = subscribe(daemon.other.stub, types=[STATUS_CHANGED])
    await events.started()
    _, event = await events.event(timeout=2)
    assert (event.new_status, event.status_reason) == (
        pb.AGENT_STATUS_UNHEALTHY,
        pb.STATUS_REASON_HEARTBEAT_TIMEOUT,
    )
    call.cancel()


async def test_agents_taken_over_by_a_newer_stream_ignore_the_old_streams_end(daemon, subscribe):
    old = await bound_stream(daemon, "rt", "a1", "a2")
    new = daemon.new_stub().HeartbeatStream()
    await new.write(pb.HeartbeatStreamRequest(sequence=1, bind=pb.Bind(runtime_id="rt", agent_ids=["a1"])))
    assert (await new.read()).bound_agents == 1
    events = subscribe(daemon.other.stub, types=[STATUS_CHANGED])
    await events.started()
    old.cancel()
    _, event = await events.event()
    assert (event.agent_id, event.status_reason) == ("a2", pb.STATUS_REASON_STREAM_LOST)
    await new.done_writing()
    _, event = await events.event()
    assert (event.agent_id, event.status_reason) == ("a1", pb.STATUS_REASON_STREAM_CLOSED)
