"""Capability discovery: normalisation, what is indexed, ranking, status filters, and cost."""

from __future__ import annotations

import time

import pytest
from core_support import STEADY, PersistedAgents, card

from registryd.clock import SystemClock
from registryd.core.errors import InvalidArgument
from registryd.core.index import CapabilityIndex, Match, normalize
from registryd.core.model import Agent, AgentCard, AgentStatus, MatchKind, Skill, StatusReason
from registryd.core.registry import Registry


def found(registry: Registry, query: str, **kwargs: object) -> list[tuple[str, str, MatchKind]]:
    return [(f.agent.agent_id, f.matched_text, f.kind) for f in registry.find(query, **kwargs)]  # type: ignore[arg-type]


def test_normalize_casefolds_and_collapses_whitespace():
    assert normalize("  PYTHON \t Code\n\nGen ") == "python code gen"
    assert normalize("Straße") == "strasse"


async def test_query_matches_case_insensitive_substrings_after_normalisation(registry: Registry):
    await registry.register("rt", card("Python   Code Generation"), "a1")
    await registry.register("rt", card("Straße planning"), "a2")
    assert found(registry, "python") == [("a1", "Python   Code Generation", MatchKind.WORD)]
    assert found(registry, "  CODE\tgeneration ") == [("a1", "Python   Code Generation", MatchKind.WORD)]
    assert [f[0] for f in found(registry, "STRASSE")] == ["a2"]
    assert [f[0] for f in found(registry, "de ge")] == ["a1"]
    assert found(registry, "rust") == []


async def test_capabilities_skill_names_and_skill_tags_are_indexed(registry: Registry):
    skill = Skill(id="s1", name="Summarize", description="summarise long texts", tags=("NLP", "digest"))
    await registry.register("rt", AgentCard(name="Writer", description="writes", skills=(skill,)), "a1")
    assert [f[0] for f in found(registry, "summar")] == ["a1"]
    assert found(registry, "nlp") == [("a1", "NLP", MatchKind.EXACT)]
    assert [f[0] for f in found(registry, "dige")] == ["a1"]
    assert found(registry, "writer") == []  # the card's name is not searched
    assert found(registry, "long texts") == [("a1", "summarise long texts", MatchKind.WORD)]  # ranked below


async def test_ranking_is_exact_then_word_then_substring_with_deterministic_ties(registry: Registry):
    await registry.register("rt", card("pythonic style"), "sub")
    await registry.register("rt", card("python code"), "word-b")
    await registry.register("rt", card("python code"), "word-a")
    await registry.register("rt", card("Python"), "exact")
    await registry.register("rt", card("cpython internals", "python"), "both")
    assert found(registry, "python") == [
        ("both", "python", MatchKind.EXACT),
        ("exact", "Python", MatchKind.EXACT),
        ("word-a", "python code", MatchKind.WORD),
        ("word-b", "python code", MatchKind.WORD),
        ("sub", "pythonic style", MatchKind.SUBSTRING),
    ]
    assert found(registry, "python", limit=2) == found(registry, "python")[:2]


@pytest.mark.parametrize("query", ["", "   ", "\t\n"])
async def test_blank_query_is_invalid(registry: Registry, query: str):
    with pytest.raises(InvalidArgument) as refused:
        registry.find(query)
    assert refused.value.field == "capability"


async def test_too_long_query_is_invalid_naming_the_limit(registry: Registry):
    with pytest.raises(InvalidArgument) as refused:
        registry.find("x" * 257)
    assert refused.value.field == "capability" and "256" in refused.value.message


async def test_default_status_filter_is_active_only(registry: Registry):
    await registry.register("rt", card("search"), "up")
    await registry.register("rt", card("search"), "down")
    await registry.update_status("down", AgentStatus.DEGRADED)
    assert [f[0] for f in found(registry, "search")] == ["up"]
    assert [f[0] for f in found(registry, "search", statuses=[AgentStatus.DEGRADED])] == ["down"]
    both = found(registry, "search", statuses=[AgentStatus.ACTIVE, AgentStatus.DEGRADED])
    assert [f[0] for f in both] == ["down", "up"]


async def test_deregistering_and_replacing_cards_remove_their_texts_from_the_index(registry: Registry):
    await registry.register("rt", card("translation", "ocr"), "a1")
    await registry.register("rt", card("translation"), "a2")
    assert registry.stats().capability_index_size == 2
    await registry.register("rt", card("speech"), "a1")  # re-register replaces the card
    assert found(registry, "ocr") == [] and registry.stats().capability_index_size == 2
    await registry.deregister("a1")
    await registry.deregister("a2")
    assert found(registry, "speech") == [] and found(registry, "translation") == []
    assert registry.stats().capability_index_size == 0


def test_index_keeps_one_entry_per_distinct_text_and_drops_it_with_its_last_agent():
    index = CapabilityIndex()
    index.add("a1", ["Code Review", "code  review"])
    index.add("a2", ["CODE REVIEW"])
    assert len(index) == 1
    everyone = [{"a1", "a2"}]
    assert index.find("review", everyone, 10) == [
        Match("a1", "code review", MatchKind.WORD),
        Match("a2", "code review", MatchKind.WORD),
    ]
    assert index.spelling("a1", "code review") == "Code Review"
    assert index.spelling("a2", "code review") == "CODE REVIEW"
    index.remove("a1")
    index.remove("a2")
    assert (
        len(index) == 0 and index.find("review", everyone, 10) == [] and index.find("re", everyone, 10) == []
    )


def non_matching(count: int, matching: int = 100) -> list[Agent]:
    """`matching` agents that match "python" and `count` distinct ones that share some of its n-grams."""
    now = time.time()
    cards = [AgentCard(name="m", capabilities=("Python code generation",))] * matching
    cards += [AgentCard(name="o", capabilities=(f"pythagorean data-{i:06d}",)) for i in range(count)]
    return [
        Agent(f"a{i:06d}", "rt", c, AgentStatus.ACTIVE, StatusReason.REGISTERED, now, now, now, i + 1)
        for i, c in enumerate(cards)
    ]


def fastest_find(registry: Registry) -> float:
    started = time.perf_counter()
    assert len(registry.find("python")) == 100
    return time.perf_counter() - started


async def test_non_matching_texts_cost_a_c_scan_not_a_python_step_each():
    small = Registry(STEADY, store=PersistedAgents(non_matching(1_000)), clock=SystemClock())
    large = Registry(STEADY, store=PersistedAgents(non_matching(50_000)), clock=SystemClock())
    await small.start()
    await large.start()
    try:
        # Interleaved, so both see the same load from the rest of the machine; the fastest run is the cost.
        timings = [(fastest_find(small), fastest_find(large)) for _ in range(31)]
    finally:
        await small.stop()
        await large.stop()
    small_s, large_s = min(t[0] for t in timings), min(t[1] for t in timings)
    print(f"\nfind with 1k non-matching agents: {small_s * 1e6:.0f} us; with 50k: {large_s * 1e6:.0f} us")
    # The texts are scanned as flat strings in C (~1 ns a character, ~1 ms here); a Python step per
    # non-matching text or agent would cost 25 ms or more.
    assert large_s < 3 * small_s + 0.005
