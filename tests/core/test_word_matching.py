"""Word-aware discovery: order-free words, separators and simple plurals on top of substring; exact >
whole word > substring; capabilities, skill names and tags before descriptions and examples; each match
says how, where and in which text it matched (tests/sdk/test_agent_filters.py checks that the SDK's
local view ranks as the daemon does)."""

from __future__ import annotations

import pytest
from core_support import running

from registryd.core.index import match_kind, normalize, stem
from registryd.core.model import AgentCard, MatchKind, Skill

E, W, S = MatchKind.EXACT, MatchKind.WORD, MatchKind.SUBSTRING

# (query, text, kind or None)
KINDS = [
    ("Code generation", "Code generation", E),
    ("code-generation", "Code generation", E),
    ("code_generation", "Code generation", E),
    ("code generations", "Code generation", E),
    ("CODE  GENERATIONS", "Code generation", E),
    ("generation code", "Code generation", W),
    ("generation, code", "Code generation", W),
    ("generations", "Code generation", W),
    ("code", "Code generation", W),
    ("python", "Python code generation", W),
    ("code gen", "Code generation", S),
    ("gen", "Code generation", S),
    ("de ge", "Code generation", S),
    ("query", "SQL queries", W),
    ("queries", "SQL query", W),
    ("box", "boxes and crates", W),
    ("analysis", "data analysis", W),
    ("class", "classes", E),
    ("c++", "c++ refactoring", W),  # not only words: a whole phrase
    ("c++", "objective-c++x", S),
    ("c", "c++ refactoring", W),
    ("rust", "Code generation", None),
    ("generation rust", "Code generation", None),
    ("codes", "encode", None),
]


@pytest.mark.parametrize(("query", "text", "kind"), KINDS, ids=[f"{q}|{t}" for q, t, _ in KINDS])
def test_match_kind_table(query: str, text: str, kind: MatchKind | None) -> None:
    assert match_kind(normalize(query), normalize(text)) == kind


def test_simple_plurals_only() -> None:
    assert [stem(w) for w in ("generations", "queries", "boxes", "classes", "analysis", "gas", "status")] == [
        "generation",
        "query",
        "box",
        "class",
        "analysis",
        "gas",
        "status",
    ]


CARDS = {
    "exact": AgentCard(name="a", capabilities=("Code generation",)),
    "plural": AgentCard(name="b", capabilities=("code generations",)),
    "words": AgentCard(name="c", capabilities=("generation of python code",)),
    "tag": AgentCard(name="d", skills=(Skill(id="s", name="Writer", tags=("code-generation",)),)),
    "sub": AgentCard(name="e", capabilities=("code generationally",)),
    "described": AgentCard(name="f", description="Does code generation for Go", capabilities=("chat",)),
    "example": AgentCard(
        name="g", capabilities=("chat",), skills=(Skill(id="x", name="Helper", examples=("generate code",)),)
    ),
}

# (query, [(agent, kind, matched text, matched field)], best first)
RANKING = [
    (
        "code generation",
        [
            ("exact", E, "Code generation", "capabilities[0]"),
            ("tag", E, "code-generation", "skills[0].tags[0]"),  # shorter text first
            ("plural", E, "code generations", "capabilities[0]"),
            ("words", W, "generation of python code", "capabilities[0]"),
            ("sub", S, "code generationally", "capabilities[0]"),
            ("described", W, "Does code generation for Go", "description"),
        ],
    ),
    (
        "generation code",
        [
            ("exact", W, "Code generation", "capabilities[0]"),
            ("tag", W, "code-generation", "skills[0].tags[0]"),  # shorter text first
            ("plural", W, "code generations", "capabilities[0]"),
            ("words", W, "generation of python code", "capabilities[0]"),
            ("described", W, "Does code generation for Go", "description"),
        ],
    ),
    ("generate code", [("example", E, "generate code", "skills[0].examples[0]")]),
    ("writer", [("tag", E, "Writer", "skills[0].name")]),
    ("go", [("described", W, "Does code generation for Go", "description")]),
]


@pytest.mark.parametrize(("query", "expected"), RANKING, ids=[q for q, _ in RANKING])
async def test_ranking_table(query: str, expected: list[tuple[str, MatchKind, str, str]]) -> None:
    async with running() as registry:
        for agent_id, card in CARDS.items():
            await registry.register("rt", card, agent_id)
        found = registry.find(query)
        assert [(f.agent.agent_id, f.kind, f.matched_text, f.matched_field) for f in found] == expected
        assert registry.find(query, limit=2) == found[:2]


async def test_descriptions_fill_only_what_the_ranked_texts_leave() -> None:
    async with running() as registry:
        for agent_id, card in CARDS.items():
            await registry.register("rt", card, agent_id)
        ids = [f.agent.agent_id for f in registry.find("code", limit=100)]
        assert set(ids[-2:]) == {"described", "example"} and len(ids) == len(set(ids))
