"""Upper bounds on the protobuf-encoded size of what answers carry, so the core can cut a page before it
outgrows a default client's 4 MiB receive limit without knowing protobuf.

A string or nested message costs its bytes plus a tag (1 byte: every field number is below 16) and a
varint of its length; an empty string in a repeated field still costs both. Only the scalars (timestamps,
enums, counters) are counted at their largest. tests/service/test_response_sizes.py proves the bounds
against the real encoding.
"""

from __future__ import annotations

from collections.abc import Iterable

from registryd.core.model import Agent

# Agent's scalars at their largest: three timestamps (2 + 11 + 6 each), five enums and `verified` (2 each),
# the revision (11); AgentMatch's kind (2).
_AGENT_SCALARS = 3 * 19 + 6 * 2 + 11 + 2
# Runtime's scalars: agent_count (6), stream_connected (2), two durations (2 + 11 + 6 each).
_RUNTIME_SCALARS = 6 + 2 + 2 * 19


def _field(size: int) -> int:
    """A length-delimited field of `size` bytes, with its tag and length."""
    return 1 + (size.bit_length() + 6) // 7 + size if size else 2


def _texts(texts: Iterable[str]) -> int:
    return sum(_field(len(t.encode("utf-8", "surrogatepass"))) for t in texts)


def text_size(text: str) -> int:
    return _texts((text,))


def agent_size(agent: Agent) -> int:
    """An Agent in a response, inside its AgentMatch when FindAgents answers (the matched text apart)."""
    card = agent.card
    size = _field(_value(card)) + _texts((agent.agent_id, agent.runtime_id)) + _AGENT_SCALARS
    # The registry's metadata beside the card: the capability phrases and the labels.
    size += _texts(card.capabilities) + sum(_field(_texts(pair)) for pair in card.labels)
    return _field(_field(size))  # in AgentMatch, in the response


def _value(value: object) -> int:
    """The encoded size of a card part at most: texts and nested messages as fields, flags as 2 bytes.
    A part the card keeps as JSON text (security schemes) is counted twice over: its message form adds
    a tag and a length where JSON has quotes, but never more than its own length again."""
    if isinstance(value, str):
        return _field(len(value.encode("utf-8", "surrogatepass")))
    if value is None or isinstance(value, bool):
        return 2
    if isinstance(value, tuple):
        return sum(_value(item) for item in value)
    slots = value.__slots__  # type: ignore[attr-defined]
    return _field(sum(_value(getattr(value, n)) * (2 if n in _JSON_PARTS else 1) for n in slots))


_JSON_PARTS = frozenset({"security_schemes", "security_requirements", "params", "header"})


def runtime_size(runtime_id: str, agent_ids: Iterable[str]) -> int:
    return _field(_texts((runtime_id, *agent_ids)) + _RUNTIME_SCALARS)
