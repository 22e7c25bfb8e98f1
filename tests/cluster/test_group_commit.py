"""Group commit over a real etcd: changes made while a write is in flight share the next Txn, each decided
against the view the ones before it leave, and races and fences stay as exact as one change per Txn.
etcd's revision grows by one per Txn that writes, so it counts the Txns."""

from __future__ import annotations

import asyncio

from registryd.core.errors import AlreadyExists
from registryd.core.events import EventFilter
from registryd.core.model import AgentCard, AgentStatus, EventType
from registryd.store.base import Fence


def card(name: str = "agent") -> AgentCard:
    return AgentCard(name=name, capabilities=("python",))


async def test_changes_made_while_a_write_is_in_flight_share_the_next_txn(replicas, etcd):
    (a,) = await replicas(1)
    await a.register("rt", card(), "warm")
    before = etcd.revision()
    results = await asyncio.gather(*[a.register("rt", card(), f"a{i}") for i in range(40)])
    txns = etcd.revision() - before
    assert all(created for _, created, _ in results)
    assert sorted(agent.revision for agent, _, _ in results) == list(range(3, 43))  # dense, one order
    assert txns <= 10, f"{txns} Txns for 40 registrations"
    print(f"\n40 concurrent registrations: {txns} etcd Txns")


async def test_each_change_in_a_batch_is_decided_against_the_ones_before_it(replicas):
    (a,) = await replicas(1)
    events = a.subscribe(EventFilter(types=frozenset({EventType.RUNTIME_JOINED, EventType.RUNTIME_LEFT})))
    joined = await asyncio.gather(*[a.register("fresh", card(), f"f{i}") for i in range(10)])
    assert all(created for _, created, _ in joined)
    contested = await asyncio.gather(
        a.register("one", card(), "x"), a.register("two", card(), "x"), return_exceptions=True
    )
    assert isinstance(contested[1], AlreadyExists) and contested[0][1]
    await asyncio.gather(*[a.deregister(f"f{i}") for i in range(10)])
    seen = [await events.next(timeout=5) for _ in range(3)]
    assert [(e.type, e.runtime_id) for e in seen] == [
        (EventType.RUNTIME_JOINED, "fresh"),
        (EventType.RUNTIME_JOINED, "one"),
        (EventType.RUNTIME_LEFT, "fresh"),
    ]
    assert await events.next(timeout=0.2) is None  # one join and one leave for the ten agents


async def test_two_replicas_batching_never_both_win_an_id(replicas):
    a, b = await replicas(2)
    on_a, on_b = a.subscribe(EventFilter()), b.subscribe(EventFilter())
    writes = [
        replica.register(f"rt-{name}", card(), f"{kind}{i}")
        for i in range(15)
        for replica, name in ((a, "a"), (b, "b"))
        for kind in ("contested-", f"own-{name}-")
    ]
    results = await asyncio.gather(*writes, return_exceptions=True)
    refused = [r for r in results if isinstance(r, BaseException)]
    assert len(refused) == 15 and all(isinstance(r, AlreadyExists) for r in refused)
    await a.sync()
    await b.sync()
    assert a.list_agents(limit=100).agents == b.list_agents(limit=100).agents
    assert len(a.list_agents(limit=100).agents) == 45
    total = a.revision
    seen_a = [await on_a.next(timeout=5) for _ in range(total)]
    seen_b = [await on_b.next(timeout=5) for _ in range(total)]
    assert [(e.revision, e.type, e.agent_id) for e in seen_a] == [
        (e.revision, e.type, e.agent_id) for e in seen_b
    ]
    assert [e.revision for e in seen_a] == list(range(1, total + 1))


async def test_a_fenced_change_in_a_batch_does_not_sink_the_others(replicas, etcd):
    (a,) = await replicas(1)
    await a.register("rt", card(), "kept")
    first = asyncio.get_running_loop().create_task(a.register("other", card(), "first"))
    await asyncio.sleep(0)  # `first` is in flight: what follows is decided for the next Txn
    before = etcd.revision()
    a.lose_stream("rt", Fence(held_here="rt"))  # this replica holds no session for rt: fenced
    batched = await asyncio.gather(*[a.register("other", card(), f"b{i}") for i in range(5)])
    await first
    assert all(created for _, created, _ in batched)
    assert a.get("kept").status is AgentStatus.ACTIVE
    assert etcd.revision() - before <= 2  # `first`'s Txn and the batch's (the fenced change left out)
