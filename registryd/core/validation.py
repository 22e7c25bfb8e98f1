"""Limits on every field and collection, and the checks that enforce them. One place for each rule."""

from __future__ import annotations

import re
from dataclasses import dataclass

from registryd.core.errors import InvalidArgument
from registryd.core.model import AgentCard

_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:@-]*")


@dataclass(frozen=True, slots=True)
class Limits:
    max_id_length: int = 128
    max_capabilities: int = 64
    max_text_length: int = 256  # a capability, skill name, skill id or tag
    max_skills: int = 64
    max_tags_per_skill: int = 32
    max_description_length: int = 4096
    max_labels: int = 64
    max_label_length: int = 1024
    max_card_bytes: int = 65536
    max_agents: int = 1_000_000
    max_agents_per_runtime: int = 10_000
    max_subscribers: int = 10_000
    max_streams: int = 20_000
    max_agents_per_request: int = 10_000  # ids named in one heartbeat, bind, beat or unbind
    max_page_size: int = 1000
    max_query_length: int = 256


def validate_id(field: str, value: str, limits: Limits) -> str:
    if not value:
        raise InvalidArgument(f"{field} is required", field=field)
    if len(value) > limits.max_id_length:
        raise InvalidArgument(
            f"{field} is {len(value)} characters; the limit is {limits.max_id_length}", field=field
        )
    if not _ID.fullmatch(value):
        raise InvalidArgument(
            f"{field} {value[:64]!r} has characters outside letters, digits and '._:@-' "
            "(and must start with a letter or digit)",
            field=field,
        )
    return value


def validate_ids(field: str, values: list[str] | tuple[str, ...], limits: Limits) -> None:
    if len(values) > limits.max_agents_per_request:
        raise InvalidArgument(
            f"{field} names {len(values)} agents; the limit is {limits.max_agents_per_request}", field=field
        )
    for i, value in enumerate(values):
        validate_id(f"{field}[{i}]", value, limits)


def _text(field: str, value: str, limit: int) -> None:
    if len(value) > limit:
        raise InvalidArgument(f"{field} is {len(value)} characters; the limit is {limit}", field=field)


def _count(field: str, values: tuple[object, ...], limit: int) -> None:
    if len(values) > limit:
        raise InvalidArgument(f"{field} has {len(values)} entries; the limit is {limit}", field=field)


def validate_card(card: AgentCard, limits: Limits) -> None:
    _text("card.name", card.name, limits.max_text_length)
    _text("card.description", card.description, limits.max_description_length)
    _text("card.version", card.version, limits.max_text_length)
    _text("card.url", card.url, limits.max_description_length)
    _count("card.capabilities", card.capabilities, limits.max_capabilities)
    for i, capability in enumerate(card.capabilities):
        _text(f"card.capabilities[{i}]", capability, limits.max_text_length)
    _count("card.skills", card.skills, limits.max_skills)
    for i, skill in enumerate(card.skills):
        _text(f"card.skills[{i}].id", skill.id, limits.max_text_length)
        _text(f"card.skills[{i}].name", skill.name, limits.max_text_length)
        _text(f"card.skills[{i}].description", skill.description, limits.max_description_length)
        _count(f"card.skills[{i}].tags", skill.tags, limits.max_tags_per_skill)
        for j, tag in enumerate(skill.tags):
            _text(f"card.skills[{i}].tags[{j}]", tag, limits.max_text_length)
    _count("card.labels", card.labels, limits.max_labels)
    for key, value in card.labels:
        _text(f"card.labels[{key[:32]!r}]", key + value, limits.max_label_length)
    size = card_size(card)
    if size > limits.max_card_bytes:
        raise InvalidArgument(f"card is {size} bytes; the limit is {limits.max_card_bytes}", field="card")
    if not card.name.strip() and not any(t.strip() for t in card.indexed_texts()):
        raise InvalidArgument("card needs a name or at least one capability", field="card")


def card_size(card: AgentCard) -> int:
    texts = [card.name, card.description, card.version, card.url, *card.capabilities]
    for skill in card.skills:
        texts += [skill.id, skill.name, skill.description, *skill.tags]
    for key, value in card.labels:
        texts += [key, value]
    return sum(len(t.encode("utf-8", "surrogatepass")) for t in texts)


def validate_query(query: str, limits: Limits) -> None:
    if not query.strip():
        raise InvalidArgument("capability must not be empty or blank", field="capability")
    _text("capability", query, limits.max_query_length)


def page_size(requested: int, limits: Limits, *, field: str = "page_size", default: int = 100) -> int:
    if requested < 0:
        raise InvalidArgument(f"{field} must not be negative (got {requested})", field=field)
    return min(requested or default, limits.max_page_size)
