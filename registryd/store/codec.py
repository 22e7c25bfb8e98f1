"""Rows of the sqlite store: agents and events as column tuples, cards as compact JSON.

Enums are stored as their integer values, times as float seconds since the epoch. A card is a JSON array
`[name, description, version, url, [capability...], [[id, name, description, [tag...]]...], [[key,
value]...]]`; positional arrays decode faster than objects, and the schema version (see sqlite.py) pins
the layout. Many agents carry the same card, so decoding goes through a `CardDecoder` that builds each
distinct card once and shares the (immutable) value.
"""

from __future__ import annotations

import json
from typing import Any

from registryd.core.model import (
    Agent,
    AgentCard,
    AgentStatus,
    DeregisterReason,
    Event,
    EventType,
    Skill,
    StatusReason,
)

AgentRow = tuple[str, str, str, int, int, float, float, float, int]
EventRow = tuple[Any, ...]

# agent_id and runtime_id first: an event row carries them as its own columns.
AGENT_COLUMNS = (
    "agent_id",
    "runtime_id",
    "card",
    "status",
    "status_reason",
    "registered_at",
    "last_heartbeat",
    "status_changed_at",
    "revision",
)
# An event's agent (state after the change) is stored in the agent_* columns, NULL when there is none.
EVENT_COLUMNS = (
    "revision",
    "type",
    "time",
    "agent_id",
    "runtime_id",
    "old_status",
    "new_status",
    "status_reason",
    "deregister_reason",
    *(f"agent_{name}" for name in AGENT_COLUMNS[2:]),
)

_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


class CorruptRow(ValueError):
    """A stored value that this version cannot decode."""


def card_to_json(card: AgentCard) -> str:
    return _encode(
        [
            card.name,
            card.description,
            card.version,
            card.url,
            card.capabilities,
            [[s.id, s.name, s.description, s.tags] for s in card.skills],
            card.labels,
        ]
    )


class CardDecoder:
    """Decodes card JSON, building each distinct card once."""

    def __init__(self) -> None:
        self._cards: dict[str, AgentCard] = {}

    def __call__(self, text: str) -> AgentCard:
        card = self._cards.get(text)
        if card is None:
            card = self._cards[text] = _card_from_json(text)
        return card


def _card_from_json(text: str) -> AgentCard:
    try:
        name, description, version, url, capabilities, skills, labels = json.loads(text)
        return AgentCard(
            name=name,
            description=description,
            version=version,
            url=url,
            capabilities=tuple(capabilities),
            skills=tuple(Skill(i, n, d, tuple(tags)) for i, n, d, tags in skills),
            labels=tuple((k, v) for k, v in labels),
        )
    except (ValueError, TypeError) as error:
        raise CorruptRow(f"undecodable card {text[:80]!r}: {error}") from None


def agent_row(agent: Agent) -> AgentRow:
    return (
        agent.agent_id,
        agent.runtime_id,
        card_to_json(agent.card),
        agent.status,
        agent.status_reason,
        agent.registered_at,
        agent.last_heartbeat,
        agent.status_changed_at,
        agent.revision,
    )


def agent_from_row(row: tuple[Any, ...], cards: CardDecoder) -> Agent:
    agent_id, runtime_id, card, status, reason, registered_at, last_heartbeat, changed_at, revision = row
    try:
        return Agent(
            agent_id,
            runtime_id,
            cards(card),
            AgentStatus(status),
            StatusReason(reason),
            registered_at,
            last_heartbeat,
            changed_at,
            revision,
        )
    except (ValueError, TypeError) as error:
        raise CorruptRow(f"undecodable agent {agent_id!r}: {error}") from None


def event_row(event: Event) -> EventRow:
    agent = agent_row(event.agent)[2:] if event.agent is not None else (None,) * (len(AGENT_COLUMNS) - 2)
    return (
        event.revision,
        event.type,
        event.time,
        event.agent_id,
        event.runtime_id,
        event.old_status,
        event.new_status,
        event.status_reason,
        event.deregister_reason,
        *agent,
    )


def event_from_row(row: tuple[Any, ...], cards: CardDecoder) -> Event:
    revision, kind, time, agent_id, runtime_id, old, new, status_reason, deregister_reason = row[:9]
    agent = None if row[9] is None else agent_from_row((agent_id, runtime_id, *row[9:]), cards)
    try:
        return Event(
            revision,
            EventType(kind),
            time,
            runtime_id,
            agent_id,
            agent,
            _optional(AgentStatus, old),
            _optional(AgentStatus, new),
            _optional(StatusReason, status_reason),
            _optional(DeregisterReason, deregister_reason),
        )
    except (ValueError, TypeError) as error:
        raise CorruptRow(f"undecodable event at revision {revision!r}: {error}") from None


def _optional(enum: Any, value: int | None) -> Any:
    return None if value is None else enum(value)
