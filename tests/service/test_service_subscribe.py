"""Subscribe: list-then-subscribe, resume, compaction, bookmarks and slow subscribers."""

from __future__ import annotations

import asyncio
import time

import grpc
import pytest
from agentregistry.v1 import registry_pb2 as pb
from agentregistry.v1 import registry_pb2_grpc
from polling import wait_for
from service_support import EVENT, STEADY, Subscriber, card, error_info, register

REGISTERED = EVENT.Value("EVENT_TYPE_AGENT_REGISTERED")


async def test_list_then_subscribe_from_the_next_revision_misses_and_repeats_nothing(daemon, subscribe):
    writer = daemon.new_stub()
    total = 150

    async def keep_registering() -> None:
        for i in range(total):
            await register(writer, f"rt{i % 4}", f"agent-{i:03d}")

    registering = asyncio.create_task(keep_registering())
    await wait_for(lambda: daemon.daemon.registry.stats().total_agents >= 20)
    listed = await daemon.stub.ListAgents(pb.ListAgentsRequest(page_size=1000))
    events = subscribe(daemon.other.stub, from_revision=listed.revision + 1)
    await registering
    final = (await daemon.stub.GetStats(pb.GetStatsRequest())).revision
    received: list[pb.Event] = []
    while not received or received[-1].revision < final:
        received.append((await events.event())[1])
    listed_ids = {a.agent_id for a in listed.agents}
    streamed_ids = [e.agent_id for e in received if e.type == REGISTERED]
    assert 0 < len(listed_ids) < total
    assert [e.revision for e in received] == list(range(listed.revision + 1, final + 1))
    assert not listed_ids & set(streamed_ids) and len(streamed_ids) == len(set(streamed_ids))
    assert listed_ids | set(streamed_ids) == {f"agent-{i:03d}" for i in range(total)}


async def test_resume_after_disconnect_gets_exactly_the_missed_events(daemon, subscribe):
    first = subscribe(daemon.new_stub())
    await first.started()
    for i in range(3):
        await register(daemon.stub, "rt", f"a{i}")
    seen = await first.events(4)
    await first.close()
    for i in range(3, 6):
        await register(daemon.stub, "rt", f"a{i}")
    resumed = subscribe(daemon.other.new_stub(), from_revision=seen[-1].revision + 1)
    missed = await resumed.events(3)
    assert [e.revision for e in seen + missed] == list(range(1, 8))
    assert [e.agent_id for e in missed] == ["a3", "a4", "a5"]
    await register(daemon.stub, "rt", "a6")
    assert (await resumed.events(1))[0].revision == 8


async def test_compacted_revision_is_failed_precondition_with_the_oldest_retained_revision(serve):
    daemon = await serve(event_retention=5, **STEADY)
    for i in range(5):
        await register(daemon.stub, "rt", f"a{i}")  # revisions 1..6
    call = daemon.stub.Subscribe(pb.SubscribeRequest(from_revision=1))
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await call.read()
    assert error.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    info = error_info(error.value)
    assert info.reason == "REVISION_COMPACTED" and info.metadata["oldest_revision"] == "2"
    assert "oldest retained revision is 2" in error.value.details()
    oldest = Subscriber(daemon.stub, pb.SubscribeRequest(from_revision=2))
    assert [e.revision for e in await oldest.events(5)] == [2, 3, 4, 5, 6]
    await oldest.close()


async def test_filtered_subscriber_gets_only_its_events_and_bookmarks_that_advance(daemon, subscribe):
    mine = subscribe(daemon.other.stub, runtime_id="mine", types=[REGISTERED])
    assert await mine.started() == 0
    await register(daemon.stub, "other", "b1")
    await register(daemon.stub, "mine", "a1")
    [event] = await mine.events(1)
    assert (event.agent_id, event.revision) == ("a1", 4)
    await register(daemon.stub, "other", "b2")
    deadline = time.monotonic() + 3
    while True:  # the next bookmark (every 0.2 s here) covers the other runtime's events
        _, message = await asyncio.wait_for(mine.messages.get(), deadline - time.monotonic())
        assert message.WhichOneof("kind") == "bookmark"
        if message.bookmark.revision == 5:
            break


