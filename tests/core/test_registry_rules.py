"""Registration, ownership and status rules of registryd.core.Registry."""

from __future__ import annotations

import re
import string
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest
import structlog
from core_support import card, queued, running

from registryd.core import registry as registry_module
from registryd.core.commit import CommitFailed
from registryd.core.errors import AlreadyExists, InvalidArgument, NotFound, PermissionDenied
from registryd.core.events import EventFilter, Subscription
from registryd.core.model import AgentCard, AgentStatus, DeregisterReason, Event, EventType, StatusReason
from registryd.core.registry import Registry
from registryd.core.streams import HeartbeatSession, StreamEnd
from registryd.core.validation import Limits, validate_id
from registryd.store.base import Snapshot

A, S, OP, R = AgentStatus, StatusReason, StatusReason.OPERATOR, DeregisterReason


def snapshot(registry: Registry) -> tuple[object, ...]:
    """Everything a refused call must leave untouched."""
    page = registry.list_agents(limit=1000)
    return (page.agents, registry.runtime_agents, registry.revision, registry.stats())


async def test_runtime_joined_comes_before_first_agent_registered(registry: Registry, events: Subscription):
    await registry.register("rt", card("x"), "a1")
    await registry.register("rt", card("y"), "a2")
    got = await queued(events)
    assert [(e.type, e.agent_id) for e in got] == [
        (EventType.RUNTIME_JOINED, ""),
        (EventType.AGENT_REGISTERED, "a1"),
        (EventType.AGENT_REGISTERED, "a2"),
    ]
    assert registry.runtime_agents == {"rt": frozenset({"a1", "a2"})}
    assert got[1].status_reason is S.REGISTERED  # the contract fills status_reason on AGENT_REGISTERED


async def test_runtime_left_comes_after_last_agent_deregistered(registry: Registry, events: Subscription):
    await registry.register("rt", card("x"), "a1")
    await registry.register("rt", card("y"), "a2")
    await queued(events)
    await registry.deregister("a1")
    await registry.deregister("a2", "rt")
    got = await queued(events)
    assert [(e.type, e.agent_id) for e in got] == [
        (EventType.AGENT_DEREGISTERED, "a1"),
        (EventType.AGENT_DEREGISTERED, "a2"),
        (EventType.RUNTIME_LEFT, ""),
    ]
    assert all(e.deregister_reason is R.REQUESTED for e in got[:2])
    assert got[1].agent is not None and got[1].agent.agent_id == "a2"  # the last state travels along
    assert registry.runtime_agents == {}


async def test_server_generates_an_id_when_none_is_given(registry: Registry):
    agent, created, _ = await registry.register("rt", card("x"))
    assert created and agent.agent_id
    assert registry.get(agent.agent_id) == agent


async def test_reregister_by_owner_is_idempotent_and_replaces_the_card(
    registry: Registry, events: Subscription
):
    first, created, _ = await registry.register("rt", card("old"), "a1")
    assert created
    again, created, revision = await registry.register("rt", card("new"), "a1")
    assert not created
    assert again.card.capabilities == ("new",)
    assert again.registered_at == first.registered_at
    assert registry.find("old") == [] and [f.agent.agent_id for f in registry.find("new")] == ["a1"]
    assert registry.stats().total_registrations == 1
    got = await queued(events)
    assert [e.type for e in got] == [EventType.RUNTIME_JOINED, *[EventType.AGENT_REGISTERED] * 2]
    assert got[-1].revision == revision


async def test_reregister_with_the_same_card_emits_nothing(registry: Registry, events: Subscription):
    await registry.register("rt", card("x"), "a1")
    await queued(events)
    before = registry.revision
    _, created, revision = await registry.register("rt", card("x"), "a1")
    assert not created and revision == before
    assert await queued(events) == []


async def test_register_under_another_runtime_is_already_exists_and_changes_nothing(registry: Registry):
    await registry.register("rt", card("x"), "a1")
    before = snapshot(registry)
    with pytest.raises(AlreadyExists) as refused:
        await registry.register("other", card("y"), "a1")
    assert refused.value.field == "agent_id" and "'rt'" in refused.value.message
    assert snapshot(registry) == before


