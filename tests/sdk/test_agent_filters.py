"""Discovery through the SDK against a real daemon: FindAgents, ListAgents (paged), SelectAgent and
Subscribe take the same AgentFilter, a bad one is refused naming its field; the local view ranks word-aware
queries as the daemon does."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from agentregistry import (
    AgentCard,
    AgentFilter,
    InvalidArgumentError,
    MatchKind,
    RegistryClient,
    RegistryEvent,
    RegistryEventType,
    Skill,
)
from agentregistry.types import AgentProvider


def card(i: int) -> AgentCard:
    return AgentCard(
        name=f"agent {i}",
        capabilities=("code generation",),
        skills=(Skill(id="gen" if i % 2 else "review", name="code", tags=("python",)),),
        labels={"tier": "gold" if i % 3 == 0 else "silver", **({"canary": "yes"} if i == 3 else {})},
        provider=AgentProvider(organization="Acme"),
        a2a_capabilities={"streaming": i % 2 == 1},
    )


async def test_every_rpc_takes_the_same_filter(client: RegistryClient) -> None:
    for i in range(10):
        await client.register_agent("rt", card(i), f"a{i}")
    gold = AgentFilter(label_selector="tier=gold,!canary", provider="acme")  # a0, a6, a9
    found = await client.find_agents(filter=gold)
    assert [m.agent.agent_id for m in found.matches] == ["a0", "a6", "a9"]
    assert {m.match_kind for m in found.matches} == {MatchKind.FILTER}
    ranked = await client.find_agents("code", filter=AgentFilter(streaming=True, skill_ids=("gen",)))
    assert sorted(m.agent.agent_id for m in ranked.matches) == ["a1", "a3", "a5", "a7", "a9"]
    page = await client.list_agents(page_size=2, filter=gold)
    assert [a.agent_id for a in page.agents] == ["a0", "a6"] and page.next_page_token
    rest = await client.list_agents(page_size=2, page_token=page.next_page_token, filter=gold)
    assert [a.agent_id for a in rest.agents] == ["a9"]
    with pytest.raises(InvalidArgumentError, match="filter"):  # a token is bound to its filter
        await client.list_agents(page_size=2, page_token=page.next_page_token)
    every = await client.list_all_agents(page_size=3, filter=AgentFilter(label_selector="tier in (silver)"))
    assert len(every.agents) == 6
    selection = await client.select_agent("", filter=gold)
    assert selection.agent is not None and selection.agent.agent_id in {"a0", "a6", "a9"}


async def test_a_router_watches_only_the_agents_it_could_route_to(client: RegistryClient) -> None:
    seen: list[str] = []

    async def watch() -> None:
        only = AgentFilter(label_selector="tier=gold", streaming=True)
        async for item in client.subscribe(filter=only):
            if isinstance(item, RegistryEvent):
                seen.append(f"{item.event_type.name}:{item.agent_id}")
                if item.event_type is RegistryEventType.AGENT_DEREGISTERED:
                    return

    reader = asyncio.create_task(watch())
    await asyncio.sleep(0.2)  # the subscription is live before the changes it should see
    for i in range(4):
        await client.register_agent("rt", card(i), f"a{i}")  # a3 is gold and streams
    await client.deregister_agent("a2", "rt")
    await client.deregister_agent("a3", "rt")
    await asyncio.wait_for(reader, 5)
    assert [s for s in seen if not s.startswith("AGENT_STATUS")] == [
        f"{RegistryEventType.AGENT_REGISTERED.name}:a3",
        f"{RegistryEventType.AGENT_DEREGISTERED.name}:a3",
    ]


@pytest.mark.parametrize(
    ("agent_filter", "field"),
    [
        (AgentFilter(label_selector="tier=gold=x"), "filter.label_selector"),
        (AgentFilter(tags=("",)), "filter.tags[0]"),
    ],
)
async def test_a_bad_filter_is_refused_naming_its_field(
    client: RegistryClient, agent_filter: AgentFilter, field: str
) -> None:
    with pytest.raises(InvalidArgumentError) as raised:
        await client.find_agents(filter=agent_filter)
    assert field in str(raised.value) or getattr(raised.value, "field", None) == field


LOCAL_CARDS = {
    "exact": AgentCard(name="a", capabilities=("Code generation",)),
    "plural": AgentCard(name="b", capabilities=("code generations",)),
    "words": AgentCard(name="c", capabilities=("generation of python code",)),
    "tag": AgentCard(name="d", skills=(Skill(id="s", name="Writer", tags=("code-generation",)),)),
    "sub": AgentCard(name="e", capabilities=("code generationally",)),
    "described": AgentCard(name="f", description="Does code generation for Go", capabilities=("chat",)),
}


async def test_the_local_view_ranks_as_the_daemon_does(daemon: Any, make_registry: Any) -> None:
    registry = await make_registry(daemon.address)
    for agent_id, agent_card in LOCAL_CARDS.items():
        await registry.register_agent(agent_card, "rt", agent_id=agent_id)
    for query in ("code generation", "generation code", "code generations", "code-gen", "go", "writer"):
        remote = await registry.find_agents_by_capability(query)
        local = await registry.find_agents_by_capability(query, local=True)
        assert [a.agent_id for a in local] == [a.agent_id for a in remote], query
        assert remote, query


async def test_agent_registry_selects_and_reserves_within_a_filter(serve: Any, make_registry: Any) -> None:
    daemon = await serve(heartbeat_timeout=60.0, auto_deregister_timeout=120.0)  # nothing times out here
    router = await make_registry(daemon.address)
    for i in range(4):
        await router.client.register_agent("rt", card(i), f"a{i}")
    canary = AgentFilter(label_selector="canary")  # only a3
    picked = await router.select_agent("code generation", filter=canary)
    assert picked is not None and picked.agent_id == "a3"
    async with router.reserve_agent("code generation", filter=canary) as reserved:
        assert reserved.agent_id == "a3"
