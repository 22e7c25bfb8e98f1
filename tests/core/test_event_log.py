"""Revisions, the retained event log with resume and compaction, ephemeral heartbeat events, and
per-subscriber bounded queues."""

from __future__ import annotations

import asyncio

import pytest
from core_support import card, queued, running

from registryd.core.errors import RevisionCompacted, SubscriberOverflow
from registryd.core.events import EventFilter, EventLog, Subscription, SubscriptionClosed
from registryd.core.model import AgentStatus, Event, EventType
from registryd.core.registry import Registry
from registryd.core.streams import HeartbeatSession, StreamEnd


async def mixed_history(registry: Registry) -> None:
    """Registrations, status changes and deregistrations across two runtimes."""
    await registry.register("rt", card("x"), "a1")
    await registry.register("other", card("y"), "b1")
    await registry.update_status("a1", AgentStatus.DEGRADED)
    await registry.heartbeat("other", ["b1"], AgentStatus.DEGRADED)
    await registry.deregister("b1")
    await registry.register("rt", card("z"), "a2")


async def test_every_change_gets_the_next_revision_and_events_arrive_in_order(
    registry: Registry, events: Subscription
):
    await mixed_history(registry)
    got = await queued(events)
    assert [e.revision for e in got] == list(range(1, registry.revision + 1))
    assert registry.revision == 9


async def test_concurrent_mutations_still_form_one_total_order(registry: Registry, events: Subscription):
    await asyncio.gather(*(registry.register(f"rt{i % 3}", card("x"), f"a{i}") for i in range(30)))
    got = await queued(events)
    assert [e.revision for e in got] == list(range(1, 34))
    assert [e.agent.revision for e in got if e.agent] == [e.revision for e in got if e.agent]


async def test_resume_replays_retained_events_then_continues_live(registry: Registry):
    await mixed_history(registry)
    sub = registry.subscribe(EventFilter(), from_revision=4)
    await registry.register("rt", card("w"), "a3")
    got = await queued(sub)
    assert [e.revision for e in got] == list(range(4, registry.revision + 1))


async def test_resume_applies_the_filter_to_the_replay(registry: Registry):
    await mixed_history(registry)
    sub = registry.subscribe(EventFilter(runtime_id="other"), from_revision=1)
    assert {e.runtime_id for e in await queued(sub)} == {"other"}
    by_agent = registry.subscribe(EventFilter(agent_id="a1"), from_revision=1)
    assert {e.agent_id for e in await queued(by_agent)} == {"a1"}
    typed = registry.subscribe(EventFilter(types=frozenset({EventType.RUNTIME_LEFT})), from_revision=1)
    assert [e.type for e in await queued(typed)] == [EventType.RUNTIME_LEFT]


async def test_subscribing_from_the_next_revision_repeats_nothing(registry: Registry):
    await mixed_history(registry)
    sub = registry.subscribe(EventFilter(), from_revision=registry.revision + 1)
    assert await queued(sub) == []
    await registry.register("rt", card("w"), "a3")
    assert [e.revision for e in await queued(sub)] == [registry.revision]


async def test_compacted_revision_is_refused_with_the_oldest_retained_revision():
    async with running(event_retention=3) as registry:
        await mixed_history(registry)
        assert registry.stats().compacted_revision == registry.revision - 3
        with pytest.raises(RevisionCompacted) as refused:
            registry.subscribe(EventFilter(), from_revision=2)
        assert refused.value.compacted_revision == registry.revision - 3
        assert str(registry.revision - 2) in refused.value.message
        oldest = registry.subscribe(EventFilter(), from_revision=registry.revision - 2)
        assert len(await queued(oldest)) == 3


def test_event_log_keeps_the_last_n_events_contiguous():
    log = EventLog(retention=2)
    for revision in range(1, 6):
        log.append(Event(revision, EventType.RUNTIME_JOINED, 0.0, f"rt{revision}"))
    assert (log.compacted_revision, log.last_revision) == (3, 5)
    assert [e.revision for e in log.since(4)] == [4, 5]
    assert log.since(6) == []
    with pytest.raises(RevisionCompacted):
        log.since(3)


async def test_heartbeat_events_are_opt_in_live_only_and_have_revision_zero(
    registry: Registry, events: Subscription
):
    beats = registry.subscribe(EventFilter(types=frozenset({EventType.AGENT_HEARTBEAT})))
    await registry.register("rt", card("x"), "a1")
    before = registry.revision
    await registry.heartbeat("rt", ["a1"])
    got = await queued(beats)
    assert [(e.type, e.revision, e.agent_id) for e in got] == [(EventType.AGENT_HEARTBEAT, 0, "a1")]
    assert registry.revision == before
    assert all(e.type is not EventType.AGENT_HEARTBEAT for e in await queued(events))
    replay = registry.subscribe(EventFilter(types=frozenset(EventType)), from_revision=1)
    assert all(e.type is not EventType.AGENT_HEARTBEAT for e in await queued(replay))


