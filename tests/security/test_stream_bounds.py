"""Clients that open streams and never read, or open thousands of them, are bounded and cut off, and
other clients do not notice."""

from __future__ import annotations

import asyncio
import time

import grpc
import pytest
from agentregistry.v1 import registry_pb2 as pb
from google.rpc import error_details_pb2
from grpc_status import rpc_status
from polling import wait_for

from registryd.core.validation import Limits

# ~60 KB, near max_card_bytes: a stalled reader's connection buffers fill after a few MB, that is some
# dozens of these, and then the server's writes to it block.
BIG_CARD = pb.AgentCard(
    name="agent", capability_phrases=["Python code"], labels={f"k{i}": "v" * 1000 for i in range(60)}
)


async def _read_all(call, count: int) -> list[pb.SubscribeResponse]:
    events = []
    while len(events) < count:
        response = await call.read()
        if response.HasField("event"):
            events.append(response.event)
    return events


async def test_subscriber_that_never_reads_is_cut_off_and_others_get_every_event(serve):
    running = await serve(event_queue_size=20, heartbeat_timeout=60, auto_deregister_timeout=120)
    registry = running.daemon.registry
    stalled = running.new_stub().Subscribe(pb.SubscribeRequest())
    await stalled.read()  # subscribed; from now on it never reads
    healthy = running.new_stub().Subscribe(pb.SubscribeRequest())
    await healthy.read()
    count = 400  # 200 registrations: a RUNTIME_JOINED and an AGENT_REGISTERED each
    reader = asyncio.ensure_future(_read_all(healthy, count))
    started = time.monotonic()
    for i in range(count // 2):
        await running.stub.RegisterAgent(
            pb.RegisterAgentRequest(agent_id=f"a{i}", runtime_id=f"rt{i}", card=BIG_CARD)
        )
    writes = time.monotonic() - started
    events = await asyncio.wait_for(reader, 10)
    assert [e.revision for e in events] == list(range(1, count + 1))
    # the stalled one is gone, the healthy one stays
    await wait_for(lambda: registry.stats().subscribers == 1, timeout=10)
    assert registry.hub.dropped_subscribers == 1
    assert writes < 20.0  # nothing waited on the stalled subscriber (generous: the machine is shared)
    with pytest.raises(grpc.aio.AioRpcError) as cut_off:
        while await stalled.read() is not grpc.aio.EOF:  # what was in flight, then the end
            pass
    assert cut_off.value.code() is grpc.StatusCode.RESOURCE_EXHAUSTED
    info = error_details_pb2.ErrorInfo()
    assert rpc_status.from_call(cut_off.value).details[0].Unpack(info)
    assert info.reason == "SUBSCRIBER_OVERFLOW"
    assert 0 < int(info.metadata["last_revision"]) < count
    healthy.cancel()


async def test_thousands_of_subscriptions_are_bounded_and_others_are_served(serve):
    limit, attempts = 200, 2000
    running = await serve(
        limits=Limits(max_subscribers=limit), heartbeat_timeout=60, auto_deregister_timeout=120
    )
    hog = running.new_stub()
    calls = [hog.Subscribe(pb.SubscribeRequest()) for _ in range(attempts)]
    try:
        outcomes = await asyncio.gather(*(call.read() for call in calls), return_exceptions=True)
        served = [o for o in outcomes if isinstance(o, pb.SubscribeResponse)]
        refused = [o for o in outcomes if isinstance(o, grpc.aio.AioRpcError)]
        assert len(served) == limit and len(refused) == attempts - limit
        assert {e.code() for e in refused} == {grpc.StatusCode.RESOURCE_EXHAUSTED}
        assert f"max_subscribers={limit}" in refused[0].details()
        # Another client is served promptly while the hog holds every subscription.
        started = time.monotonic()
        await running.stub.RegisterAgent(
            pb.RegisterAgentRequest(agent_id="a1", runtime_id="rt", card=BIG_CARD)
        )
        assert (await running.stub.GetAgent(pb.GetAgentRequest(agent_id="a1"))).agent.runtime_id == "rt"
        assert time.monotonic() - started < 5.0
    finally:
        for call in calls:
            call.cancel()
    # The hog's subscriptions are released when it goes away; a new subscriber is served again.
    await wait_for(lambda: running.daemon.registry.stats().subscribers == 0, timeout=10)
    again = running.stub.Subscribe(pb.SubscribeRequest())
    assert (await again.read()).HasField("bookmark")
    again.cancel()


async def test_heartbeat_stream_spam_that_never_reads_is_held_back_and_others_are_served(serve):
    running = await serve(heartbeat_timeout=60, auto_deregister_timeout=120)
    await running.stub.RegisterAgent(pb.RegisterAgentRequest(agent_id="a1", runtime_id="rt", card=BIG_CARD))
    spam = running.new_stub().HeartbeatStream()
    await spam.write(pb.HeartbeatStreamRequest(sequence=0, bind=pb.Bind(runtime_id="rt", agent_ids=["a1"])))
    # Ids the daemon does not know: each ack lists them back (~12 KB), and the spammer reads none.
    beat = pb.HeartbeatStreamRequest(beat=pb.Beat(agent_ids=[f"gone-{i:06}" for i in range(1000)]))
    sent, held_back = 0, False
    deadline = time.monotonic() + 20.0
    while sent < 100_000 and time.monotonic() < deadline:
        try:
            await asyncio.wait_for(spam.write(beat), 0.5)
        except TimeoutError:
            held_back = True  # the daemon stopped taking messages: its acks are unread
            break
        sent += 1
    try:
        assert held_back, f"{sent} messages were all taken in {20.0}s"
        # The spammer is held back by flow control, not the daemon: others are served promptly.
        started = time.monotonic()
        for _ in range(20):
            await running.stub.Heartbeat(pb.HeartbeatRequest(runtime_id="rt", agent_ids=["a1"]))
            await running.stub.GetStats(pb.GetStatsRequest())
        assert time.monotonic() - started < 5.0
    finally:
        spam.cancel()
    await wait_for(lambda: running.daemon.registry.stats().heartbeat_streams == 0, timeout=10)
