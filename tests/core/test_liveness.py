"""Heartbeat timeouts and expiry, client-chosen terms, daemon stalls, the rebind grace after a restart and
the mass-expiry guard, on a fake clock: exact, and without real waiting.

Settings: heartbeat_timeout 0.3 s, auto_deregister_timeout 0.8 s (FAST)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from core_support import (
    FAST,
    FakeClock,
    PersistedAgents,
    advance,
    card,
    changes,
    queued,
    running,
    status_changes,
)

from registryd.core.errors import InvalidArgument
from registryd.core.events import EventFilter, Subscription
from registryd.core.liveness import EXPIRY_SLICE, DeadlineTracker, Due, Pulse, Terms
from registryd.core.model import Agent, AgentStatus, DeregisterReason, EventType, StatusReason
from registryd.core.registry import Registry
from registryd.core.streams import HeartbeatSession, StreamEnd
from registryd.core.sweeper import Sweeper

A, S = AgentStatus, StatusReason
TICK = 0.01  # the fake clock moves in steps this small when a test looks for the moment of a transition


@pytest.fixture
async def registry(clock: FakeClock) -> AsyncIterator[Registry]:
    async with running(FAST, clock) as reg:
        yield reg


async def test_agent_turns_unhealthy_at_its_heartbeat_deadline(
    clock: FakeClock, registry: Registry, events: Subscription
):
    agent, _, _ = await registry.register("rt", card("x"), "a1")
    await advance(clock, registry, FAST.heartbeat_timeout - TICK)
    assert registry.get("a1").status is A.ACTIVE
    await advance(clock, registry, TICK)
    changed = [e for e in await queued(events) if e.type is EventType.AGENT_STATUS_CHANGED]
    assert [(e.old_status, e.new_status, e.status_reason) for e in changed] == [
        (A.ACTIVE, A.UNHEALTHY, S.HEARTBEAT_TIMEOUT)
    ]
    assert changed[0].time == pytest.approx(agent.last_heartbeat + FAST.heartbeat_timeout)


async def test_agent_is_deregistered_expired_at_its_expiry_deadline(
    clock: FakeClock, registry: Registry, events: Subscription
):
    agent, _, _ = await registry.register("rt", card("x"), "a1")
    await advance(clock, registry, FAST.auto_deregister_timeout - TICK)
    assert registry.stats().total_agents == 1
    await advance(clock, registry, TICK)
    got = await queued(events)
    removed = next(e for e in got if e.type is EventType.AGENT_DEREGISTERED)
    assert removed.deregister_reason is DeregisterReason.EXPIRED
    assert removed.time == pytest.approx(agent.last_heartbeat + FAST.auto_deregister_timeout)
    assert got[-1].type is EventType.RUNTIME_LEFT
    assert registry.stats().total_agents == 0


async def test_heartbeats_keep_an_agent_active_past_its_timeouts(
    clock: FakeClock, registry: Registry, events: Subscription
):
    await registry.register("rt", card("x"), "a1")
    for _ in range(20):
        await advance(clock, registry, 0.1)
        await registry.heartbeat("rt", ["a1"])
    assert registry.get("a1").status is A.ACTIVE
    assert [e.type for e in await queued(events)] == [EventType.RUNTIME_JOINED, EventType.AGENT_REGISTERED]


async def test_recovered_agent_gets_fresh_deadlines(
    clock: FakeClock, registry: Registry, events: Subscription
):
    await registry.register("rt", card("x"), "a1")
    await advance(clock, registry, 0.5)
    await registry.heartbeat("rt", ["a1"])
    await advance(clock, registry, FAST.heartbeat_timeout)
    await advance(clock, registry, FAST.auto_deregister_timeout - FAST.heartbeat_timeout - TICK)
    assert await status_changes(registry, events) == [
        ("a1", A.UNHEALTHY, S.HEARTBEAT_TIMEOUT),
        ("a1", A.ACTIVE, S.HEARTBEAT_RESUMED),
        ("a1", A.UNHEALTHY, S.HEARTBEAT_TIMEOUT),
    ]
    assert registry.stats().total_agents == 1
    await advance(clock, registry, TICK)
    assert registry.stats().total_agents == 0


async def test_a_timeout_makes_an_operators_degraded_agent_unhealthy_and_recovery_restores_it(
    clock: FakeClock, registry: Registry, events: Subscription
):
    await registry.register("rt", card("x"), "a1")
    await registry.update_status("a1", A.DEGRADED)
    await advance(clock, registry, FAST.heartbeat_timeout)
    assert registry.find("x", [A.ACTIVE, A.DEGRADED]) == []
    await registry.heartbeat("rt", ["a1"])
    agent = registry.get("a1")
    assert (agent.status, agent.status_reason, agent.health) == (A.DEGRADED, S.OPERATOR, A.ACTIVE)
    assert await status_changes(registry, events) == [
        ("a1", A.DEGRADED, S.OPERATOR),
        ("a1", A.UNHEALTHY, S.HEARTBEAT_TIMEOUT),
        ("a1", A.DEGRADED, S.HEARTBEAT_RESUMED),
    ]


async def test_operator_active_never_makes_a_timed_out_agent_active(clock: FakeClock, registry: Registry):
    await registry.register("rt", card("x"), "a1")
    await advance(clock, registry, FAST.heartbeat_timeout)
    await registry.update_status("a1", A.DEGRADED)
    agent, changed, _ = await registry.update_status("a1", A.ACTIVE)
    assert changed and agent.operator_status is None
    assert (agent.status, agent.status_reason) == (A.UNHEALTHY, S.HEARTBEAT_TIMEOUT)


async def test_an_operators_offline_shows_the_timeout_and_does_not_stop_expiry(
    clock: FakeClock, registry: Registry, events: Subscription
):
    await registry.register("rt", card("x"), "a1")
    await registry.update_status("a1", A.OFFLINE)
    await advance(clock, registry, FAST.auto_deregister_timeout)
    got = await queued(events)
    assert changes(got) == [("a1", A.OFFLINE, S.OPERATOR), ("a1", A.OFFLINE, S.HEARTBEAT_TIMEOUT)]
    removed = next(e for e in got if e.type is EventType.AGENT_DEREGISTERED)
    assert removed.agent is not None and removed.agent.health is A.UNHEALTHY
    assert removed.agent.operator_status is A.OFFLINE


def test_deadline_tracker_reports_each_passing_once():
    tracker = DeadlineTracker()
    terms = Terms(heartbeat_timeout=1.0, auto_deregister_timeout=3.0)
    tracker.track("a", 0.0, terms)
    tracker.track("b", 0.5, terms)
    assert tracker.pop_due(0.9) == []
    tracker.beat("b", now=0.9)
    assert tracker.pop_due(1.0) == [("a", Due.TIMEOUT)]
    assert tracker.pop_due(1.9) == [("b", Due.TIMEOUT)]
    assert tracker.pop_due(2.0) == []
    tracker.beat("a", now=2.5)  # a timed-out agent that beats is judged from its new beat
    assert tracker.pop_due(3.4) == []
    assert tracker.pop_due(3.5) == [("a", Due.TIMEOUT)]
    assert tracker.pop_due(3.9) == [("b", Due.EXPIRY)]
    tracker.forget("b")
    assert tracker.next_deadline() == 5.5


def test_deadline_tracker_follows_new_terms_from_the_last_beat():
    tracker = DeadlineTracker()
    tracker.track("a", 0.0, Terms(30.0, 60.0))
    tracker.set_terms("a", Terms(10.0, 20.0))
    assert tracker.next_deadline() == 10.0
    assert tracker.pop_due(10.0) == [("a", Due.TIMEOUT)]
    tracker.set_terms("a", Terms(5.0, 40.0))
    assert tracker.pop_due(39.9) == [] and tracker.pop_due(40.0) == [("a", Due.EXPIRY)]


def test_deadline_tracker_hands_followers_deadlines_to_their_pulse_and_back():
    tracker = DeadlineTracker()
    pulse = Pulse()
    for agent_id in "ab":
        tracker.track(agent_id, 0.0, Terms(heartbeat_timeout=1.0, auto_deregister_timeout=3.0))
        tracker.follow(agent_id, pulse)
    tracker.pulse(pulse, 0.5, wall=0.0)
    assert tracker.pop_due(1.0) == [] and tracker.next_deadline() == 1.5  # the pulse's deadline is theirs
    tracker.pulse(pulse, 1.2, wall=0.0)
    tracker.beat("b", 2.0)  # one agent beaten on its own as well
    assert tracker.pop_due(2.2) == [("a", Due.TIMEOUT)]
    assert tracker.pop_due(2.9) == [] and tracker.pop_due(3.0) == [("b", Due.TIMEOUT)]
    assert tracker.pulse(pulse, 3.1, wall=0.0) and tracker.stale == 0  # the stream's beat revives both
    assert tracker.pop_due(4.0) == []
    tracker.pulse(pulse, 4.0, wall=0.0)
    assert tracker.pop_due(4.9) == [] and tracker.pop_due(5.0) == [("a", Due.TIMEOUT), ("b", Due.TIMEOUT)]


def test_deadline_tracker_hands_out_a_mass_timeout_in_slices_in_deadline_order_each_once():
    tracker = DeadlineTracker()
    ids = [f"a{i:04d}" for i in range(2 * EXPIRY_SLICE + 200)]
    for i, agent_id in enumerate(reversed(ids)):  # the last id beat first: deadline order is not id order
        tracker.track(agent_id, i / 100_000, Terms(heartbeat_timeout=1.0, auto_deregister_timeout=2.0))
    for now, kind in ((1.5, Due.TIMEOUT), (2.5, Due.EXPIRY)):
        slices = []
        while due := tracker.pop_due(now):
            slices.append(due)
        assert [len(s) for s in slices] == [EXPIRY_SLICE, EXPIRY_SLICE, 200]
        assert [entry for s in slices for entry in s] == [(a, kind) for a in reversed(ids)]
    assert tracker.next_deadline() is None


def test_a_stream_beat_between_slices_saves_the_agents_not_yet_judged():
    tracker, pulse = DeadlineTracker(), Pulse()
    for i in range(2 * EXPIRY_SLICE):
        tracker.track(f"a{i:04d}", 0.0, Terms(heartbeat_timeout=1.0, auto_deregister_timeout=2.0))
        tracker.follow(f"a{i:04d}", pulse)
    tracker.pulse(pulse, 0.5, wall=0.0)
    assert tracker.pop_due(1.0) == []
    assert len(tracker.pop_due(1.5)) == EXPIRY_SLICE and tracker.stale == EXPIRY_SLICE
    assert tracker.pulse(pulse, 1.6, wall=0.0)  # before the next slice: every agent lives on
    assert tracker.pop_due(2.5) == [] and tracker.stale == 0
    assert tracker.next_deadline() == 2.6


async def test_a_mass_timeout_and_expiry_act_on_every_agent_once_in_deadline_order_and_on_time(
    clock: FakeClock,
):
    async with running(FAST, clock, expiry_guard_threshold=1.0, event_queue_size=10_000) as registry:
        events = registry.subscribe(EventFilter())
        ids = [f"a{i:04d}" for i in range(2 * EXPIRY_SLICE + 200)]
        for agent_id in ids:
            await registry.register("rt", card("x"), agent_id)
        started = clock.wall()
        await queued(events)
        await advance(clock, registry, FAST.auto_deregister_timeout)
        got = await queued(events)
        timeouts = [e for e in got if e.type is EventType.AGENT_STATUS_CHANGED]
        expiries = [e for e in got if e.type is EventType.AGENT_DEREGISTERED]
        assert [(e.agent_id, e.status_reason) for e in timeouts] == [(a, S.HEARTBEAT_TIMEOUT) for a in ids]
        assert [(e.agent_id, e.deregister_reason) for e in expiries] == [
            (a, DeregisterReason.EXPIRED) for a in ids
        ]
        assert [e.time for e in timeouts] == pytest.approx([started + FAST.heartbeat_timeout] * len(ids))
        assert [e.time for e in expiries] == pytest.approx(
            [started + FAST.auto_deregister_timeout] * len(ids)
        )
        assert registry.stats().total_agents == 0


# ---------------------------------------------------------------- stream pulses


async def bound(registry: Registry, *agent_ids: str) -> HeartbeatSession:
    """A session of runtime "rt" holding these newly registered agents."""
    for agent_id in agent_ids:
        await registry.register("rt", card("x"), agent_id)
    session = HeartbeatSession(registry)
    await session.bind("rt", [])
    return session


async def beat_all_after(
    clock: FakeClock, registry: Registry, session: HeartbeatSession, seconds: float
) -> float:
    """Let `seconds` pass, then the stream beats every agent it holds; the wall time of that beat."""
    await advance(clock, registry, seconds)
    await session.beat([], None)
    return clock.wall()


async def test_a_streams_beats_of_all_its_agents_keep_them_alive_and_are_their_last_heartbeat(
    clock: FakeClock, registry: Registry, events: Subscription
):
    session = await bound(registry, "a1", "a2", "a3")
    for _ in range(10):  # 2 s: past the heartbeat timeout and the expiry many times over
        await beat_all_after(clock, registry, session, 0.2)
    assert await status_changes(registry, events) == []
    assert {registry.get(a).last_heartbeat for a in ("a1", "a2", "a3")} == {clock.wall()}
    assert {a.last_heartbeat for a in registry.list_agents().agents} == {clock.wall()}


async def test_bound_agents_time_out_a_heartbeat_timeout_after_their_last_beat_of_either_kind(
    clock: FakeClock, registry: Registry, events: Subscription
):
    session = await bound(registry, "a1", "a2")
    stream_beat = await beat_all_after(clock, registry, session, 0.2)
    await advance(clock, registry, 0.1)
    await session.beat(["a2"], None)  # a2 alone, later
    await advance(clock, registry, FAST.heartbeat_timeout - 0.1 - TICK)
    assert await status_changes(registry, events) == []
    await advance(clock, registry, TICK)
    [timed_out] = [e for e in await queued(events) if e.type is EventType.AGENT_STATUS_CHANGED]
    assert (timed_out.agent_id, timed_out.new_status, timed_out.status_reason) == (
        "a1",
        A.UNHEALTHY,
        S.HEARTBEAT_TIMEOUT,
    )
    assert timed_out.time == pytest.approx(stream_beat + FAST.heartbeat_timeout)
    assert timed_out.agent is not None and timed_out.agent.last_heartbeat == stream_beat
    await advance(clock, registry, 0.1)
    assert await status_changes(registry, events) == [("a2", A.UNHEALTHY, S.HEARTBEAT_TIMEOUT)]
    await session.beat([], None)
    assert await status_changes(registry, events) == [
        ("a1", A.ACTIVE, S.HEARTBEAT_RESUMED),
        ("a2", A.ACTIVE, S.HEARTBEAT_RESUMED),
    ]
    for _ in range(10):
        await beat_all_after(clock, registry, session, 0.2)
    assert await status_changes(registry, events) == []


async def test_an_agent_leaving_a_stream_keeps_the_streams_last_beat(
    clock: FakeClock, registry: Registry, events: Subscription
):
    session = await bound(registry, "a1", "a2")
    stream_beat = await beat_all_after(clock, registry, session, 0.2)
    await advance(clock, registry, 0.1)
    await session.unbind(["a1"])
    assert registry.get("a1").last_heartbeat == stream_beat
    await advance(clock, registry, FAST.heartbeat_timeout - 0.1 - TICK)
    assert await status_changes(registry, events) == []
    await advance(clock, registry, TICK)
    assert await status_changes(registry, events) == [
        ("a1", A.UNHEALTHY, S.HEARTBEAT_TIMEOUT),
        ("a2", A.UNHEALTHY, S.HEARTBEAT_TIMEOUT),
    ]


async def test_a_lost_stream_reports_its_last_beat_as_its_agents_last_heartbeat(
    clock: FakeClock, registry: Registry, events: Subscription
):
    session = await bound(registry, "a1")
    stream_beat = await beat_all_after(clock, registry, session, 0.2)
    await advance(clock, registry, 0.05)
    session.close(StreamEnd.LOST)
    await registry.committer.barrier()
    [lost] = [e for e in await queued(events) if e.type is EventType.AGENT_STATUS_CHANGED]
    assert lost.agent is not None and lost.agent.last_heartbeat == stream_beat
    assert registry.get("a1").last_heartbeat == stream_beat


# ---------------------------------------------------------------- client-chosen terms


async def test_a_runtimes_own_heartbeat_timeout_sets_its_agents_deadlines(clock: FakeClock):
    async with running(FAST, clock, heartbeat_timeout=30.0, auto_deregister_timeout=60.0) as registry:
        subscription = registry.subscribe(EventFilter())
        await registry.register("rt", card("x"), "a1", heartbeat_timeout=10.0)
        await registry.register("slow", card("x"), "b1")
        assert registry.terms_of("rt") == Terms(10.0, 60.0)
        await advance(clock, registry, 10.0 - TICK)
        assert await status_changes(registry, subscription) == []
        await advance(clock, registry, TICK)
        assert await status_changes(registry, subscription) == [("a1", A.UNHEALTHY, S.HEARTBEAT_TIMEOUT)]
        assert registry.get("b1").status is A.ACTIVE


async def test_a_long_heartbeat_timeout_alone_gets_a_longer_expiry(clock: FakeClock):
    async with running(FAST, clock, heartbeat_timeout=30.0, auto_deregister_timeout=60.0) as registry:
        await registry.register("rt", card("x"), "a1")
        await registry.heartbeat("rt", heartbeat_timeout=90.0)
        assert registry.terms_of("rt") == Terms(90.0, 180.0)
        await advance(clock, registry, 179.0)
        assert registry.get("a1").status is A.UNHEALTHY


async def test_asked_terms_are_clamped_to_the_operators_bounds(clock: FakeClock):
    async with running(
        FAST,
        clock,
        heartbeat_timeout=30.0,
        auto_deregister_timeout=60.0,
        min_heartbeat_timeout=5.0,
        max_heartbeat_timeout=100.0,
        max_auto_deregister_timeout=300.0,
    ) as registry:
        await registry.register("rt", card("x"), "a1", heartbeat_timeout=0.5)
        assert registry.terms_of("rt") == Terms(5.0, 60.0)
        await registry.heartbeat("rt", heartbeat_timeout=1e9, auto_deregister_timeout=1e12)
        assert registry.terms_of("rt") == Terms(100.0, 300.0)
        for hb, auto in ((float("nan"), None), (-1.0, None), (None, float("inf")), (20.0, 10.0)):
            with pytest.raises(InvalidArgument):
                await registry.heartbeat("rt", heartbeat_timeout=hb, auto_deregister_timeout=auto)
        assert registry.terms_of("rt") == Terms(100.0, 300.0)


async def test_a_stream_bind_asks_for_terms_and_they_end_with_the_runtime(
    clock: FakeClock, registry: Registry
):
    session = HeartbeatSession(registry)
    await session.bind("rt", [], heartbeat_timeout=2.0)
    assert registry.terms_of("rt") == Terms(2.0, 4.0)
    await registry.register("rt", card("x"), "a1")
    await registry.deregister("a1")
    session.close(StreamEnd.CLOSED)
    assert registry.terms_of("rt") == FAST.default_terms


# ---------------------------------------------------------------- stalls of the daemon itself


@pytest.mark.parametrize("agents", [4, 20])
async def test_a_daemon_stall_changes_nobodys_status(clock: FakeClock, agents: int):
    """SIGSTOP for 4 x heartbeat_timeout: the runtime kept beating, its beats wait in the socket."""
    async with running(FAST, clock, expiry_guard_min_agents=10) as registry:
        subscription = registry.subscribe(EventFilter())
        for i in range(agents):
            await registry.register("rt", card("x"), f"a{i}")
        await queued(subscription)
        await advance(clock, registry, 0.1)
        await registry.heartbeat("rt")
        clock.stall(4 * FAST.heartbeat_timeout)  # timers fire late, before the queued beats are read
        await registry.committer.barrier()
        await registry.heartbeat("rt")  # the beats that arrived during the stall
        for _ in range(10):
            await advance(clock, registry, 0.1)
            await registry.heartbeat("rt")
        assert await queued(subscription) == []
        assert registry.stats().status_distribution["ACTIVE"] == agents
        assert registry.stalls[0] == 1 and registry.stalls[1] == pytest.approx(1.2, abs=0.11)


async def test_an_agent_that_stopped_beating_before_a_stall_still_times_out_after_it(
    clock: FakeClock, registry: Registry, events: Subscription
):
    await registry.register("rt", card("x"), "a1")
    await advance(clock, registry, 0.2)
    clock.stall(2.0)
    await advance(clock, registry, FAST.heartbeat_timeout - 0.2)
    assert await status_changes(registry, events) == [("a1", A.UNHEALTHY, S.HEARTBEAT_TIMEOUT)]


# ---------------------------------------------------------------- restarts


def persisted(runtime_id: str, *agent_ids: str) -> list[Agent]:
    return [
        Agent(agent_id, runtime_id, card("x"), A.ACTIVE, S.REGISTERED, 1.0, 1.0, 1.0, i + 1)
        for i, agent_id in enumerate(agent_ids)
    ]


async def test_after_a_restart_a_runtime_that_held_a_stream_must_bind_again_within_the_grace(
    clock: FakeClock,
):
    store = PersistedAgents(
        persisted("gone", "g1", "g2") + persisted("back", "b1") + persisted("unary", "u1")
    )
    store.snapshot.stream_runtimes = {"gone", "back"}
    async with running(FAST, clock, store=store, heartbeat_timeout=30.0, auto_deregister_timeout=60.0) as reg:
        subscription = reg.subscribe(EventFilter())
        await advance(clock, reg, 1.0)
        session = HeartbeatSession(reg)
        await session.bind("back", [])
        await advance(clock, reg, reg.settings.rebind_grace)
        assert await status_changes(reg, subscription) == [
            ("g1", A.UNHEALTHY, S.STREAM_LOST),
            ("g2", A.UNHEALTHY, S.STREAM_LOST),
        ]
        assert reg.get("b1").status is A.ACTIVE and reg.get("u1").status is A.ACTIVE
        assert store.streams == {"gone": False, "back": True}


async def test_a_stream_held_at_shutdown_is_remembered_and_a_lost_one_is_not(clock: FakeClock):
    store = PersistedAgents([])
    async with running(FAST, clock, store=store) as registry:
        await stream_then_shut_down(registry)
    assert store.streams == {"rt": True, "lost": False}


async def stream_then_shut_down(registry: Registry) -> None:
    await registry.register("rt", card("x"), "a1")
    await registry.register("lost", card("x"), "b1")
    kept, lost = HeartbeatSession(registry), HeartbeatSession(registry)
    await kept.bind("rt", [])
    await lost.bind("lost", [])
    lost.close(StreamEnd.LOST)
    kept.close(StreamEnd.DRAINED)
    await registry.committer.barrier()


# ---------------------------------------------------------------- the mass-expiry guard


async def test_expiry_guard_holds_deregistration_when_most_agents_go_stale_at_once(clock: FakeClock):
    async with running(FAST, clock, expiry_guard_min_agents=4, expiry_guard_max_hold=5.0) as registry:
        events = registry.subscribe(EventFilter())
        for i in range(4):
            await registry.register("rt", card("x"), f"a{i}")
        await advance(clock, registry, 3.0)
        assert registry.expiry_guard_active
        assert registry.stats().status_distribution["UNHEALTHY"] == 4
        assert EventType.AGENT_DEREGISTERED not in {e.type for e in await queued(events)}


async def test_expiry_guard_releases_when_heartbeats_resume_and_engages_again_later(clock: FakeClock):
    async with running(FAST, clock, expiry_guard_min_agents=4, expiry_guard_max_hold=0.6) as registry:
        for i in range(4):
            await registry.register("rt", card("x"), f"a{i}")
        await advance(clock, registry, FAST.auto_deregister_timeout)
        assert registry.expiry_guard_active
        await registry.heartbeat("rt")
        assert not registry.expiry_guard_active
        assert registry.stats().status_distribution["ACTIVE"] == 4
        await advance(
            clock, registry, FAST.auto_deregister_timeout + 0.1
        )  # a fresh max_hold, not the old one
        assert registry.expiry_guard_active and registry.stats().total_agents == 4


async def test_expiry_guard_lets_expiry_proceed_after_its_max_hold(clock: FakeClock):
    async with running(FAST, clock, expiry_guard_min_agents=4, expiry_guard_max_hold=0.3) as registry:
        for i in range(4):
            await registry.register("rt", card("x"), f"a{i}")
        await advance(clock, registry, FAST.auto_deregister_timeout)
        assert registry.expiry_guard_active
        await advance(clock, registry, 0.3 + FAST.heartbeat_timeout / 2)
        assert registry.stats().total_agents == 0 and not registry.expiry_guard_active


async def test_expiry_guard_ignores_a_few_stale_agents_among_live_ones(clock: FakeClock):
    async with running(FAST, clock, expiry_guard_min_agents=4) as registry:
        for i in range(4):
            await registry.register("rt", card("x"), f"a{i}")
        for _ in range(9):
            await advance(clock, registry, 0.1)
            await registry.heartbeat("rt", ["a1", "a2", "a3"])
        assert registry.runtime_agents == {"rt": frozenset({"a1", "a2", "a3"})}
        assert not registry.expiry_guard_active


# ---------------------------------------------------------------- the watchdog


def test_a_deadline_firing_between_ticks_neither_hides_nor_shortens_the_stall_after_it(clock: FakeClock):
    fired: list[float] = []
    sweeper = Sweeper(clock, fired.append)
    sweeper.start()  # ticks due every 0.1 s
    sweeper.arm(sweeper.now() + 0.15)
    clock.advance(0.15)  # a tick at 0.1, the deadline at 0.15
    assert len(fired) == 1 and sweeper.stalls == 0
    clock.stall(0.32)  # the tick due at 0.2 runs at 0.47: 0.27 s lost
    assert sweeper.stalls == 1
    assert sweeper.stalled_seconds == pytest.approx(0.27)
    assert sweeper.lag.max == pytest.approx(0.27)
    clock.advance(1.0)  # on time again: nothing more is granted
    assert sweeper.stalls == 1
    sweeper.stop()
