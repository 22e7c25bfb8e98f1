"""Structured filters: each alone, combined, with and without a text query, in FindAgents, ListAgents,
SelectAgent and Subscribe; the label selector's Kubernetes syntax; bad filters get clear errors."""

from __future__ import annotations

import pytest
from core_support import queued, running

from registryd.core.errors import InvalidArgument
from registryd.core.events import EventFilter
from registryd.core.filters import AgentFilter
from registryd.core.model import (
    AgentCapabilities,
    AgentCard,
    AgentInterface,
    AgentProvider,
    AgentStatus,
    EventType,
    MatchKind,
    Skill,
)
from registryd.core.placement import SelectRequest
from registryd.core.registry import Registry
from registryd.core.selection import Requirement, parse_selector

CARDS = {
    "coder": AgentCard(
        name="coder",
        capabilities=("Code generation",),
        skills=(Skill(id="gen", name="Generate", tags=("python", "Go"), input_modes=("text/plain",)),),
        labels=(("region", "eu"), ("tier", "gold")),
        supported_interfaces=(AgentInterface(url="http://127.0.0.1:1", protocol_binding="JSONRPC"),),
        a2a_capabilities=AgentCapabilities(streaming=True),
        provider=AgentProvider(organization="Acme"),
        default_output_modes=("application/json",),
    ),
    "canary": AgentCard(
        name="canary",
        capabilities=("Code review",),
        skills=(Skill(id="review", name="Review", tags=("python",)),),
        labels=(("canary", ""), ("region", "us"), ("tier", "gold")),
        supported_interfaces=(AgentInterface(url="http://127.0.0.1:2", protocol_binding="GRPC"),),
        a2a_capabilities=AgentCapabilities(streaming=True, push_notifications=True),
    ),
    "writer": AgentCard(
        name="writer",
        capabilities=("Copy writing",),
        skills=(Skill(id="write", name="Write", tags=("prose",), output_modes=("text/markdown",)),),
        labels=(("region", "ap"), ("tier", "silver")),
        provider=AgentProvider(organization="ACME"),
    ),
}


async def fleet(registry: Registry) -> None:
    for agent_id, card in CARDS.items():
        await registry.register("rt", card, agent_id)


def ids(found: list) -> list[str]:
    return sorted(f.agent.agent_id for f in found)


FILTERS = [
    (AgentFilter(skill_ids=("gen",)), ["coder"]),
    (AgentFilter(skill_ids=("GEN",)), []),  # skill ids are exact
    (AgentFilter(tags=("PYTHON",)), ["canary", "coder"]),
    (AgentFilter(tags=("python", "go")), ["coder"]),  # every entry must hold
    (AgentFilter(input_modes=("text/plain",)), ["coder"]),
    (AgentFilter(output_modes=("application/json",)), ["coder"]),
    (AgentFilter(output_modes=("text/markdown",)), ["writer"]),
    (AgentFilter(protocol_bindings=("grpc",)), ["canary"]),
    (AgentFilter(streaming=True), ["canary", "coder"]),
    (AgentFilter(push_notifications=True), ["canary"]),
    (AgentFilter(provider="acme"), ["coder", "writer"]),
    (AgentFilter(verified=True), []),  # no key configured: nothing is verified
    (AgentFilter(label_selector="tier=gold"), ["canary", "coder"]),
    (AgentFilter(label_selector="tier==gold"), ["canary", "coder"]),
    (AgentFilter(label_selector="tier!=gold"), ["writer"]),
    (AgentFilter(label_selector="region in (eu,ap)"), ["coder", "writer"]),
    (AgentFilter(label_selector="region notin (eu,ap)"), ["canary"]),
    (AgentFilter(label_selector="canary"), ["canary"]),
    (AgentFilter(label_selector="!canary"), ["coder", "writer"]),
    (AgentFilter(label_selector="missing!=x"), ["canary", "coder", "writer"]),  # absent counts for !=
    (AgentFilter(label_selector="tier=gold,region in (eu,us),!canary"), ["coder"]),
    (AgentFilter(tags=("python",), streaming=True, label_selector="!canary"), ["coder"]),
    (AgentFilter(provider="Acme", label_selector="tier=silver"), ["writer"]),
]


@pytest.mark.parametrize(("agent_filter", "expected"), FILTERS, ids=[repr(f) for f, _ in FILTERS])
async def test_each_filter_alone_and_combined(agent_filter: AgentFilter, expected: list[str]) -> None:
    async with running() as registry:
        await fleet(registry)
        found = registry.find("", agent_filter=agent_filter)
        assert ids(found) == expected
        assert all(f.kind is MatchKind.FILTER and f.matched_text == "" for f in found)
        listed = registry.list_agents(agent_filter=agent_filter)
        assert [a.agent_id for a in listed.agents] == expected
        with_text = registry.find("code", agent_filter=agent_filter)
        assert ids(with_text) == [a for a in expected if a != "writer"]


