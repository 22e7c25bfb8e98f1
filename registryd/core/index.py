"""Capability discovery over the distinct normalised texts that agents carry, in flat strings.

Many agents share one text ("code generation"), so texts are kept once, each with the set of agents
carrying it. Texts of one length live in one sorted list, joined one per line into a string that C-speed
`str.find` and regular expressions scan: the index costs about twice the texts themselves (a per-substring
index cost hundreds of times that, and a hostile card could exhaust memory).

Matching is word-aware on top of substring. A query made of words and separators (space - _ / . , : ;)
matches a text holding all its words, in any order, a simple plural standing for its singular
("code-generation", "generation code" and "code generations" all find "Code generation"). Kinds:
- exact: the same text, or the same words in the same order ("code-generation", "code generations");
- word: every word of the query is a word of the text, in any order ("generation code", "python"), or the
  query is a phrase that neither starts nor ends inside a word of the text ("c++" in "c++ tools");
- substring: the query occurs in the text ("gen" in "code generation").

A query takes the cheaper of two ways, both of which find the best-ranked matches first (exact > whole
word > substring, then shorter text, then text, then agent id) and stop at `limit`:
- by texts: scan the lines for the query, and for the rarest of the query's words (the part common to
  all its forms; counted and found in C), in rank order, and keep the eligible agents of each matching
  text;
- by agents: look at each agent of the wanted statuses (through its own texts, joined the same way).
The first costs about one step per occurrence of the query, the second one per wanted agent; counting the
occurrences is one C call per length, so neither a very common query nor a rare status can make a
query walk what it does not need.
"""

from __future__ import annotations

import bisect
import functools
import heapq
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field

from registryd.core import idsets
from registryd.core.model import MatchKind

_SEPARATOR = "\n"  # normalised texts never hold it (whitespace is collapsed to single spaces)
_STEPS_PER_AGENT = 2  # an agent costs about twice what one occurrence does (see CapabilityIndex.find)


def normalize(text: str) -> str:
    """NFKC and Unicode casefold (so "café" precomposed, decomposed and in capitals are one text), with runs
    of whitespace collapsed to one space."""
    if text.isascii():  # NFKC leaves ASCII as it is, and casefold is lower there: a quarter of the cost
        return " ".join(text.lower().split())
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())
    return " ".join(folded.split())


_WORD = re.compile(r"[^\W_]+")  # runs of letters and digits
_SEPARATORS = re.compile(r"[\s\-_/.,:;]+")
_NO_PLURAL = ("ss", "us", "is")


def stem(word: str) -> str:
    """A word's simple singular: "generations" -> "generation", "queries" -> "query", "boxes" -> "box";
    "analysis", "class" and short words stay as they are."""
    if len(word) <= 3 or not word.endswith("s") or word.endswith(_NO_PLURAL):
        return word
    if word.endswith("ies"):
        return word[:-3] + "y"
    if word.endswith(("sses", "xes", "zes", "ches", "shes")):
        return word[:-2]
    return word[:-1]


def words_of(text: str) -> tuple[str, ...]:
    """The stemmed words of a normalised text, in order."""
    return tuple(stem(word) for word in _WORD.findall(text))


def query_words(query: str) -> tuple[str, ...]:
    """The stemmed words of a normalised query made only of words and separators; () for any other
    query ("c++", "*"), which matches as a substring only."""
    return words_of(query) if _SEPARATORS.sub("", query).isalnum() else ()


@functools.lru_cache(maxsize=256)
def _whole_word(stemmed: str) -> re.Pattern[str]:
    """Any form of a stemmed word (word, words, wordes; query, queries) as a whole word, starting with a
    literal as `_word` does."""
    if stemmed.endswith("y") and len(stemmed) > 2:
        head, tails = re.escape(stemmed[:-1]), "(?:y|ies)"
    else:
        head, tails = re.escape(stemmed), "(?:e?s)?"
    return re.compile(rf"{head}(?<![^\W_]{head}){tails}(?![^\W_])")


def _forms(stemmed: str) -> tuple[str, ...]:
    """The spellings `stem` takes to `stemmed`, as `_whole_word` matches them."""
    if stemmed.endswith("y") and len(stemmed) > 2:
        return stemmed, stemmed[:-1] + "ies"
    return stemmed, stemmed + "s", stemmed + "es"


def _cores(query: str, words: tuple[str, ...]) -> tuple[str, ...]:
    """What every text holding all of the query's words contains: each word's part common to all its
    forms ("query" for query and queries: "quer"). () when every such text contains the query itself,
    so scanning for the query finds them all."""
    if not words or (len(words) == 1 and all(query in form for form in _forms(words[0]))):
        return ()
    return tuple({word[:-1] if word.endswith("y") and len(word) > 2 else word for word in words})


