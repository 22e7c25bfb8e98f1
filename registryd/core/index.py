"""Capability discovery: an n-gram index over the distinct normalised texts that agents carry.

Many agents share one text ("code generation"), so the index keys texts, not agents, and each text keeps
the set of agents that carry it. A query finds candidate texts through the n-grams it contains, checks
that it really is a substring, and ranks exact > whole word > substring. The cost depends on the texts
and agents that match, not on those that do not.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass

from registryd.core.model import MatchKind

GRAM = 3


@functools.lru_cache(maxsize=65536)
def normalize(text: str) -> str:
    """Unicode casefold with runs of whitespace collapsed to one space. Cached: agents share their texts,
    and every FindAgents match normalises the matched agent's texts again to report its own spelling."""
    return " ".join(text.casefold().split())


@functools.lru_cache(maxsize=4096)
def _keys(texts: tuple[str, ...]) -> frozenset[str]:
    """The normalised keys of an agent's texts. Agents of one kind carry the same texts, so this is
    mostly a cache hit (halves the cost of loading 100k agents) and the agents share one frozenset."""
    return frozenset(normalize(text) for text in texts) - {""}


def _grams(text: str) -> set[str]:
    """Every substring of length 1..GRAM, so queries shorter than GRAM have a posting list too."""
    return {text[i : i + n] for n in range(1, GRAM + 1) for i in range(len(text) - n + 1)}


def spelling(key: str, texts: list[str]) -> str:
    """The text among `texts` that normalises to `key`: an agent's own spelling of a match. Most agents
    spell it exactly as the key, which a C-level `in` finds without normalising anything."""
    if key in texts:
        return key
    return next((text.strip() for text in texts if normalize(text) == key), key)


def match_kind(query: str, text: str) -> MatchKind | None:
    """How `query` occurs in `text` (both normalised), or None."""
    if query == text:
        return MatchKind.EXACT
    start = text.find(query)
    if start < 0:
        return None
    end_of = len(query)
    while start >= 0:
        before = text[start - 1] if start else " "
        after = text[start + end_of] if start + end_of < len(text) else " "
        if not before.isalnum() and not after.isalnum():
            return MatchKind.WORD
        start = text.find(query, start + 1)
    return MatchKind.SUBSTRING


@dataclass(frozen=True, slots=True)
class TextMatch:
    text: str  # normalised
    kind: MatchKind
    agents: frozenset[str] | set[str]

    @property
    def rank(self) -> tuple[int, int, str]:
        return (self.kind, len(self.text), self.text)


class CapabilityIndex:
    def __init__(self) -> None:
        self._texts: dict[str, set[str]] = {}  # normalised text -> the agents carrying it
        self._postings: dict[str, set[str]] = {}
        self._agent_texts: dict[str, frozenset[str]] = {}

    def __len__(self) -> int:
        """Distinct indexed texts."""
        return len(self._texts)

    def add(self, agent_id: str, texts: Iterable[str]) -> None:
        """Index an agent's texts, replacing whatever it had."""
        self.remove(agent_id)
        keys = _keys(tuple(texts))
        self._agent_texts[agent_id] = keys
        for key in keys:
            agents = self._texts.get(key)
            if agents is None:
                agents = self._texts[key] = set()
                for gram in _grams(key):
                    self._postings.setdefault(gram, set()).add(key)
            agents.add(agent_id)

    def remove(self, agent_id: str) -> None:
        for key in self._agent_texts.pop(agent_id, ()):
            agents = self._texts[key]
            agents.discard(agent_id)
            if not agents:
                del self._texts[key]
                for gram in _grams(key):
                    posting = self._postings[gram]
                    posting.discard(key)
                    if not posting:
                        del self._postings[gram]

    def search(self, query: str) -> list[TextMatch]:
        """Texts containing the normalised query, best first. The query must already be normalised."""
        if len(query) <= GRAM:
            candidates: Iterable[str] = self._postings.get(query, ())
        else:
            postings = []
            for i in range(len(query) - GRAM + 1):
                posting = self._postings.get(query[i : i + GRAM])
                if not posting:
                    return []
                postings.append(posting)
            postings.sort(key=len)
            candidates = postings[0].intersection(*postings[1:])
        matches = []
        for key in candidates:
            kind = match_kind(query, key)
            if kind is not None:
                matches.append(TextMatch(key, kind, self._texts[key]))
        matches.sort(key=lambda m: m.rank)
        return matches