async def test_deregister_by_non_owner_is_refused_and_changes_nothing(registry: Registry):
    await registry.register("rt", card("x"), "a1")
    before = snapshot(registry)
    with pytest.raises(PermissionDenied):
        await registry.deregister("a1", "other")
    assert snapshot(registry) == before


async def test_unknown_agent_is_not_found(registry: Registry):
    with pytest.raises(NotFound):
        registry.get("nobody")
    with pytest.raises(NotFound):
        await registry.deregister("nobody")
    with pytest.raises(NotFound):
        await registry.update_status("nobody", A.OFFLINE)


@pytest.mark.parametrize(
    ("runtime_id", "agent_id", "field"),
    [("", "a1", "runtime_id"), ("rt", "bad id", "agent_id"), ("r" * 129, "a1", "runtime_id")],
)
async def test_bad_ids_are_refused_naming_the_field(registry: Registry, runtime_id, agent_id, field):
    before = snapshot(registry)
    with pytest.raises(InvalidArgument) as refused:
        await registry.register(runtime_id, card("x"), agent_id)
    assert refused.value.field == field and field in refused.value.message
    assert snapshot(registry) == before


async def test_oversized_card_is_refused_naming_the_field_and_limit(registry: Registry):
    with pytest.raises(InvalidArgument) as refused:
        await registry.register("rt", card("x" * 257), "a1")
    assert refused.value.field == "card.capabilities[0]" and "256" in refused.value.message
    assert registry.stats().total_agents == 0 and registry.runtime_agents == {}


async def test_heartbeat_naming_another_runtimes_agent_beats_only_its_own(registry: Registry):
    await registry.register("rt", card("x"), "mine")
    theirs, _, _ = await registry.register("other", card("y"), "theirs")
    result, _ = await registry.heartbeat("rt", ["mine", "theirs"], A.DEGRADED)
    assert result.refused_agent_ids == ("theirs",)
    assert registry.get("mine").status is A.DEGRADED
    assert registry.get("theirs") == theirs


async def test_status_update_to_the_current_status_emits_nothing(registry: Registry, events: Subscription):
    await registry.register("rt", card("x"), "a1")
    await queued(events)
    agent, changed, revision = await registry.update_status("a1", A.ACTIVE)
    assert not changed and revision == registry.revision and agent.status is A.ACTIVE
    assert await queued(events) == []


async def test_operator_status_is_sticky_against_heartbeats(registry: Registry, events: Subscription):
    await registry.register("rt", card("x"), "a1")
    _, changed, _ = await registry.update_status("a1", A.OFFLINE)
    assert changed
    await registry.heartbeat("rt", ["a1"], A.ACTIVE)
    await registry.heartbeat("rt")
    agent = registry.get("a1")
    assert (agent.status, agent.status_reason) == (A.OFFLINE, OP)
    got = await queued(events)
    assert [(e.type, e.new_status, e.status_reason) for e in got[2:]] == [
        (EventType.AGENT_STATUS_CHANGED, A.OFFLINE, OP)
    ]


async def test_operator_active_hands_the_status_back_to_the_agent(registry: Registry):
    await registry.register("rt", card("x"), "a1")
    await registry.update_status("a1", A.UNHEALTHY)
    await registry.update_status("a1", A.ACTIVE)
    await registry.heartbeat("rt", ["a1"], A.DEGRADED)
    agent = registry.get("a1")
    assert (agent.status, agent.status_reason) == (A.DEGRADED, S.SELF_REPORTED)


async def lose_stream(registry: Registry, runtime_id: str) -> None:
    """Bind the runtime's agents to a stream that then breaks: they turn UNHEALTHY (STREAM_LOST)."""
    session = HeartbeatSession(registry)
    await session.bind(runtime_id, [])
    session.close(StreamEnd.LOST)
    await registry.committer.barrier()


