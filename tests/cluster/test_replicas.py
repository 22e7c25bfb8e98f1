"""Two registry replicas over one real etcd: one order of events, no double wins, reads after writes."""

from __future__ import annotations

import asyncio

import pytest

from registryd.core.commit import CommitFailed
from registryd.core.errors import AlreadyExists, RevisionCompacted
from registryd.core.events import EventFilter
from registryd.core.model import AgentCard, AgentStatus, Event, EventType
from registryd.core.registry import Registry
from registryd.store.base import StoreError
from registryd.store.etcd import EtcdOptions, EtcdStore


def card(*capabilities: str) -> AgentCard:
    return AgentCard(name="agent", capabilities=capabilities)


async def drain(subscription, count: int) -> list[Event]:
    events = []
    while len(events) < count:
        item = await subscription.next(timeout=5)
        assert item is not None, f"only {len(events)} of {count} events arrived"
        events.append(item)
    return events


def key(event: Event) -> tuple:
    return (event.revision, event.type, event.agent_id, event.runtime_id, event.new_status, event.time)


async def test_every_replica_emits_the_same_events_in_the_same_order(replicas):
    a, b = await replicas(2)
    on_a, on_b = a.subscribe(EventFilter()), b.subscribe(EventFilter())
    writers = [
        a.register("rt-a", card("python"), "a1"),
        b.register("rt-b", card("rust"), "b1"),
        a.register("rt-b", card("go"), "b2"),
        b.register("rt-a", card("sql"), "a2"),
    ]
    await asyncio.gather(*writers)
    await a.update_status("b1", AgentStatus.DEGRADED)
    await b.deregister("a1")
    seen_a, seen_b = await drain(on_a, 8), await drain(on_b, 8)
    assert [key(e) for e in seen_a] == [key(e) for e in seen_b]
    assert [e.revision for e in seen_a] == list(range(1, 9))  # dense, one total order
    assert a.list_agents().agents == b.list_agents().agents
    assert a.history_id == b.history_id != ""


async def test_two_replicas_never_both_win_an_id(replicas):
    a, b = await replicas(2)
    results = await asyncio.gather(
        *[(a if i % 2 else b).register(f"rt-{i}", card("x"), "contested") for i in range(6)],
        return_exceptions=True,
    )
    winners = [r for r in results if not isinstance(r, BaseException)]
    assert len(winners) == 1 and all(isinstance(r, AlreadyExists) for r in results if r not in winners)
    assert a.get("contested").runtime_id == b.get("contested").runtime_id == winners[0][0].runtime_id


async def test_stats_report_each_replicas_own_facts_and_exactly_one_leads(replicas):
    a, b = await replicas(2)
    await a.register("rt", card("python"), "a1")
    await b.sync()
    deadline = asyncio.get_running_loop().time() + 5
    while [a.leader, b.leader].count(True) != 1:
        assert asyncio.get_running_loop().time() < deadline, "no single leader"
        await asyncio.sleep(0.05)
    on_a, on_b = a.stats(), b.stats()
    assert on_a.replica.leader != on_b.replica.leader
    assert on_a.replica.replica_id != on_b.replica.replica_id
    assert (on_a.total_agents, on_a.revision) == (on_b.total_agents, on_b.revision) == (1, 2)


async def test_a_write_is_visible_on_its_replica_when_answered_and_a_consistent_read_waits(replicas):
    a, b = await replicas(2)
    agent, created, revision = await a.register("rt", card("python"), "a1")
    assert created and a.get("a1") == agent and a.revision == revision
    await b.sync()  # reflects every write acknowledged anywhere before it started
    assert b.get("a1") == agent and b.revision == revision


async def test_a_read_reports_the_revision_its_replica_applied_not_one_handed_to_a_write_in_flight(
    replicas,
):
    (a,) = await replicas(1)
    await a.register("rt", card("python"), "a0")
    before = a.revision
    write = asyncio.get_running_loop().create_task(a.register("rt", card("python"), "a1"))
    in_flight = 0
    while not write.done():  # each read names the revision of what it shows: a1 only once applied
        page = a.list_agents()
        applied = "a1" in {x.agent_id for x in page.agents}
        assert page.revision == a.revision == a.stats().revision == a.runtimes().revision
        assert page.revision == (before + 1 if applied else before)
        in_flight += not applied
        await asyncio.sleep(0)
    agent, _, revision = await write
    assert in_flight > 1 and a.list_agents().revision == revision == agent.revision == before + 1


