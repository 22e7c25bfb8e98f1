"""Heartbeat stream sessions: bind, beat, unbind, and what each way of ending does to bound agents."""

from __future__ import annotations

import pytest
from core_support import card, queued, status_changes

from registryd.core.errors import FailedPrecondition, PermissionDenied
from registryd.core.events import Subscription
from registryd.core.model import AgentStatus, StatusReason
from registryd.core.registry import Registry
from registryd.core.streams import HeartbeatSession, StreamEnd

A, S = AgentStatus, StatusReason


async def two_agents(registry: Registry, events: Subscription) -> HeartbeatSession:
    await registry.register("rt", card("x"), "a1")
    await registry.register("rt", card("y"), "a2")
    session = HeartbeatSession(registry)
    result = await session.bind("rt", [])
    assert result.bound_agents == 2
    await queued(events)
    return session


async def test_first_bind_with_no_ids_binds_every_agent_of_the_runtime(registry: Registry):
    await registry.register("rt", card("x"), "a1")
    await registry.register("other", card("x"), "b1")
    session = HeartbeatSession(registry)
    result = await session.bind("rt", [])
    assert session.bound == {"a1"} and result.bound_agents == 1
    assert [(r.runtime_id, r.stream_connected) for r in registry.runtimes().runtimes] == [
        ("other", False),
        ("rt", True),
    ]


async def test_bind_reports_unknown_agents_and_refuses_another_runtimes(registry: Registry):
    await registry.register("rt", card("x"), "a1")
    await registry.register("other", card("x"), "b1")
    session = HeartbeatSession(registry)
    result = await session.bind("rt", ["a1", "ghost", "b1"])
    assert result.unknown_agent_ids == ("ghost",) and result.refused_agent_ids == ("b1",)
    assert session.bound == {"a1"}
    with pytest.raises(PermissionDenied):
        await session.bind("other", ["b1"])
    assert session.bound == {"a1"}


async def test_beat_before_bind_is_refused(registry: Registry):
    session = HeartbeatSession(registry)
    with pytest.raises(FailedPrecondition) as refused:
        await session.beat([], None)
    assert "bind" in refused.value.message


async def test_one_beat_keeps_every_bound_agent_alive_and_carries_a_status(
    registry: Registry, events: Subscription
):
    session = await two_agents(registry, events)
    before = {a: registry.get(a).last_heartbeat for a in ("a1", "a2")}
    await session.beat([], A.DEGRADED)
    assert all(registry.get(a).last_heartbeat > before[a] for a in before)
    assert await status_changes(registry, events) == [
        ("a1", A.DEGRADED, S.SELF_REPORTED),
        ("a2", A.DEGRADED, S.SELF_REPORTED),
    ]


async def test_lost_stream_marks_bound_agents_unhealthy_at_once(registry: Registry, events: Subscription):
    session = await two_agents(registry, events)
    session.close(StreamEnd.LOST)
    assert await status_changes(registry, events) == [
        ("a1", A.UNHEALTHY, S.STREAM_LOST),
        ("a2", A.UNHEALTHY, S.STREAM_LOST),
    ]
    assert registry.stats().heartbeat_streams == 0


async def test_closed_stream_marks_bound_agents_offline(registry: Registry, events: Subscription):
    session = await two_agents(registry, events)
    session.close(StreamEnd.CLOSED)
    assert await status_changes(registry, events) == [
        ("a1", A.OFFLINE, S.STREAM_CLOSED),
        ("a2", A.OFFLINE, S.STREAM_CLOSED),
    ]


async def test_drained_stream_changes_nothing(registry: Registry, events: Subscription):
    session = await two_agents(registry, events)
    session.close(StreamEnd.DRAINED)
    assert await status_changes(registry, events) == []
    assert {registry.get(a).status for a in ("a1", "a2")} == {A.ACTIVE}


async def test_unbound_agents_are_not_affected_by_the_streams_end(registry: Registry, events: Subscription):
    session = await two_agents(registry, events)
    result = await session.unbind(["a2"])
    assert result.bound_agents == 1
    session.close(StreamEnd.LOST)
    assert await status_changes(registry, events) == [("a1", A.UNHEALTHY, S.STREAM_LOST)]


async def test_a_streams_end_overrides_an_operators_degraded(registry: Registry, events: Subscription):
    session = await two_agents(registry, events)
    await registry.update_status("a1", A.DEGRADED)
    await queued(events)
    session.close(StreamEnd.LOST)
    assert await status_changes(registry, events) == [
        ("a1", A.UNHEALTHY, S.STREAM_LOST),
        ("a2", A.UNHEALTHY, S.STREAM_LOST),
    ]
    assert registry.get("a1").operator_status is A.DEGRADED  # it applies again once health recovers


async def test_newer_stream_takes_over_bound_agents(registry: Registry, events: Subscription):
    old = await two_agents(registry, events)
    new = HeartbeatSession(registry)
    await new.bind("rt", ["a1"])
    assert old.bound == {"a2"} and new.bound == {"a1"}
    old.close(StreamEnd.LOST)
    assert await status_changes(registry, events) == [("a2", A.UNHEALTHY, S.STREAM_LOST)]
    new.close(StreamEnd.CLOSED)
    assert await status_changes(registry, events) == [("a1", A.OFFLINE, S.STREAM_CLOSED)]


async def test_a_beat_after_stream_loss_recovers_the_agents(registry: Registry, events: Subscription):
    session = await two_agents(registry, events)
    session.close(StreamEnd.LOST)
    await status_changes(registry, events)
    reconnected = HeartbeatSession(registry)
    await reconnected.bind("rt", [])
    assert await status_changes(registry, events) == [
        ("a1", A.ACTIVE, S.HEARTBEAT_RESUMED),
        ("a2", A.ACTIVE, S.HEARTBEAT_RESUMED),
    ]


async def test_deregistered_agent_leaves_its_stream(registry: Registry, events: Subscription):
    session = await two_agents(registry, events)
    await registry.deregister("a1")
    assert session.bound == {"a2"}
    result = await session.beat(["a1"], None)
    assert result.unknown_agent_ids == ("a1",)


async def test_a_bind_beats_the_stream_not_each_agent(registry: Registry):
    """Binding writes the stream's pulse, as a beat of all its agents does: their records stay as they are
    until read. (A new record per agent bound left 1M young objects for the collector to walk when 10,000
    runtimes bound at once, bench scenario 8.)"""
    for i in range(3):
        await registry.register("rt", card("x"), f"a{i}")
    records = dict(registry._agents)
    session = HeartbeatSession(registry)
    await session.bind("rt", [])
    assert all(registry._agents[agent_id] is record for agent_id, record in records.items())
    assert registry.get("a0").last_heartbeat == session.pulse.wall > records["a0"].last_heartbeat
