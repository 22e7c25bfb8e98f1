"""Structured agent filters: skill ids, tags, modes, protocol bindings, A2A capability flags, provider,
verified, and a label selector (core/selection.py), all of which must hold.

Every agent has a set of facets (("tag", "python"), ("label", "tier", "gold"), ("streaming",), ...), and
a filter is a list of terms, each "has one of these facets" or its negation. The index keeps, per facet,
the set of agents that have it, so a filter starts from the smallest set among its positive terms and
costs about what the agents that match it cost, not the whole registry; only a filter with no positive
term (say, `!canary` alone) looks at every agent of the wanted statuses.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, fields

from registryd.core import idsets
from registryd.core.errors import InvalidArgument
from registryd.core.index import normalize
from registryd.core.model import Agent
from registryd.core.selection import parse_selector
from registryd.core.validation import Limits

Facet = tuple[str, ...]


@dataclass(frozen=True, slots=True)
class AgentFilter:
    """What an agent must have. Lists require every entry; flags left False do not filter."""

    skill_ids: tuple[str, ...] = ()  # a skill with this id (exact)
    tags: tuple[str, ...] = ()  # a skill tag (compared normalised, as discovery compares texts)
    input_modes: tuple[str, ...] = ()  # a media type in the card's default or any skill's input modes
    output_modes: tuple[str, ...] = ()
    protocol_bindings: tuple[str, ...] = ()  # an interface with this binding (JSONRPC, GRPC, HTTP+JSON)
    streaming: bool = False  # the card declares capabilities.streaming
    push_notifications: bool = False  # the card declares capabilities.push_notifications
    provider: str = ""  # the provider's organization (normalised)
    verified: bool = False  # a signature of the card verified against an operator key
    label_selector: str = ""  # Kubernetes syntax: tier=gold,region in (eu,us),!canary

    def __bool__(self) -> bool:
        return any(getattr(self, f.name) for f in fields(self))


NO_FILTER = AgentFilter()


@dataclass(frozen=True, slots=True)
class Term:
    """The agent has one of `any_of`; or, when negated, none of them."""

    any_of: tuple[Facet, ...]
    negated: bool = False

    def holds(self, facets: AbstractSet[Facet]) -> bool:
        return any(f in facets for f in self.any_of) is not self.negated


@functools.lru_cache(maxsize=4096)
def _folded(value: str) -> str:
    """Tags, modes, bindings and providers repeat across agents: each is normalised once."""
    return normalize(value)


def facets_of(agent: Agent) -> frozenset[Facet]:
    """Every facet a filter can ask for; the one place that says what each filter looks at."""
    card = agent.card
    facets: list[Facet] = []
    add = facets.append
    for key, value in card.labels:
        add(("label", key, value))
        add(("label?", key))
    for mode in card.default_input_modes:
        add(("in", _folded(mode)))
    for mode in card.default_output_modes:
        add(("out", _folded(mode)))
    for skill in card.skills:
        if skill.id:
            add(("skill", skill.id))
        for tag in skill.tags:
            add(("tag", _folded(tag)))
        for mode in skill.input_modes:
            add(("in", _folded(mode)))
        for mode in skill.output_modes:
            add(("out", _folded(mode)))
    for interface in card.supported_interfaces:
        add(("binding", _folded(interface.protocol_binding)))
    if card.provider is not None and card.provider.organization:
        add(("provider", _folded(card.provider.organization)))
    flags = card.a2a_capabilities
    if flags.streaming:
        add(("streaming",))
    if flags.push_notifications:
        add(("push_notifications",))
    if agent.verified:
        add(("verified",))
    return frozenset(facets)


def compile_filter(agent_filter: AgentFilter, limits: Limits, field: str = "filter") -> tuple[Term, ...]:
    """The filter's terms, once its values are checked."""
    if not agent_filter:
        return ()
    terms: list[Term] = []
    lists = (
        ("skill_ids", "skill", str),
        ("tags", "tag", _folded),
        ("input_modes", "in", _folded),
        ("output_modes", "out", _folded),
        ("protocol_bindings", "binding", _folded),
    )
    for name, kind, fold in lists:
        values: tuple[str, ...] = getattr(agent_filter, name)
        if len(values) > limits.max_tags_per_skill:
            raise InvalidArgument(
                f"{field}.{name} has {len(values)} entries; the limit is {limits.max_tags_per_skill}",
                field=f"{field}.{name}",
            )
        for i, value in enumerate(values):
            _check_text(f"{field}.{name}[{i}]", value, limits)
            terms.append(Term(((kind, fold(value)),)))
    if agent_filter.provider:
        _check_text(f"{field}.provider", agent_filter.provider, limits)
        terms.append(Term((("provider", _folded(agent_filter.provider)),)))
    for flag in ("streaming", "push_notifications", "verified"):
        if getattr(agent_filter, flag):
            terms.append(Term(((flag,),)))
    for requirement in parse_selector(agent_filter.label_selector, f"{field}.label_selector"):
        if requirement.values is None:
            any_of: tuple[Facet, ...] = (("label?", requirement.key),)
        else:
            any_of = tuple(("label", requirement.key, value) for value in sorted(requirement.values))
        terms.append(Term(any_of, requirement.negated))
    return tuple(terms)