async def test_a_filter_narrows_a_text_query_and_keeps_its_ranking() -> None:
    async with running() as registry:
        await fleet(registry)
        found = registry.find("code review", agent_filter=AgentFilter(tags=("python",)))
        assert [(f.agent.agent_id, f.kind) for f in found] == [("canary", MatchKind.EXACT)]
        assert registry.find("code review", agent_filter=AgentFilter(label_selector="!canary")) == []


async def test_filter_only_results_are_in_agent_id_order_and_paged() -> None:
    async with running() as registry:
        for i in range(30):
            await registry.register("rt", CARDS["coder" if i % 3 else "writer"], f"a{i:02d}")
        coders = [f"a{i:02d}" for i in range(30) if i % 3]
        found = registry.find("", limit=5, agent_filter=AgentFilter(skill_ids=("gen",)))
        assert [f.agent.agent_id for f in found] == coders[:5]
        pages, after = [], ""
        while True:
            page = registry.list_agents(after=after, limit=7, agent_filter=AgentFilter(streaming=True))
            pages += [a.agent_id for a in page.agents]
            if page.next_after is None:
                break
            after = page.next_after
        assert pages == coders
        only_negated = registry.list_agents(limit=100, agent_filter=AgentFilter(label_selector="tier!=gold"))
        assert [a.agent_id for a in only_negated.agents] == [f"a{i:02d}" for i in range(0, 30, 3)]


async def test_a_blank_query_with_a_filter_is_the_filter_alone() -> None:
    async with running() as registry:
        await fleet(registry)
        found = registry.find(" \t", agent_filter=AgentFilter(provider="acme"))
        assert ids(found) == ["coder", "writer"]


async def test_filters_follow_card_changes_and_deregistration() -> None:
    async with running() as registry:
        await fleet(registry)
        only_gold = AgentFilter(label_selector="tier=gold")
        await registry.register("rt", CARDS["writer"], "coder")  # coder re-registers as a writer
        assert ids(registry.find("", agent_filter=only_gold)) == ["canary"]
        await registry.deregister("canary", "rt")
        assert registry.find("", agent_filter=only_gold) == []


async def test_statuses_still_apply() -> None:
    async with running() as registry:
        await fleet(registry)
        await registry.update_status("coder", AgentStatus.DEGRADED, "rt")
        gold = AgentFilter(label_selector="tier=gold")
        assert ids(registry.find("", agent_filter=gold)) == ["canary"]
        assert ids(registry.find("", [AgentStatus.DEGRADED], agent_filter=gold)) == ["coder"]


async def test_select_agent_picks_only_among_agents_that_pass() -> None:
    async with running() as registry:
        await fleet(registry)
        for _ in range(10):
            selection = registry.placement.select(
                SelectRequest("code", agent_filter=AgentFilter(label_selector="!canary"))
            )
            assert selection.chosen is not None and selection.chosen.agent.agent_id == "coder"
        by_filter = registry.placement.select(SelectRequest("", agent_filter=AgentFilter(provider="acme")))
        assert by_filter.matched == 2
        with pytest.raises(InvalidArgument):
            registry.placement.select(SelectRequest(""))


async def test_subscribe_sends_only_events_of_agents_that_pass() -> None:
    async with running() as registry:
        sub = registry.subscribe(EventFilter(), agent_filter=AgentFilter(label_selector="region=eu"))
        await fleet(registry)
        await registry.deregister("coder", "rt")
        await registry.deregister("writer", "rt")
        events = await queued(sub)
        assert [(e.type, e.agent_id) for e in events] == [
            (EventType.AGENT_REGISTERED, "coder"),
            (EventType.AGENT_DEREGISTERED, "coder"),
        ]


@pytest.mark.parametrize(
    ("agent_filter", "field"),
    [
        (AgentFilter(label_selector="tier=gold=x"), "filter.label_selector"),
        (AgentFilter(label_selector="a in ()"), "filter.label_selector"),
        (AgentFilter(label_selector="a,"), "filter.label_selector"),
        (AgentFilter(label_selector=",".join(f"k{i}" for i in range(17))), "filter.label_selector"),
        (AgentFilter(tags=(" ",)), "filter.tags[0]"),
        (AgentFilter(skill_ids=("x" * 300,)), "filter.skill_ids[0]"),
        (AgentFilter(tags=("t",) * 33), "filter.tags"),
        (AgentFilter(), "capability"),  # neither a query nor a filter
    ],
)
async def test_a_bad_filter_is_refused_naming_its_field(agent_filter: AgentFilter, field: str) -> None:
    async with running() as registry:
        with pytest.raises(InvalidArgument) as raised:
            registry.find("", agent_filter=agent_filter)
        assert raised.value.field == field


def test_the_label_selector_reads_kubernetes_syntax() -> None:
    assert parse_selector(" tier = gold , region in ( eu , us ),!canary, env notin (dev),x") == (
        Requirement("tier", frozenset({"gold"}), negated=False),
        Requirement("region", frozenset({"eu", "us"}), negated=False),
        Requirement("canary", None, negated=True),
        Requirement("env", frozenset({"dev"}), negated=True),
        Requirement("x", None, negated=False),
    )
    assert parse_selector("") == ()