def match_kind(query: str, text: str, words: tuple[str, ...] | None = None) -> MatchKind | None:
    """How `query` occurs in `text` (both normalised), or None. `words`: query_words(query), when known."""
    if query == text:
        return MatchKind.EXACT
    words = query_words(query) if words is None else words
    if words:  # a phrase of words that is a whole word in the text is made of whole words of it
        if all(_whole_word(word).search(text) for word in set(words)):
            return MatchKind.EXACT if words_of(text) == words else MatchKind.WORD
        return MatchKind.SUBSTRING if query in text else None
    return (MatchKind.WORD if _word(query).search(text) else MatchKind.SUBSTRING) if query in text else None


def best_match(query: str, texts: Iterable[str]) -> tuple[MatchKind, str] | None:
    """The best-ranked (kind, text) of normalised `texts` for the normalised `query`."""
    words = query_words(query)
    best = None
    for text in texts:
        kind = match_kind(query, text, words)
        if kind is not None and (best is None or (kind, len(text), text) < best):
            best = (kind, len(text), text)
    return None if best is None else (best[0], best[2])


@functools.lru_cache(maxsize=256)
def _word(query: str) -> re.Pattern[str]:
    """`query` with no letter or digit right before or after it ([^\\W_] is exactly str.isalnum). The
    pattern starts with the literal and looks behind it, so `re` finds candidates with its fast literal
    search (a leading lookbehind makes it try every position, ~40x slower)."""
    escaped = re.escape(query)
    return re.compile(rf"{escaped}(?<![^\W_]{escaped})(?![^\W_])")


def _line_at(blob: str, position: int) -> str:
    start = blob.rfind(_SEPARATOR, 0, position) + 1
    end = blob.find(_SEPARATOR, position)
    return blob[start : end if end >= 0 else len(blob)]


@dataclass(slots=True)
class _CardTexts:
    """The normalised texts of one list of texts, shared by every agent that carries that list."""

    raw: tuple[str, ...]
    keys: frozenset[str]
    blob: str  # keys sorted by (length, text), one per line: the first match in it is its best
    spellings: dict[str, str]  # key -> the text as the card spells it, where they differ
    alnum: bool  # only letters and digits: a query of letters and digits is no whole word in it
    users: int = 0

    @classmethod
    def of(cls, texts: tuple[str, ...]) -> _CardTexts:
        spellings: dict[str, str] = {}
        for text in texts:
            key = normalize(text)
            if key and key not in spellings:
                spellings[key] = text.strip()
        keys = frozenset(spellings)
        ordered = sorted(keys, key=lambda k: (len(k), k))
        blob = _SEPARATOR.join(ordered)
        spelt = {k: t for k, t in spellings.items() if k != t}
        return cls(texts, keys, blob, spelt, "".join(ordered).isalnum())

    def _holds_words(self, words: tuple[str, ...]) -> bool:
        if self.alnum:  # one word per text: only a one-word query, spelt as one of the texts
            return len(set(words)) == 1 and any(form in self.keys for form in _forms(words[0]))
        return all(_whole_word(word).search(self.blob) for word in set(words))

    def best(self, query: str, words: tuple[str, ...]) -> tuple[MatchKind, str] | None:
        if query in self.keys:
            return MatchKind.EXACT, query
        if words:
            # A phrase that is a whole word is made of whole words: without them, only a substring is left.
            if self._holds_words(words):
                return best_match(query, self.keys)
            found = None
        else:
            found = None if self.alnum and query.isalnum() else _word(query).search(self.blob)
        if found:
            return MatchKind.WORD, _line_at(self.blob, found.start())
        position = self.blob.find(query)
        if position >= 0:
            return MatchKind.SUBSTRING, _line_at(self.blob, position)
        return None


@dataclass(slots=True)
class _SameLength:
    """The distinct texts of one length, sorted; line i of the blob is texts[i]."""

    length: int
    texts: list[str] = field(default_factory=list)
    _blob: str | None = None

    @property
    def blob(self) -> str:
        if self._blob is None:  # rebuilt by the first query after a change, not by every write
            self._blob = _SEPARATOR.join(self.texts)
        return self._blob

    def add(self, text: str) -> None:
        bisect.insort(self.texts, text)
        self._blob = None

    def remove(self, text: str) -> None:
        del self.texts[bisect.bisect_left(self.texts, text)]
        self._blob = None

    def occurrences(self, query: str) -> Iterator[str]:
        """The texts containing `query`, in order."""
        blob, stride = self.blob, self.length + 1
        position = blob.find(query)
        while position >= 0:
            line = position // stride
            yield self.texts[line]
            position = blob.find(query, (line + 1) * stride)


@dataclass(frozen=True, slots=True)
class Match:
    agent_id: str
    text: str  # normalised
    kind: MatchKind