def _check_text(field: str, value: str, limits: Limits) -> None:
    if not value.strip():
        raise InvalidArgument(f"{field} must not be blank", field=field)
    if len(value) > limits.max_text_length:
        raise InvalidArgument(
            f"{field} is {len(value)} characters; the limit is {limits.max_text_length}", field=field
        )


class FilterIndex:
    """Per facet, the agents that have it."""

    def __init__(self) -> None:
        self._postings: dict[Facet, set[str]] = {}
        self._facets: dict[str, frozenset[Facet]] = {}

    def add(self, agent: Agent) -> None:
        """Index an agent, replacing what it had."""
        facets = facets_of(agent)
        old = self._facets.get(agent.agent_id)
        if old == facets:
            return
        self.remove(agent.agent_id)
        self._facets[agent.agent_id] = facets
        for facet in facets:
            agents = self._postings.get(facet)
            if agents is None:
                agents = self._postings[facet] = set()
            agents.add(agent.agent_id)

    def remove(self, agent_id: str) -> None:
        for facet in self._facets.pop(agent_id, ()):
            if not idsets.discard(self._postings, facet, agent_id):
                del self._postings[facet]

    def holds(self, agent_id: str, terms: Iterable[Term]) -> bool:
        facets = self._facets.get(agent_id, frozenset())
        return all(term.holds(facets) for term in terms)

    def narrowest(self, terms: tuple[Term, ...]) -> AbstractSet[str] | None:
        """The agents of the positive term with the fewest (a superset of the matches); None when every
        term is negated, so that nothing narrower than all agents is known."""
        best: AbstractSet[str] | None = None
        for term in terms:
            if term.negated:
                continue
            agents = self._agents_with(term.any_of)
            if best is None or len(agents) < len(best):
                best = agents
        return best

    def _agents_with(self, any_of: tuple[Facet, ...]) -> AbstractSet[str]:
        sets = [self._postings.get(facet, frozenset()) for facet in any_of]
        return sets[0] if len(sets) == 1 else frozenset().union(*sets)

    def select(self, terms: tuple[Term, ...], among: AbstractSet[str]) -> Iterator[str]:
        """The agents of `among` that satisfy every term, in no particular order."""
        narrow = self.narrowest(terms)
        if narrow is None:
            yield from (a for a in among if self.holds(a, terms))
            return
        if len(among) < len(narrow):
            narrow, among = among, narrow
        for agent_id in narrow:
            if agent_id in among and self.holds(agent_id, terms):
                yield agent_id