async def test_heartbeat_events_reach_the_subscribers_of_the_replica_the_beat_came_to_only(replicas):
    a, b = await replicas(2)
    await a.register("rt", card("python"), "a1")
    await b.sync()
    wanted = EventFilter(types=frozenset({EventType.AGENT_HEARTBEAT, EventType.AGENT_STATUS_CHANGED}))
    on_a, on_b = a.subscribe(wanted), b.subscribe(wanted)
    await a.heartbeat("rt", ["a1"])
    await a.update_status("a1", AgentStatus.OFFLINE)  # a durable change after the beat, on both replicas
    assert [e.type for e in await drain(on_a, 2)] == [
        EventType.AGENT_HEARTBEAT,
        EventType.AGENT_STATUS_CHANGED,
    ]
    assert [e.type for e in await drain(on_b, 1)] == [EventType.AGENT_STATUS_CHANGED]


async def test_list_on_one_replica_then_subscribe_on_another_misses_nothing(replicas):
    a, b = await replicas(2)
    await a.register("rt", card("python"), "a1")
    listed = a.list_agents()
    await a.register("rt", card("python"), "a2")
    await b.sync()
    later = b.subscribe(EventFilter(), from_revision=listed.revision + 1)
    await a.deregister("a1")
    events = await drain(later, 2)
    assert [(e.type, e.agent_id) for e in events] == [
        (EventType.AGENT_REGISTERED, "a2"),
        (EventType.AGENT_DEREGISTERED, "a1"),
    ]
    assert events[0].revision == listed.revision + 1


async def test_a_new_replica_starts_where_the_cluster_is(replicas):
    (a,) = await replicas(1)
    await a.register("rt", card("python"), "a1")
    await a.register("rt", card("python"), "a2")
    (c,) = await replicas(1)
    assert c.revision == a.revision == 3 and {x.agent_id for x in c.list_agents().agents} == {"a1", "a2"}
    with pytest.raises(RevisionCompacted):
        c.subscribe(EventFilter(), from_revision=1)  # its history starts at its load


async def test_another_prefix_is_another_history(etcd, replicas):
    (a,) = await replicas(1)
    other = Registry(store=EtcdStore(EtcdOptions((etcd.endpoint,), "/another")), clock=a._clock)
    await other.start()
    try:
        assert other.history_id != a.history_id
        assert other.history_id.split("-")[0] == a.history_id.split("-")[0]  # the same etcd cluster
    finally:
        await other.stop()


async def test_an_unreachable_etcd_refuses_writes_at_once(etcd, replicas):
    (a,) = await replicas(1)
    await a.register("rt", card("python"), "a1")
    etcd.proc.send_signal(19)  # SIGSTOP: connections stay open, nothing answers
    try:
        started = asyncio.get_running_loop().time()
        with pytest.raises(CommitFailed):
            await a.register("rt", card("python"), "a2")
        assert asyncio.get_running_loop().time() - started < 3
        assert "a2" not in {x.agent_id for x in a.list_agents().agents}
    finally:
        etcd.proc.send_signal(18)  # SIGCONT
    # Recovers by itself. The refused write's outcome was unknown (it sat in etcd's socket and may have
    # been committed after SIGCONT), so the client's retry is an idempotent re-registration.
    agent, _, _ = await a.register("rt", card("python"), "a2")
    assert agent.runtime_id == "rt" and a.get("a2") == agent


async def test_a_replica_cannot_start_without_etcd(tmp_path):
    registry = Registry(store=EtcdStore(EtcdOptions(("127.0.0.1:1",), "/x", timeout=0.5)), clock=None)  # type: ignore[arg-type]
    with pytest.raises(StoreError):
        await registry._store.load()


async def test_an_agent_beating_through_one_replica_is_not_timed_out_by_another(replicas):
    a, b = await replicas(2, heartbeat_timeout=0.3, auto_deregister_timeout=0.8)
    changes = a.subscribe(EventFilter(types=frozenset({EventType.AGENT_STATUS_CHANGED})))
    await a.register("rt", card("python"), "a1")
    for _ in range(12):  # 1.2 s: past both timeouts
        await a.heartbeat("rt")
        await asyncio.sleep(0.1)
    await b.sync()
    assert await changes.next(timeout=0.05) is None  # no flapping: B never timed it out
    assert a.get("a1").status is b.get("a1").status is AgentStatus.ACTIVE
    await asyncio.sleep(0.5)  # silent now: the replica it beat through times it out, once
    await b.sync()
    assert b.get("a1").status is AgentStatus.UNHEALTHY
