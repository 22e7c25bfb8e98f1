"""Event-delivery clients: a subscriber that times a stream drop until its event arrives (scenario 4),
and many subscribers that time each published event (scenario 5). Both servers: registryd's Subscribe
(bookmarks skipped) and the no-op Fanout (the initial empty event skipped)."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

import grpc
import uvloop
from agentregistry.v1 import registry_pb2 as pb

from bench import workload
from bench.noop import echo_pb2 as echo_pb


@dataclass(frozen=True)
class Feed:
    """How to subscribe on one server: registryd (`noop=False`) or the no-op server."""

    address: str
    noop: bool
    types: tuple[int, ...] = (pb.EVENT_TYPE_AGENT_STATUS_CHANGED,)

    @property
    def method(self) -> str:
        return workload.ECHO + "Fanout" if self.noop else workload.SERVICE + "Subscribe"

    def request(self) -> bytes:
        if self.noop:
            return echo_pb.FanoutRequest().SerializeToString()
        return pb.SubscribeRequest(types=self.types).SerializeToString()

    def is_event(self, message: bytes) -> bool:
        if self.noop:
            return bool(echo_pb.FanoutEvent.FromString(message).payload)
        return pb.SubscribeResponse.FromString(message).WhichOneof("kind") == "event"


async def _subscribe(channel: grpc.aio.Channel, feed: Feed) -> Any:
    """A subscription that has received its first message (so it is live on the server)."""
    call = channel.unary_stream(feed.method)(feed.request())
    await call.read()
    return call


async def _next_event(call: Any, feed: Feed) -> bytes:
    while True:
        message = await call.read()
        if message is grpc.aio.EOF:
            raise RuntimeError("the subscription ended")
        if feed.is_event(message):
            return message


# ------------------------------------------------------------------------------ scenario 4: drops


def drop_worker(
    feed: Feed, stream_method: str, firsts: list[bytes], timeout: float, stream_address: str = ""
) -> dict[str, Any]:
    """For each first message: open a stream (on `stream_address`, by default the feed's server), send it,
    await the answer, drop the stream (cancel = RST), and time until the subscriber sees the resulting event."""
    return uvloop.run(_drops(feed, stream_method, firsts, timeout, stream_address or feed.address))


async def _drops(
    feed: Feed, stream_method: str, firsts: list[bytes], timeout: float, stream_address: str
) -> dict[str, Any]:
    latencies: list[float] = []
    async with (
        grpc.aio.insecure_channel(
            feed.address, options=[("grpc.use_local_subchannel_pool", 1)]
        ) as sub_channel,
        grpc.aio.insecure_channel(stream_address, options=[("grpc.use_local_subchannel_pool", 1)]) as channel,
    ):
        subscription = await _subscribe(sub_channel, feed)
        for first in firsts:
            call = channel.stream_stream(stream_method)()
            await call.write(first)
            await call.read()
            await asyncio.sleep(0.02)  # let the server settle after the bind before the clock starts
            dropped = time.monotonic()
            call.cancel()
            await asyncio.wait_for(_next_event(subscription, feed), timeout)
            latencies.append(time.monotonic() - dropped)
        subscription.cancel()
    return {"latencies": latencies}


# --------------------------------------------------------------------------- scenario 5: fan-out


def fanout_worker(
    feed: Feed, subscribers: int, per_connection: int, events: int, reports: Any, timeout: float
) -> dict[str, Any]:
    """Hold `subscribers` subscriptions, report ("subscribed", n), then record when each of the next
    `events` events arrives at each subscriber: {"arrivals": [[t, ...] per event], "event_bytes": n}."""
    return uvloop.run(_fanout(feed, subscribers, per_connection, events, reports, timeout))


async def _fanout(
    feed: Feed, subscribers: int, per_connection: int, events: int, reports: Any, timeout: float
) -> dict[str, Any]:
    options = [("grpc.use_local_subchannel_pool", 1)]
    channels = [
        grpc.aio.insecure_channel(feed.address, options=options)
        for _ in range(-(-subscribers // per_connection))
    ]
    arrivals: list[list[float]] = [[] for _ in range(events)]
    sizes: list[int] = []
    try:
        calls = await asyncio.gather(
            *(_subscribe(channels[k // per_connection], feed) for k in range(subscribers))
        )
        reports.put(("subscribed", len(calls)))

        async def listen(call: Any) -> None:
            for i in range(events):
                message = await _next_event(call, feed)
                arrivals[i].append(time.monotonic())
                if not sizes:
                    sizes.append(len(message))

        await asyncio.wait_for(asyncio.gather(*(listen(call) for call in calls)), timeout)
        for call in calls:
            call.cancel()
    finally:
        await asyncio.gather(*(channel.close() for channel in channels))
    return {"arrivals": arrivals, "event_bytes": sizes[0] if sizes else 0}
