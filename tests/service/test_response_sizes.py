"""Answers fit a default client's 4 MiB: the core's encoded-size bounds hold against the real protobuf
encoding, for any card within the limits, and pages are cut by them (issue 11, item 7)."""

from __future__ import annotations

from agentregistry.v1 import registry_pb2 as pb
from hypothesis import given, settings
from hypothesis import strategies as st

from registryd.api import convert
from registryd.core.encoded_size import agent_size, runtime_size, text_size
from registryd.core.model import (
    Agent,
    AgentCapabilities,
    AgentCard,
    AgentInterface,
    AgentProvider,
    AgentStatus,
    FoundAgent,
    MatchKind,
    RuntimeInfo,
    Skill,
    StatusReason,
)
from registryd.core.registry import Registry, RegistrySettings
from registryd.core.validation import Limits
from tests.core.core_support import FakeClock

DEFAULT_CLIENT_LIMIT = 4 * 1024 * 1024
texts = st.text(st.characters(codec="utf-8"), max_size=300)
ids = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}", fullmatch=True)
times = st.floats(min_value=0, max_value=2**37, allow_nan=False)  # Timestamp stops at year 9999
words = st.lists(texts, max_size=40).map(tuple)
skills = st.builds(Skill, texts, texts, texts, words, examples=words, input_modes=words, output_modes=words)
flags = st.sampled_from([None, True, False])
cards = st.builds(
    AgentCard,
    name=texts,
    description=texts,
    version=texts,
    capabilities=st.lists(texts, max_size=70).map(tuple),
    skills=st.lists(skills, max_size=8).map(tuple),
    labels=st.lists(st.tuples(texts, texts), max_size=8, unique_by=lambda kv: kv[0]).map(tuple),
    supported_interfaces=st.lists(st.builds(AgentInterface, texts, texts, texts, texts), max_size=8).map(
        tuple
    ),
    provider=st.one_of(st.none(), st.builds(AgentProvider, texts, texts)),
    documentation_url=texts,
    a2a_capabilities=st.builds(AgentCapabilities, flags, flags, extended_agent_card=flags),
    default_input_modes=words,
    default_output_modes=words,
    icon_url=texts,
)
agents = st.builds(
    Agent,
    ids,
    ids,
    cards,
    st.sampled_from(AgentStatus),
    st.sampled_from(StatusReason),
    times,
    times,
    times,
    st.integers(0, 2**63 - 1),
    st.sampled_from([None, AgentStatus.OFFLINE, AgentStatus.UNHEALTHY]),
)


@settings(max_examples=300, deadline=None)
@given(agents, texts)
def test_agent_bound_holds_for_list_and_find_answers(agent: Agent, matched: str) -> None:
    assert pb.ListAgentsResponse(agents=[convert.agent_to_proto(agent)]).ByteSize() <= agent_size(agent)
    found = pb.FindAgentsResponse()
    convert.add_matches(found.matches, [FoundAgent(agent, matched, MatchKind.SUBSTRING)])
    assert found.ByteSize() <= agent_size(agent) + text_size(matched)


@settings(max_examples=200, deadline=None)
@given(ids, st.lists(ids, max_size=50), st.booleans(), times, times)
def test_runtime_bound_holds(
    runtime_id: str, agent_ids: list[str], streaming: bool, hb: float, ad: float
) -> None:
    runtime = RuntimeInfo(runtime_id, tuple(agent_ids), streaming, hb, ad)
    answer = pb.ListRuntimesResponse(runtimes=[convert.runtime_to_proto(runtime)])
    assert answer.ByteSize() <= runtime_size(runtime_id, agent_ids)


async def test_pages_of_the_widest_cards_fit_a_default_client() -> None:
    """64 skills x 32 empty tags: a few bytes of text, 4 KB encoded. The default budget (3 MiB) keeps a
    1000-agent page, a 1000-match answer and a 1000-runtime page under 4 MiB encoded."""
    registry = Registry(
        RegistrySettings(heartbeat_timeout=60, auto_deregister_timeout=120), clock=FakeClock()
    )
    await registry.start()
    wide = AgentCard(
        name="wide", capabilities=("wide",), skills=tuple(Skill(f"s{i}", tags=("",) * 32) for i in range(64))
    )
    for i in range(1000):
        await registry.register(f"{i:04d}".ljust(128, "r"), wide, f"{i:04d}".ljust(128, "a"))
    page = registry.list_agents(limit=1000)
    listed = pb.ListAgentsResponse(agents=[convert.agent_to_proto(a) for a in page.agents])
    found = pb.FindAgentsResponse()
    convert.add_matches(found.matches, registry.find("wide", limit=1000))
    runtimes = convert.runtime_page_to_proto(registry.runtimes(limit=1000), registry.revision)
    assert page.next_after is not None and 0 < len(page.agents) < 1000  # cut by size, not by count
    for answer in (listed, found, runtimes):
        assert answer.ByteSize() <= Limits().max_response_bytes < DEFAULT_CLIENT_LIMIT
    assert 0 < len(found.matches) < 1000  # cut by size as well (each match also carries its text)
    await registry.stop()


async def test_stats_name_only_the_largest_runtimes() -> None:
    registry = Registry(
        RegistrySettings(heartbeat_timeout=60, auto_deregister_timeout=120), clock=FakeClock()
    )
    await registry.start()
    for i in range(150):
        for j in range(1 + i % 3):
            await registry.register(f"rt-{i:03d}", AgentCard(name="n"), f"a-{i:03d}-{j}")
    stats = registry.stats()
    assert stats.total_runtimes == 150
    assert len(stats.runtime_distribution) == 100
    assert set(stats.runtime_distribution.values()) == {3, 2}  # every 3-agent runtime, then 2s by id
    assert "rt-002" in stats.runtime_distribution and "rt-001" in stats.runtime_distribution
    assert "rt-000" not in stats.runtime_distribution
    await registry.stop()