class CapabilityIndex:
    def __init__(self) -> None:
        self._texts: dict[str, set[str]] = {}  # normalised text -> the agents carrying it
        self._lengths: dict[int, _SameLength] = {}
        self._agents: dict[str, _CardTexts] = {}
        self._shared: dict[tuple[str, ...], _CardTexts] = {}  # agents with the same texts share them

    def __len__(self) -> int:
        """Distinct indexed texts."""
        return len(self._texts)

    def add(self, agent_id: str, texts: Iterable[str]) -> None:
        """Index an agent's texts, replacing whatever it had."""
        self.remove(agent_id)
        raw = tuple(texts)
        card = self._shared.get(raw)
        if card is None:
            card = self._shared[raw] = _CardTexts.of(raw)
        card.users += 1
        self._agents[agent_id] = card
        for key in card.keys:
            agents = self._texts.get(key)
            if agents is None:
                agents = self._texts[key] = set()
                same = self._lengths.get(len(key))
                if same is None:
                    same = self._lengths[len(key)] = _SameLength(len(key))
                same.add(key)
            agents.add(agent_id)

    def remove(self, agent_id: str) -> None:
        card = self._agents.pop(agent_id, None)
        if card is None:
            return
        card.users -= 1
        if not card.users:
            del self._shared[card.raw]
        for key in card.keys:
            if not idsets.discard(self._texts, key, agent_id):
                del self._texts[key]
                same = self._lengths[len(key)]
                same.remove(key)
                if not same.texts:
                    del self._lengths[len(key)]

    def spelling(self, agent_id: str, key: str) -> str:
        """The agent's own spelling of the normalised text `key`."""
        return self._agents[agent_id].spellings.get(key, key)

    def find(
        self,
        query: str,
        wanted: Sequence[AbstractSet[str]],
        limit: int,
        keep: Callable[[str], bool] | None = None,
    ) -> list[Match]:
        """The best `limit` matches of the normalised `query` among the agents in the `wanted` sets
        (disjoint) that `keep` (when given) keeps, best first, one per agent (its best text). `keep` is
        asked only about agents whose texts match."""
        candidates = sum(len(agents) for agents in wanted)
        if not query or limit <= 0 or not candidates:
            return []
        words = query_words(query)
        cores = _cores(query, words)
        # The rarest word's occurrences (counted in C) bound the texts holding every word.
        in_texts, rarest = min(((self._count(core), core) for core in cores), default=(0, ""))
        lengths = [same for length, same in self._lengths.items() if length >= len(query)]
        steps = sum(same.blob.count(query) for same in lengths) + in_texts
        if steps > _STEPS_PER_AGENT * candidates:
            return self._by_agents(query, words, wanted, limit, keep)
        by_words = self._holding_all(rarest, cores) if cores else []
        found: list[Match] = []
        seen: set[str] = set()
        for kind, _, text in sorted(self._matching_texts(query, words, lengths, by_words)):
            # Set intersections walk the smaller set in C, never a whole per-status set.
            eligible = set().union(*(self._texts[text] & agents for agents in wanted)) - seen
            ordered = sorted(eligible)
            if keep is None:
                ordered = ordered[: limit - len(found)]
            for agent_id in ordered:
                if keep is not None and not keep(agent_id):
                    continue
                seen.add(agent_id)
                found.append(Match(agent_id, text, kind))
                if len(found) >= limit:
                    break
            if len(found) >= limit:
                break
        return found

    def _count(self, part: str) -> int:
        return sum(same.blob.count(part) for length, same in self._lengths.items() if length >= len(part))

    def _holding_all(self, rarest: str, cores: tuple[str, ...]) -> list[str]:
        """The texts containing every core, from the rarest one's occurrences."""
        return [
            text
            for length, same in self._lengths.items()
            if length >= len(rarest)
            for text in same.occurrences(rarest)
            if all(core in text for core in cores)
        ]

    def _matching_texts(
        self, query: str, words: tuple[str, ...], lengths: list[_SameLength], by_words: list[str]
    ) -> list[tuple[MatchKind, int, str]]:
        """(kind, length, text) of every text containing `query` or all its words."""
        texts = {text for same in lengths for text in same.occurrences(query)}.union(by_words)
        ranked = ((match_kind(query, text, words), text) for text in texts)
        return [(kind, len(text), text) for kind, text in ranked if kind is not None]

    def _by_agents(
        self,
        query: str,
        words: tuple[str, ...],
        wanted: Sequence[AbstractSet[str]],
        limit: int,
        keep: Callable[[str], bool] | None,
    ) -> list[Match]:
        best: dict[int, tuple[MatchKind, str] | None] = {}  # per shared card: one look per query
        ranked = []
        for agents in wanted:
            for agent_id in agents:
                card = self._agents[agent_id]
                key = id(card)
                if key not in best:
                    best[key] = card.best(query, words)
                match = best[key]
                if match is not None and (keep is None or keep(agent_id)):
                    kind, text = match
                    ranked.append((kind, len(text), text, agent_id))
        return [Match(agent_id, text, kind) for kind, _, text, agent_id in heapq.nsmallest(limit, ranked)]