async def test_overflowing_subscriber_is_cut_off_with_its_last_revision_and_others_are_unaffected():
    async with running(event_queue_size=3) as registry:
        stalled = registry.subscribe(EventFilter())
        reader = registry.subscribe(EventFilter())
        await registry.register("rt", card("x"), "a0")  # revisions 1, 2
        assert [e.revision for e in await queued(stalled)] == [1, 2]
        received: list[int] = []
        for i in range(1, 6):  # the registry never waits on the stalled subscriber
            await asyncio.wait_for(registry.register("rt", card("x"), f"a{i}"), 1)
            received += [e.revision for e in await queued(reader)]
        with pytest.raises(SubscriberOverflow) as cut_off:
            await stalled.next(0)
        assert cut_off.value.last_revision == 2
        assert "resume from revision 3" in cut_off.value.message
        assert stalled.closed
        assert received == list(range(1, registry.revision + 1))
        assert registry.stats().subscribers == 1
        resumed = registry.subscribe(EventFilter(), from_revision=cut_off.value.last_revision + 1)
        assert [e.revision for e in await queued(resumed)] == list(range(3, registry.revision + 1))


async def test_closing_the_registry_ends_subscriptions(registry: Registry, events: Subscription):
    waiting = asyncio.ensure_future(events.next())
    await asyncio.sleep(0)
    registry.hub.close_all()
    with pytest.raises(SubscriptionClosed):
        await asyncio.wait_for(waiting, 1)


async def test_bookmark_reports_the_revision_seen_so_far(registry: Registry):
    filtered = registry.subscribe(EventFilter(runtime_id="other"))
    await registry.register("rt", card("x"), "a1")
    assert await queued(filtered) == []
    assert filtered.bookmark() == registry.revision


async def test_resume_ahead_of_the_registry_bookmarks_the_real_revision(registry: Registry):
    await registry.register("rt", card("x"), "a1")  # revisions 1 and 2
    sub = registry.subscribe(EventFilter(), from_revision=50)
    assert sub.bookmark() == 2  # not 49: the daemon never reached it (say, it restarted without data)
    await registry.register("rt", card("y"), "a2")
    assert await queued(sub) == []  # below from_revision: not sent


async def test_a_prompt_subscriber_takes_a_change_bigger_than_its_queue():
    """One stream of 1,000 agents breaks with event_queue_size 100: a subscriber that keeps up gets every
    STATUS_CHANGED; one that was already a full queue behind is still cut off."""
    async with running(event_queue_size=100) as registry:
        for i in range(1000):
            await registry.register("rt", card("x"), f"a{i:04d}")
        prompt = registry.subscribe(EventFilter())
        behind = registry.subscribe(EventFilter())
        for i in range(100):
            await registry.update_status(f"a{i:04d}", AgentStatus.DEGRADED)
        await queued(prompt)
        session = HeartbeatSession(registry)
        await session.bind("rt", [])
        session.close(StreamEnd.LOST)
        await registry.committer.barrier()
        changed = [e for e in await queued(prompt) if e.type is EventType.AGENT_STATUS_CHANGED]
        assert len(changed) == 1000 and not prompt.closed
        with pytest.raises(SubscriberOverflow):
            await queued(behind)


async def test_resume_ahead_of_the_registry_starts_there_and_bookmarks_nothing_it_skipped(registry: Registry):
    await registry.register("rt", card("x"), "a1")  # revisions 1 and 2
    sub = registry.subscribe(EventFilter(), from_revision=12)
    assert sub.bookmark() == 2
    for i in range(7):  # revisions 3 to 9: below from_revision, not sent, so no bookmark may claim them
        await registry.register("rt", card("x"), f"b{i}")
    assert await queued(sub) == [] and sub.bookmark() == 2  # was 9: events 3-9 claimed but never sent
    for i in range(3):  # revisions 10, 11 (the client's own) and 12, the first one sent
        await registry.register("rt", card("x"), f"c{i}")
    assert [e.revision for e in await queued(sub)] == [12]
    assert sub.bookmark() == 12


async def test_heartbeat_digests_coalesce_for_a_slow_reader_and_never_cut_it_off():
    async with running(event_queue_size=2) as registry:
        for i in range(3):
            await registry.register("rt", card("x"), f"a{i}")
        digests = registry.subscribe(EventFilter(types=frozenset(), heartbeat_digests=True))
        only_a0 = registry.subscribe(EventFilter(types=frozenset(), agent_id="a0", heartbeat_digests=True))
        for _ in range(50):  # far more digests than the queue holds, none of them read
            await registry.heartbeat("rt")
            registry.hub.send_digests()
        latest = {a.agent_id: a.last_heartbeat for a in registry.list_agents().agents}
        assert [dict((await digests.next(0)).beats)] == [latest]  # one digest with the newest times
        assert await digests.next(0) is None and not digests.closed
        assert dict((await only_a0.next(0)).beats) == {"a0": latest["a0"]}
