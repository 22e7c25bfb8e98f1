"""RegistryClient: every RPC through the typed wrapper against a real daemon on loopback."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import grpc
import pytest
from agentregistry import (
    AgentAlreadyExistsError,
    AgentCard,
    AgentNotFoundError,
    AgentStatus,
    Bookmark,
    InvalidArgumentError,
    MatchKind,
    PermissionDeniedError,
    RegistryClient,
    RegistryError,
    RegistryEvent,
    RegistryEventType,
    RegistryUnavailableError,
    RevisionCompactedError,
    ServingStatus,
    Skill,
    StatusReason,
)

CODER = AgentCard(
    name="coder",
    description="writes code",
    version="1.2",
    url="http://127.0.0.1:9000",
    capabilities=("Python code generation",),
    skills=(Skill(id="review", name="code review", description="reads diffs", tags=("diff", "lint")),),
    labels={"team": "a"},
)


async def test_register_returns_the_agent_with_its_card_and_a_revision(client: RegistryClient) -> None:
    result = await client.register_agent("rt-1", CODER, "coder-1")
    assert result.created
    assert result.agent.agent_id == "coder-1"
    assert result.agent.card == CODER
    assert result.agent.status is AgentStatus.ACTIVE
    assert result.agent.status_reason is StatusReason.REGISTERED
    assert result.agent.registered_at.tzinfo is UTC
    assert abs((datetime.now(UTC) - result.agent.registered_at).total_seconds()) < 5
    assert result.revision == result.agent.revision > 0


async def test_register_same_id_same_runtime_is_idempotent(client: RegistryClient) -> None:
    await client.register_agent("rt-1", CODER, "coder-1")
    again = await client.register_agent("rt-1", AgentCard(name="coder v2", capabilities=("go",)), "coder-1")
    assert not again.created
    assert (await client.get_agent("coder-1")).card.name == "coder v2"


async def test_register_same_id_other_runtime_raises_already_exists(client: RegistryClient) -> None:
    await client.register_agent("rt-1", CODER, "coder-1")
    with pytest.raises(AgentAlreadyExistsError) as caught:
        await client.register_agent("rt-2", CODER, "coder-1")
    assert caught.value.code is grpc.StatusCode.ALREADY_EXISTS
    assert isinstance(caught.value, ValueError)  # as the original raised


async def test_register_without_id_gets_a_generated_one(client: RegistryClient) -> None:
    result = await client.register_agent("rt-1", CODER)
    assert result.agent.agent_id


async def test_bad_input_raises_invalid_argument_naming_the_field(client: RegistryClient) -> None:
    with pytest.raises(InvalidArgumentError) as caught:
        await client.register_agent("bad runtime id!", CODER)
    assert "runtime_id" in caught.value.message
    assert "runtime_id" in caught.value.field_violations


async def test_deregister_unknown_raises_not_found_and_other_runtime_permission_denied(
    client: RegistryClient,
) -> None:
    with pytest.raises(AgentNotFoundError):
        await client.deregister_agent("nobody")
    await client.register_agent("rt-1", CODER, "coder-1")
    with pytest.raises(PermissionDeniedError):
        await client.deregister_agent("coder-1", "rt-2")
    result = await client.deregister_agent("coder-1", "rt-1")
    assert result.agent.agent_id == "coder-1"
    with pytest.raises(AgentNotFoundError):
        await client.get_agent("coder-1")


async def test_list_agents_pages_through_every_agent_with_filters(client: RegistryClient) -> None:
    for i in range(7):
        await client.register_agent("rt-1" if i % 2 else "rt-2", CODER, f"a{i}")
    await client.update_agent_status("a3", AgentStatus.DEGRADED)
    first = await client.list_agents(page_size=3)
    assert [a.agent_id for a in first.agents] == ["a0", "a1", "a2"] and first.next_page_token
    second = await client.list_agents(page_size=3, page_token=first.next_page_token)
    assert [a.agent_id for a in second.agents] == ["a3", "a4", "a5"]
    everything = await client.list_all_agents(page_size=3)
    assert [a.agent_id for a in everything.agents] == [f"a{i}" for i in range(7)]
    assert everything.revision == first.revision
    rt1 = await client.list_all_agents(runtime_id="rt-1", statuses=[AgentStatus.ACTIVE])
    assert [a.agent_id for a in rt1.agents] == ["a1", "a5"]


async def test_find_agents_ranks_exact_then_word_then_substring(client: RegistryClient) -> None:
    await client.register_agent("rt", AgentCard(name="x", capabilities=("codegen tools",)), "substring")
    await client.register_agent("rt", AgentCard(name="x", capabilities=("code",)), "exact")
    await client.register_agent("rt", AgentCard(name="x", capabilities=("code review",)), "word")
    found = await client.find_agents("CODE")
    assert [(m.agent.agent_id, m.match_kind) for m in found.matches] == [
        ("exact", MatchKind.EXACT),
        ("word", MatchKind.WORD),
        ("substring", MatchKind.SUBSTRING),
    ]
    assert found.matches[0].matched_capability == "code"
    skill = await client.register_agent("rt", CODER, "skilled")
    by_tag = await client.find_agents("lint")
    assert [m.agent.agent_id for m in by_tag.matches] == ["skilled"]
    assert by_tag.revision >= skill.revision


async def test_find_agents_defaults_to_active_and_takes_status_filters(client: RegistryClient) -> None:
    await client.register_agent("rt", CODER, "a")
    await client.update_agent_status("a", AgentStatus.UNHEALTHY)
    assert (await client.find_agents("python")).matches == []
    found = await client.find_agents("python", statuses=[AgentStatus.UNHEALTHY])
    assert [m.agent.status for m in found.matches] == [AgentStatus.UNHEALTHY]
    with pytest.raises(InvalidArgumentError):
        await client.find_agents("   ")


async def test_update_agent_status_reports_whether_it_changed(client: RegistryClient) -> None:
    await client.register_agent("rt", CODER, "a")
    changed = await client.update_agent_status("a", AgentStatus.DEGRADED)
    assert changed.changed and changed.agent.status is AgentStatus.DEGRADED
    assert changed.agent.status_reason is StatusReason.OPERATOR
    same = await client.update_agent_status("a", AgentStatus.DEGRADED)
    assert not same.changed and same.revision == changed.revision


async def test_unary_heartbeat_reports_unknown_agents(client: RegistryClient) -> None:
    await client.register_agent("rt", CODER, "a")
    ack = await client.heartbeat("rt", ["a", "ghost"])
    assert ack.unknown_agent_ids == ("ghost",)
    assert ack.heartbeat_timeout == pytest.approx(0.3)
    assert ack.revision > 0


async def test_heartbeat_stream_keeps_agents_alive_and_close_marks_them_offline(
    client: RegistryClient,
) -> None:
    await client.register_agent("rt", CODER, "a")
    async with client.heartbeat_stream("rt") as stream:
        ack = await stream.bind(["a", "ghost"])
        assert ack.unknown_agent_ids == ("ghost",) and ack.bound_agents == 1 and ack.sequence == 1
        for _ in range(6):  # 0.6 s: twice the daemon's heartbeat timeout
            assert (await stream.beat()).sequence > 1
            await asyncio.sleep(0.1)
        assert (await client.get_agent("a")).status is AgentStatus.ACTIVE
    agent = await client.get_agent("a")
    assert (agent.status, agent.status_reason) == (AgentStatus.OFFLINE, StatusReason.STREAM_CLOSED)


async def test_heartbeat_stream_abort_marks_agents_unhealthy(client: RegistryClient) -> None:
    await client.register_agent("rt", CODER, "a")
    stream = client.heartbeat_stream("rt")
    await stream.bind(["a"])
    stream.abort()

    async def lost() -> bool:
        agent = await client.get_agent("a")
        return agent.status_reason is StatusReason.STREAM_LOST

    deadline = asyncio.get_running_loop().time() + 5
    while not await lost():
        assert asyncio.get_running_loop().time() < deadline
        await asyncio.sleep(0.02)
    assert (await client.get_agent("a")).status is AgentStatus.UNHEALTHY


async def test_heartbeat_stream_unbind_and_first_message_errors(client: RegistryClient) -> None:
    await client.register_agent("rt", CODER, "a")
    async with client.heartbeat_stream("rt") as stream:
        await stream.bind(["a"])
        assert (await stream.unbind(["a"])).bound_agents == 0
    assert (await client.get_agent("a")).status is AgentStatus.ACTIVE  # unbound: the close did not touch it
    with pytest.raises(RegistryError) as caught:
        async with client.heartbeat_stream("rt") as stream:
            await stream.beat()
    assert caught.value.code is grpc.StatusCode.FAILED_PRECONDITION
    assert "bind" in caught.value.message
    with pytest.raises(InvalidArgumentError):
        async with client.heartbeat_stream("rt") as stream:
            await stream.bind(["a"])
            await stream.beat(["not an id!"])


async def test_subscribe_replays_from_a_revision_then_streams_live_events(client: RegistryClient) -> None:
    first = await client.register_agent("rt", CODER, "a")
    await client.update_agent_status("a", AgentStatus.DEGRADED)
    items: list[RegistryEvent | Bookmark] = []

    async def read() -> None:
        async for item in client.subscribe(from_revision=first.revision):
            items.append(item)
            if isinstance(item, RegistryEvent) and item.event_type is RegistryEventType.AGENT_DEREGISTERED:
                return

    reader = asyncio.create_task(read())
    await asyncio.sleep(0.1)
    await client.deregister_agent("a")
    await asyncio.wait_for(reader, 5)
    assert isinstance(items[0], Bookmark)
    events = [i for i in items if isinstance(i, RegistryEvent)]
    assert [e.event_type for e in events] == [
        RegistryEventType.AGENT_REGISTERED,
        RegistryEventType.AGENT_STATUS_CHANGED,
        RegistryEventType.AGENT_DEREGISTERED,
    ]
    assert [e.revision for e in events] == sorted(e.revision for e in events)
    # What discovery indexes: capabilities, skill names and skill tags (issue 12 item 8).
    assert events[0].metadata == {"capabilities": ["Python code generation", "code review", "diff", "lint"]}
    assert events[1].metadata == {"old_status": "active", "new_status": "degraded", "reason": "operator"}
    assert events[2].metadata == {"reason": "requested"}
    assert events[2].agent is not None and events[2].agent.agent_id == "a"


async def test_subscribe_filters_by_type_and_runtime(client: RegistryClient) -> None:
    items: list[RegistryEvent] = []

    async def read() -> None:
        stream = client.subscribe([RegistryEventType.RUNTIME_JOINED], runtime_id="rt-2", from_revision=1)
        async for item in stream:
            if isinstance(item, RegistryEvent):
                items.append(item)
                return

    reader = asyncio.create_task(read())
    await client.register_agent("rt-1", CODER, "a")
    await client.register_agent("rt-2", CODER, "b")
    await asyncio.wait_for(reader, 5)
    assert [(e.event_type, e.runtime_id, e.agent_id) for e in items] == [
        (RegistryEventType.RUNTIME_JOINED, "rt-2", None)
    ]


async def test_subscribe_from_a_compacted_revision_raises(serve) -> None:  # type: ignore[no-untyped-def]
    running = await serve(event_retention=2)
    async with RegistryClient(running.address) as client:
        for i in range(3):
            await client.register_agent("rt", CODER, f"a{i}")
        with pytest.raises(RevisionCompactedError) as caught:
            async for _ in client.subscribe(from_revision=1):
                pass
    assert caught.value.code is grpc.StatusCode.FAILED_PRECONDITION
    assert caught.value.compacted_revision >= 1


async def test_list_runtimes_and_stats(client: RegistryClient) -> None:
    await client.register_agent("rt-1", CODER, "a")
    await client.register_agent("rt-1", CODER, "b")
    await client.register_agent("rt-2", CODER, "c")
    await client.update_agent_status("c", AgentStatus.OFFLINE)
    runtimes = await client.list_runtimes(page_size=1)  # every page joined
    assert [(r.runtime_id, r.agent_ids, r.agent_count) for r in runtimes.runtimes] == [
        ("rt-1", ("a", "b"), 2),
        ("rt-2", ("c",), 1),
    ]
    first = await client.list_runtimes_page(page_size=1)
    assert [r.runtime_id for r in first.runtimes] == ["rt-1"] and first.next_page_token
    rest = await client.list_runtimes_page(page_size=1, page_token=first.next_page_token)
    assert [r.runtime_id for r in rest.runtimes] == ["rt-2"] and not rest.next_page_token
    stats = await client.get_stats()
    assert (stats.total_agents, stats.total_runtimes, stats.total_registrations) == (3, 2, 3)
    assert stats.status_distribution[AgentStatus.ACTIVE] == 2
    assert stats.status_distribution[AgentStatus.OFFLINE] == 1
    assert stats.runtime_distribution == {"rt-1": 2, "rt-2": 1}
    assert stats.revision == runtimes.revision
    assert stats.replica.replica_id and stats.replica.streaming_runtimes == 0  # of two replicas either leads


async def test_health_check(client: RegistryClient) -> None:
    assert await client.health_check() is ServingStatus.SERVING
    assert await client.health_check("agentregistry.v1.RegistryService") is ServingStatus.SERVING
    assert await client.health_check("no.such.Service") is ServingStatus.SERVICE_UNKNOWN


async def test_unreachable_daemon_raises_unavailable() -> None:
    async with RegistryClient("127.0.0.1:1", timeout=1.0) as client:
        with pytest.raises(RegistryUnavailableError):
            await client.get_stats()
        with pytest.raises(RegistryUnavailableError):
            await client.wait_ready(0.2)


def test_client_certificate_needs_key_and_root() -> None:
    with pytest.raises(ValueError, match="together"):
        RegistryClient("127.0.0.1:1", client_certificate=b"x")
    with pytest.raises(ValueError, match="root_certificates"):
        RegistryClient("127.0.0.1:1", client_certificate=b"x", client_key=b"y")