async def test_operator_status_over_the_same_machine_status_is_kept_after_recovery(
    registry: Registry, events: Subscription
):
    await registry.register("rt", card("x"), "a1")
    await lose_stream(registry, "rt")
    await queued(events)
    _, changed, _ = await registry.update_status("a1", A.UNHEALTHY)
    await registry.heartbeat("rt", ["a1"])
    agent = registry.get("a1")
    assert changed and (agent.status, agent.status_reason) == (A.UNHEALTHY, OP)
    assert (agent.health, agent.health_reason) == (A.ACTIVE, S.HEARTBEAT_RESUMED)
    got = await queued(events)
    assert [(e.type, e.old_status, e.new_status, e.status_reason) for e in got] == [
        (EventType.AGENT_STATUS_CHANGED, A.UNHEALTHY, A.UNHEALTHY, OP),
        (EventType.AGENT_STATUS_CHANGED, A.UNHEALTHY, A.UNHEALTHY, S.HEARTBEAT_RESUMED),
    ]


async def test_heartbeat_event_follows_the_status_change_of_the_same_beat(registry: Registry):
    beats = registry.subscribe(
        EventFilter(types=frozenset({EventType.AGENT_STATUS_CHANGED, EventType.AGENT_HEARTBEAT}))
    )
    await registry.register("rt", card("x"), "a1")
    await lose_stream(registry, "rt")
    await registry.heartbeat("rt", ["a1"])
    got = await queued(beats)
    assert [(e.type, e.new_status, e.status_reason) for e in got] == [
        (EventType.AGENT_HEARTBEAT, None, None),  # the bind beat
        (EventType.AGENT_STATUS_CHANGED, A.UNHEALTHY, S.STREAM_LOST),
        (EventType.AGENT_STATUS_CHANGED, A.ACTIVE, S.HEARTBEAT_RESUMED),
        (EventType.AGENT_HEARTBEAT, None, None),
    ]
    assert got[-1].revision == 0


async def test_heartbeat_carries_self_reported_degraded_and_active(registry: Registry, events: Subscription):
    await registry.register("rt", card("x"), "a1")
    await queued(events)
    await registry.heartbeat("rt", ["a1"], A.DEGRADED)
    await registry.heartbeat("rt", ["a1"], A.DEGRADED)  # no change, no event
    await registry.heartbeat("rt", [], A.ACTIVE)
    got = await queued(events)
    assert [(e.old_status, e.new_status, e.status_reason) for e in got] == [
        (A.ACTIVE, A.DEGRADED, S.SELF_REPORTED),
        (A.DEGRADED, A.ACTIVE, S.SELF_REPORTED),
    ]


@pytest.mark.parametrize("status", [A.UNHEALTHY, A.OFFLINE])
async def test_heartbeat_cannot_self_report_unhealthy_or_offline(registry: Registry, status: AgentStatus):
    await registry.register("rt", card("x"), "a1")
    with pytest.raises(InvalidArgument) as refused:
        await registry.heartbeat("rt", ["a1"], status)
    assert refused.value.field == "status"
    assert registry.get("a1").status is A.ACTIVE


async def test_heartbeat_reports_unknown_agents(registry: Registry):
    await registry.register("rt", card("x"), "a1")
    result, _ = await registry.heartbeat("rt", ["a1", "gone"])
    assert result.unknown_agent_ids == ("gone",)


async def test_list_agents_filters_by_runtime_and_status_and_pages_in_id_order(registry: Registry):
    for i in range(5):
        await registry.register("rt" if i % 2 else "other", card("x"), f"a{i}")
    await registry.update_status("a3", A.OFFLINE)
    first = registry.list_agents(limit=2)
    assert [a.agent_id for a in first.agents] == ["a0", "a1"] and first.next_after == "a1"
    rest = registry.list_agents(after=first.next_after, limit=10)
    assert [a.agent_id for a in rest.agents] == ["a2", "a3", "a4"] and rest.next_after is None
    assert [a.agent_id for a in registry.list_agents(runtime_id="rt").agents] == ["a1", "a3"]
    assert [a.agent_id for a in registry.list_agents(statuses=[A.OFFLINE]).agents] == ["a3"]
    exact = registry.list_agents(limit=5)
    assert exact.next_after is None and len(exact.agents) == 5


