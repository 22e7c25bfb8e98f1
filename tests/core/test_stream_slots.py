"""Stream slots per caller and over the registry, and the bind timeout of heartbeat streams (issue 11,
item 4), driven on the core with a fake clock."""

from __future__ import annotations

import pytest
from core_support import FakeClock, card, running

from registryd.core.errors import ResourceExhausted
from registryd.core.events import EventFilter
from registryd.core.streams import HeartbeatSession, StreamEnd
from registryd.core.validation import Limits


async def test_subscriber_slots_are_counted_per_caller_and_in_total():
    async with running(limits=Limits(max_subscribers=3, max_subscribers_per_caller=2)) as registry:
        hog = [registry.subscribe(EventFilter(), caller="hog") for _ in range(2)]
        with pytest.raises(ResourceExhausted, match="hog already holds max_subscribers_per_caller=2"):
            registry.subscribe(EventFilter(), caller="hog")
        other = registry.subscribe(EventFilter(), caller="other")
        with pytest.raises(ResourceExhausted, match="max_subscribers=3"):
            registry.subscribe(EventFilter(), caller="third")
        hog[0].close()
        hog[0].close()  # a second close gives nothing back twice
        again = registry.subscribe(EventFilter(), caller="third")
        assert registry.stats().subscribers == 3
        for subscription in (hog[1], other, again):
            subscription.close()
        assert registry.stats().subscribers == 0


async def test_heartbeat_stream_slots_are_counted_per_caller():
    async with running(limits=Limits(max_streams_per_caller=1)) as registry:
        first = HeartbeatSession(registry, "hog")
        with pytest.raises(ResourceExhausted, match="max_streams_per_caller=1"):
            HeartbeatSession(registry, "hog")
        other = HeartbeatSession(registry, "other")
        first.close(StreamEnd.CLOSED)
        HeartbeatSession(registry, "hog").close(StreamEnd.CLOSED)
        other.close(StreamEnd.CLOSED)
        assert registry.stats().heartbeat_streams == 0


async def test_a_stream_that_does_not_bind_in_time_expires_and_a_bound_one_does_not():
    clock = FakeClock()
    async with running(clock=clock, bind_timeout=10.0) as registry:
        await registry.register("rt", card("x"), "a1")
        ended: list[str] = []
        idle, bound = HeartbeatSession(registry), HeartbeatSession(registry)
        idle.on_expired = lambda: ended.append("idle")
        bound.on_expired = lambda: ended.append("bound")
        clock.advance(9.0)
        await bound.bind("rt", [])
        assert ended == [] and idle.expired is None
        clock.advance(1.5)
        assert ended == ["idle"] and idle.expired is not None and "bind_timeout=10s" in idle.expired.message
        clock.advance(60.0)
        assert ended == ["idle"] and bound.expired is None
        idle.close(StreamEnd.CLOSED)
        bound.close(StreamEnd.DRAINED)