async def test_heartbeat_events_reach_only_subscribers_that_ask_for_them(daemon, subscribe):
    await register(daemon.stub, "rt", "a1")
    beats = subscribe(daemon.stub, types=[EVENT.Value("EVENT_TYPE_AGENT_HEARTBEAT")])
    others = subscribe(daemon.stub)
    await beats.started()
    await others.started()
    await daemon.stub.Heartbeat(pb.HeartbeatRequest(runtime_id="rt"))
    [beat] = await beats.events(1)
    assert (beat.agent_id, beat.revision) == ("a1", 0)
    await register(daemon.stub, "rt", "a2")
    assert [e.agent_id for e in await others.events(1)] == ["a2"]


async def test_stalled_subscriber_delays_nobody_and_is_cut_off_with_its_last_revision(serve, subscribe):
    daemon = await serve(event_queue_size=10, **STEADY)
    # A connection that keeps the 64 KB HTTP/2 window (no BDP probing), so ~4 KB events fill it quickly.
    stalled_channel = grpc.aio.insecure_channel(daemon.address, options=[("grpc.http2.bdp_probe", 0)])
    daemon.channels.append(stalled_channel)
    stalled = registry_pb2_grpc.RegistryServiceStub(stalled_channel).Subscribe(pb.SubscribeRequest())
    await stalled.read()  # the first bookmark: subscribed; from here on it never reads
    reader = subscribe(daemon.new_stub())
    await reader.started()
    big = "d" * 4000
    slowest_registration = slowest_delivery = 0.0
    for i in range(120):
        started = time.monotonic()
        await daemon.stub.RegisterAgent(
            pb.RegisterAgentRequest(runtime_id="rt", agent_id=f"a{i:03d}", card=card("x", description=big))
        )
        slowest_registration = max(slowest_registration, time.monotonic() - started)
        at, event = await reader.event_of(REGISTERED)
        assert event.agent_id == f"a{i:03d}"
        slowest_delivery = max(slowest_delivery, at - started)
    print(
        f"\nwith a stalled subscriber: slowest registration {slowest_registration * 1000:.1f} ms, "
        f"slowest delivery to the other subscriber {slowest_delivery * 1000:.1f} ms"
    )
    assert slowest_registration < 0.5 and slowest_delivery < 0.5
    assert daemon.daemon.registry.stats().subscribers == 1  # the stalled one was cut off

    received: list[pb.Event] = []
    with pytest.raises(grpc.aio.AioRpcError) as error:
        while (message := await stalled.read()) is not grpc.aio.EOF:
            if message.WhichOneof("kind") == "event":
                received.append(message.event)
    assert error.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    info = error_info(error.value)
    last = int(info.metadata["last_revision"])
    assert info.reason == "SUBSCRIBER_OVERFLOW" and "event_queue_size=10" in error.value.details()
    assert [e.revision for e in received] == list(range(1, last + 1))
    resumed = subscribe(daemon.other.stub, from_revision=last + 1)
    final = (await daemon.stub.GetStats(pb.GetStatsRequest())).revision
    assert [e.revision for e in await resumed.events(final - last)] == list(range(last + 1, final + 1))


async def test_cancelled_subscribers_and_streams_are_released(daemon, subscribe):
    registry = daemon.daemon.registry
    events = subscribe(daemon.new_stub())
    await events.started()
    stream = daemon.new_stub().HeartbeatStream()
    await stream.write(pb.HeartbeatStreamRequest(sequence=1, bind=pb.Bind(runtime_id="rt")))
    await stream.read()
    assert (registry.stats().subscribers, registry.stats().heartbeat_streams) == (1, 1)
    await events.close()
    stream.cancel()
    await wait_for(lambda: (registry.stats().subscribers, registry.stats().heartbeat_streams) == (0, 0))
