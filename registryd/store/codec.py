"""Rows of the sqlite store: agents and events as column tuples.

Enums are stored as their integer values, times as float seconds since the epoch. A card is stored in
columns: name, description, version as text; capabilities (`["text", ...]`), skills (`[[id, name,
description, [tag, ...], [example, ...], [input mode, ...], [output mode, ...], security requirements],
...]`; version 2 wrote the first four), labels (`[[key, value], ...]`) and the rest of the A2A card (`a2a`,
see `_a2a_parts`; trailing defaults left out) as compact JSON arrays. Parts the registry keeps as JSON text
(security schemes, extension params, ...) are stored as that text. Agents of one
kind share those three parts, so a `CardDecoder` decodes each distinct text once and the agents share the
(immutable) result: loading 100k agents is mostly cache hits.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from registryd.core.model import (
    Agent,
    AgentCapabilities,
    AgentCard,
    AgentExtension,
    AgentInterface,
    AgentProvider,
    AgentStatus,
    CardSignature,
    DeregisterReason,
    Event,
    EventType,
    Skill,
    StatusReason,
)

AgentRow = tuple[Any, ...]
EventRow = tuple[Any, ...]

# agent_id and runtime_id first: an event row carries them as its own columns.
AGENT_COLUMNS = (
    "agent_id",
    "runtime_id",
    "card_name",
    "card_description",
    "card_version",
    "card_a2a",
    "card_capabilities",
    "card_skills",
    "card_labels",
    "health",
    "health_reason",
    "registered_at",
    "last_heartbeat",
    "status_changed_at",
    "revision",
    "operator_status",
    "verified",
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
_decode = json.JSONDecoder().decode
# Enum values by number: a dict lookup is several times cheaper than calling the enum.
_STATUSES = {s.value: s for s in AgentStatus}
_REASONS = {r.value: r for r in StatusReason}


class CorruptRow(ValueError):
    """A stored value that this version cannot decode."""


def card_columns(card: AgentCard) -> tuple[str, ...]:
    return (
        card.name,
        card.description,
        card.version,
        _encode(_a2a_parts(card)),
        _encode(card.capabilities),
        _encode([_skill_parts(s) for s in card.skills]),
        _encode(card.labels),
    )


def _skill_parts(skill: Skill) -> list[Any]:
    parts = [skill.id, skill.name, skill.description, skill.tags, skill.examples, skill.input_modes]
    return _trimmed([*parts, skill.output_modes, skill.security_requirements], 4)


def _a2a_parts(card: AgentCard) -> list[Any]:
    flags = card.a2a_capabilities
    return _trimmed(
        [
            [[i.url, i.protocol_binding, i.tenant, i.protocol_version] for i in card.supported_interfaces],
            None if card.provider is None else [card.provider.url, card.provider.organization],
            card.documentation_url,
            _trimmed(
                [
                    flags.streaming,
                    flags.push_notifications,
                    [[e.uri, e.description, e.required, e.params] for e in flags.extensions],
                    flags.extended_agent_card,
                ],
                0,
            ),
            card.security_schemes,
            card.security_requirements,
            card.default_input_modes,
            card.default_output_modes,
            [[s.protected, s.signature, s.header] for s in card.signatures],
            card.icon_url,
        ],
        0,
    )


def _trimmed(parts: list[Any], keep: int) -> list[Any]:
    """`parts` without its trailing empty values (beyond the first `keep`)."""
    while len(parts) > keep and parts[-1] in (None, "", (), []):
        parts.pop()
    return parts


def _capabilities(text: str) -> tuple[str, ...]:
    return tuple(_decode(text))


def _skills(text: str) -> tuple[Skill, ...]:
    return tuple([_skill(*parts) for parts in _decode(text)])


def _skill(
    id: str,
    name: str,
    description: str,
    tags: list[str],
    examples: tuple[str, ...] = (),
    input_modes: tuple[str, ...] = (),
    output_modes: tuple[str, ...] = (),
    security_requirements: str = "",
) -> Skill:
    return Skill(
        id,
        name,
        description,
        tuple(tags),
        tuple(examples),
        tuple(input_modes),
        tuple(output_modes),
        security_requirements,
    )


def _a2a(text: str) -> dict[str, Any]:
    """The keyword arguments of AgentCard held in the `a2a` column."""
    return _a2a_fields(*_decode(text))


def _a2a_fields(
    interfaces: list[list[str]] = (),  # type: ignore[assignment]
    provider: list[str] | None = None,
    documentation_url: str = "",
    flags: list[Any] = (),  # type: ignore[assignment]
    security_schemes: str = "",
    security_requirements: str = "",
    default_input_modes: list[str] = (),  # type: ignore[assignment]
    default_output_modes: list[str] = (),  # type: ignore[assignment]
    signatures: list[list[str]] = (),  # type: ignore[assignment]
    icon_url: str = "",
) -> dict[str, Any]:
    return {
        "supported_interfaces": tuple(AgentInterface(*i) for i in interfaces),
        "provider": None if provider is None else AgentProvider(*provider),
        "documentation_url": documentation_url,
        "a2a_capabilities": _flags(*flags),
        "security_schemes": security_schemes,
        "security_requirements": security_requirements,
        "default_input_modes": tuple(default_input_modes),
        "default_output_modes": tuple(default_output_modes),
        "signatures": tuple(CardSignature(*s) for s in signatures),
        "icon_url": icon_url,
    }


def _flags(
    streaming: bool | None = None,
    push_notifications: bool | None = None,
    extensions: list[list[Any]] = (),  # type: ignore[assignment]
    extended_agent_card: bool | None = None,
) -> AgentCapabilities:
    return AgentCapabilities(
        streaming, push_notifications, tuple(AgentExtension(*e) for e in extensions), extended_agent_card
    )


def _labels(text: str) -> tuple[tuple[str, str], ...]:
    return tuple([(k, v) for k, v in _decode(text)])


class CardDecoder:
    """Builds cards from their columns, decoding each distinct JSON part once."""

    def __init__(self) -> None:
        self._capabilities: dict[str, Any] = {}
        self._skills: dict[str, Any] = {}
        self._labels: dict[str, Any] = {}
        self._a2a: dict[str, Any] = {}

    def __call__(
        self, name: str, description: str, version: str, a2a: str, capabilities: str, skills: str, labels: str
    ) -> AgentCard:
        return AgentCard(
            name,
            description,
            version,
            _cached(self._capabilities, _capabilities, capabilities),
            _cached(self._skills, _skills, skills),
            _cached(self._labels, _labels, labels),
            **_cached(self._a2a, _a2a, a2a),
        )


def _cached(cache: dict[str, Any], decode: Callable[[str], Any], text: str) -> Any:
    value = cache.get(text)
    if value is None:
        try:
            value = cache[text] = decode(text)
        except (ValueError, TypeError) as error:
            raise CorruptRow(f"undecodable card part {text[:80]!r}: {error}") from None
    return value


def agent_row(agent: Agent) -> AgentRow:
    return (
        agent.agent_id,
        agent.runtime_id,
        *card_columns(agent.card),
        agent.health,
        agent.health_reason,
        agent.registered_at,
        agent.last_heartbeat,
        agent.status_changed_at,
        agent.revision,
        agent.operator_status,
        agent.verified,
    )


def agent_from_row(row: tuple[Any, ...], cards: CardDecoder) -> Agent:
    agent_id, runtime_id = row[0], row[1]
    try:
        return Agent(
            agent_id,
            runtime_id,
            cards(*row[2:9]),
            _STATUSES[row[9]],
            _REASONS[row[10]],
            row[11],
            row[12],
            row[13],
            row[14],
            None if row[15] is None else _STATUSES[row[15]],
            # Decided once, by the replica that took the card; rows from before it was kept have none.
            bool(row[16]) if len(row) > 16 else False,
        )
    except (KeyError, ValueError, TypeError) as error:
        raise CorruptRow(f"undecodable agent {agent_id!r}: {error}") from None


def event_row(event: Event, agent: AgentRow | None) -> EventRow:
    """`agent` is agent_row(event.agent), which the caller may already have; None when it has no agent."""
    agent_columns = agent[2:] if agent is not None else (None,) * (len(AGENT_COLUMNS) - 2)
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
        *agent_columns,
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
