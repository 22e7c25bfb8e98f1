"""Limits on every field and collection, and the checks that enforce them. One place for each rule."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, fields

from registryd.core.errors import InvalidArgument
from registryd.core.model import Agent, AgentCard

_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:@-]*")


def _limit(default: int, help: str) -> int:
    return field(default=default, metadata={"help": help})  # type: ignore[no-any-return]


@dataclass(frozen=True, slots=True)
class Limits:
    """Each is a flag and REGISTRYD_* variable of the same name (registryd.config)."""

    max_id_length: int = _limit(128, "characters in an agent or runtime id")
    max_capabilities: int = _limit(64, "capabilities on one card")
    max_text_length: int = _limit(
        256, "characters in a card name, version, capability, skill id/name, tag, mode or provider"
    )
    max_skills: int = _limit(64, "skills on one card")
    max_tags_per_skill: int = _limit(
        32,
        "tags, examples or modes of one skill; interfaces, modes, extensions or signatures of one card",
    )
    max_description_length: int = _limit(
        4096, "characters in a description, example, URL or signature of a card"
    )
    max_labels: int = _limit(64, "labels on one card")
    max_label_length: int = _limit(1024, "characters in one label's key and value together")
    max_card_bytes: int = _limit(65536, "UTF-8 bytes of all texts of one card")
    max_agents: int = _limit(1_000_000, "agents registered in total")
    max_agents_per_runtime: int = _limit(10_000, "agents registered by one runtime")
    max_subscribers: int = _limit(10_000, "open Subscribe streams (HTTP event streams included)")
    max_subscribers_per_caller: int = _limit(
        1000, "open Subscribe streams of one token, client certificate, or peer address without either"
    )
    max_streams: int = _limit(20_000, "open HeartbeatStream streams")
    max_streams_per_caller: int = _limit(
        2000, "open HeartbeatStream streams of one token, client certificate, or peer address without either"
    )
    max_agents_per_stream: int = _limit(10_000, "agents bound to one heartbeat stream")
    max_agents_per_request: int = _limit(10_000, "agent ids named in one heartbeat, bind, beat or unbind")
    max_page_size: int = _limit(
        1000, "agents in one ListAgents page or FindAgents answer (larger asks are cut)"
    )
    max_reservations: int = _limit(100_000, "open SelectAgent reservations (each ends at release or TTL)")
    max_select_waiters: int = _limit(10_000, "SelectAgent calls waiting at once for an agent that fits")
    max_select_waiters_per_caller: int = _limit(
        1_000, "SelectAgent calls of one caller (its token; without auth, its connection) waiting at once"
    )
    max_query_length: int = _limit(256, "characters in a FindAgents capability query")
    max_response_bytes: int = _limit(
        3_145_728,
        "encoded bytes (at most) of one ListAgents or ListRuntimes page or FindAgents answer; beyond it "
        "fewer are returned, so default clients (4 MiB receive limit) can always read the answer",
    )

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{f.name} must be a positive integer (got {value!r})")


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


def _text(field: str, value: str, limit: int, *where: object) -> None:
    """`field` is a template filled with `where` only for the error: a valid card formats no names."""
    if len(value) > limit:
        name = field.format(*where)
        raise InvalidArgument(f"{name} is {len(value)} characters; the limit is {limit}", field=name)


def _list(field: str, values: tuple[str, ...], count: int, length: int, *where: object) -> None:
    """At most `count` entries of at most `length` characters each."""
    if len(values) > count:
        name = field.format(*where)
        raise InvalidArgument(f"{name} has {len(values)} entries; the limit is {count}", field=name)
    if values and max(map(len, values)) > length:
        i = next(i for i, value in enumerate(values) if len(value) > length)
        _text(f"{field}[{i}]", values[i], length, *where)


def _count(field: str, values: tuple[object, ...], limit: int) -> None:
    if len(values) > limit:
        raise InvalidArgument(f"{field} has {len(values)} entries; the limit is {limit}", field=field)


def validate_card(card: AgentCard, limits: Limits) -> None:
    limited, json_parts = _card_texts(card)
    # Every list holds fewer entries than the card has texts, and every field's limit is at least the
    # smallest one: a card within both bounds (the usual card) passes every per-field check below.
    smallest_count = min(
        limits.max_capabilities, limits.max_skills, limits.max_labels, limits.max_tags_per_skill
    )
    shortest = min(limits.max_text_length, limits.max_description_length, limits.max_label_length // 2)
    if len(limited) > smallest_count or max(map(len, limited), default=0) > shortest:
        _check_fields(card, limits)
    size = _utf8_size(limited + json_parts)
    if size > limits.max_card_bytes:
        raise InvalidArgument(f"card is {size} bytes; the limit is {limits.max_card_bytes}", field="card")
    if not card.name.strip() and not any(t.strip() for t in card.indexed_texts()):
        raise InvalidArgument("card needs a name or at least one capability", field="card")


def _check_fields(card: AgentCard, limits: Limits) -> None:
    """Each field against its own limit, naming the first one over it."""
    short, long, lists = limits.max_text_length, limits.max_description_length, limits.max_tags_per_skill
    _text("card.name", card.name, short)
    _text("card.description", card.description, long)
    _text("card.version", card.version, short)
    _list("card.capabilities", card.capabilities, limits.max_capabilities, short)
    _count("card.supported_interfaces", card.supported_interfaces, lists)
    for i, interface in enumerate(card.supported_interfaces):
        _text("card.supported_interfaces[{}].url", interface.url, long, i)
        _text("card.supported_interfaces[{}].protocol_binding", interface.protocol_binding, long, i)
        _text("card.supported_interfaces[{}].tenant", interface.tenant, short, i)
        _text("card.supported_interfaces[{}].protocol_version", interface.protocol_version, short, i)
    if card.provider is not None:
        _text("card.provider.url", card.provider.url, long)
        _text("card.provider.organization", card.provider.organization, short)
    _text("card.documentation_url", card.documentation_url, long)
    _text("card.icon_url", card.icon_url, long)
    _count("card.capabilities.extensions", card.a2a_capabilities.extensions, lists)
    for i, extension in enumerate(card.a2a_capabilities.extensions):
        _text("card.capabilities.extensions[{}].uri", extension.uri, long, i)
        _text("card.capabilities.extensions[{}].description", extension.description, long, i)
    _list("card.default_input_modes", card.default_input_modes, lists, short)
    _list("card.default_output_modes", card.default_output_modes, lists, short)
    _count("card.skills", card.skills, limits.max_skills)
    for i, skill in enumerate(card.skills):
        _text("card.skills[{}].id", skill.id, short, i)
        _text("card.skills[{}].name", skill.name, short, i)
        _text("card.skills[{}].description", skill.description, long, i)
        _list("card.skills[{}].tags", skill.tags, lists, short, i)
        _list("card.skills[{}].examples", skill.examples, lists, long, i)
        _list("card.skills[{}].input_modes", skill.input_modes, lists, short, i)
        _list("card.skills[{}].output_modes", skill.output_modes, lists, short, i)
    _count("card.signatures", card.signatures, lists)
    for i, signature in enumerate(card.signatures):
        _text("card.signatures[{}].protected", signature.protected, long, i)
        _text("card.signatures[{}].signature", signature.signature, long, i)
    _count("card.labels", card.labels, limits.max_labels)
    for key, value in card.labels:
        _text("card.labels[{!r}]", key + value, limits.max_label_length, key[:32])


def _texts(field: str, values: tuple[str, ...], limit: int) -> None:
    for i, value in enumerate(values):
        _text(f"{field}[{i}]", value, limit)


def validate_stored(agent: Agent, limits: Limits) -> None:
    """A loaded agent follows the rules a registration does (a data file edited outside registryd, or
    written by a daemon with wider limits, is not served as if it did)."""
    times = (agent.registered_at, agent.last_heartbeat, agent.status_changed_at)
    if not all(isinstance(t, int | float) and math.isfinite(t) for t in times):
        raise InvalidArgument("a time is not a finite number", field="registered_at")
    try:
        validate_id("agent_id", agent.agent_id, limits)
        validate_id("runtime_id", agent.runtime_id, limits)
        validate_card(agent.card, limits)
    except (TypeError, AttributeError) as error:  # a value of the wrong type where text belongs
        raise InvalidArgument(f"a stored value has the wrong type ({error})", field="card") from None


def _card_texts(card: AgentCard) -> tuple[list[str], list[str]]:
    """The card's texts with a length limit (each list entry, interface, skill, signature and label adds
    at least one), and its JSON parts (bounded by the card's size only)."""
    limited = [
        card.name,
        card.description,
        card.version,
        card.documentation_url,
        card.icon_url,
        *card.capabilities,
        *card.default_input_modes,
        *card.default_output_modes,
    ]
    json_parts = [card.security_schemes, card.security_requirements]
    for interface in card.supported_interfaces:
        limited += [interface.url, interface.protocol_binding, interface.tenant, interface.protocol_version]
    if card.provider is not None:
        limited += [card.provider.url, card.provider.organization]
    for extension in card.a2a_capabilities.extensions:
        limited += [extension.uri, extension.description]
        json_parts.append(extension.params)
    for skill in card.skills:
        limited += [skill.id, skill.name, skill.description, *skill.tags, *skill.examples]
        limited += [*skill.input_modes, *skill.output_modes]
        json_parts.append(skill.security_requirements)
    for signature in card.signatures:
        limited += [signature.protected, signature.signature]
        json_parts.append(signature.header)
    for label in card.labels:
        limited += label
    return limited, json_parts


def _utf8_size(texts: list[str]) -> int:
    joined = "".join(texts)  # one C pass; ASCII (the usual card) needs no encoding at all
    return len(joined) if joined.isascii() else len(joined.encode("utf-8", "surrogatepass"))


def card_size(card: AgentCard) -> int:
    """UTF-8 bytes of every text of the card, its JSON parts included."""
    limited, json_parts = _card_texts(card)
    return _utf8_size(limited + json_parts)


def validate_query(query: str, limits: Limits) -> None:
    if not query.strip():
        raise InvalidArgument("capability must not be empty or blank", field="capability")
    _text("capability", query, limits.max_query_length)


def page_size(requested: int, limits: Limits, *, field: str = "page_size", default: int = 100) -> int:
    if requested < 0:
        raise InvalidArgument(f"{field} must not be negative (got {requested})", field=field)
    return min(requested or default, limits.max_page_size)