async def test_stats_and_runtimes_reflect_the_registry(registry: Registry):
    await registry.register("rt", card("x"), "a1")
    await registry.register("rt", card("y"), "a2")
    await registry.register("other", card("x"), "b1")
    await registry.update_status("b1", A.DEGRADED)
    stats = registry.stats()
    assert (stats.total_agents, stats.total_runtimes, stats.revision) == (3, 2, registry.revision)
    assert stats.status_distribution["ACTIVE"] == 2 and stats.status_distribution["DEGRADED"] == 1
    assert stats.runtime_distribution == {"rt": 2, "other": 1}
    assert stats.capability_index_size == 2
    assert [(r.runtime_id, r.agent_ids) for r in registry.runtimes().runtimes] == [
        ("other", ("b1",)),
        ("rt", ("a1", "a2")),
    ]


def big_card(i: int) -> AgentCard:
    return AgentCard(name=f"agent {i}", capabilities=("shared skill",), description="d" * 4000)


async def test_list_pages_and_find_answers_stop_at_the_response_byte_limit():
    async with running(limits=Limits(max_response_bytes=20_000)) as registry:
        for i in range(10):
            await registry.register("rt", big_card(i), f"a{i}")
        first = registry.list_agents(limit=100)
        rest = registry.list_agents(after=first.next_after or "", limit=100)
        found = registry.find("shared", limit=100)
    assert 1 <= len(first.agents) < 10 and first.next_after == first.agents[-1].agent_id
    assert len(found) == len(first.agents)  # the same budget, the same cards
    paged = [a.agent_id for a in first.agents + rest.agents]
    assert paged[: len(first.agents) + 1] == [f"a{i}" for i in range(len(first.agents) + 1)]


async def test_one_agent_larger_than_the_byte_limit_is_still_returned():
    async with running(limits=Limits(max_response_bytes=1_000)) as registry:
        await registry.register("rt", big_card(0), "a0")
        assert [a.agent_id for a in registry.list_agents().agents] == ["a0"]
        assert [f.agent.agent_id for f in registry.find("shared")] == ["a0"]


def test_the_proto_documents_the_id_charset_the_daemon_enforces():
    proto = (Path(__file__).parents[2] / "protos/agentregistry/v1/registry.proto").read_text()
    documented = set(re.search(r'Letters, digits and "([^"]+)"', proto).group(1))  # type: ignore[union-attr]
    accepted = set()
    for char in string.punctuation:
        try:
            validate_id("agent_id", f"a{char}b", Limits())
            accepted.add(char)
        except InvalidArgument:
            pass
    assert accepted == documented


class FullDisk:
    """A store whose every write fails, as on a full disk."""

    async def load(self) -> Snapshot:
        return Snapshot()

    async def append(self, events: Sequence[Event], streams: Mapping[str, bool]) -> None:
        raise OSError(28, "No space left on device")

    async def close(self) -> None:
        return None


async def test_lifecycle_is_logged_only_once_committed():
    async with running(store=FullDisk()) as registry:
        with structlog.testing.capture_logs() as logged, pytest.raises(CommitFailed):
            await registry.register("rt", card("x"), "a1")
    assert not [line for line in logged if line["event"] in ("agent_registered", "runtime_joined")]


async def test_a_listing_few_agents_pass_goes_on_in_bounded_pages(registry: Registry, monkeypatch):
    monkeypatch.setattr(registry_module, "LIST_SCAN", 10)
    for i in range(35):
        await registry.register("rt", card("x"), f"a{i:02}")
    await registry.update_status("a31", A.OFFLINE)
    found, after, pages = [], "", 0
    while True:
        page = registry.list_agents(statuses=[A.OFFLINE], after=after, limit=5)
        found += [a.agent_id for a in page.agents]
        pages += 1
        if page.next_after is None:
            break
        after = page.next_after
    assert found == ["a31"] and pages == 4
