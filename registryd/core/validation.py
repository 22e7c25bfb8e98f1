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


def _text(field: str, value: str, limit: int) -> None:
    if len(value) > limit:
        raise InvalidArgument(f"{field} is {len(value)} characters; the limit is {limit}", field=field)


def _count(field: str, values: tuple[object, ...], limit: int) -> None:
    if len(values) > limit:
        raise InvalidArgument(f"{field} has {len(values)} entries; the limit is {limit}", field=field)


def validate_card(card: AgentCard, limits: Limits) -> None:
    short, long, lists = limits.max_text_length, limits.max_description_length, limits.max_tags_per_skill
    _text("card.name", card.name, short)
    _text("card.description", card.description, long)
    _text("card.version", card.version, short)
    _count("card.capabilities", card.capabilities, limits.max_capabilities)
    _texts("card.capabilities", card.capabilities, short)
    _count("card.supported_interfaces", card.supported_interfaces, lists)
    for i, interface in enumerate(card.supported_interfaces):
        _text(f"card.supported_interfaces[{i}].url", interface.url, long)
        _text(f"card.supported_interfaces[{i}].protocol_binding", interface.protocol_binding, long)
        _text(f"card.supported_interfaces[{i}].tenant", interface.tenant, short)
        _text(f"card.supported_interfaces[{i}].protocol_version", interface.protocol_version, short)
    if card.provider is not None:
        _text("card.provider.url", card.provider.url, long)
        _text("card.provider.organization", card.provider.organization, short)
    _text("card.documentation_url", card.documentation_url, long)
    _text("card.icon_url", card.icon_url, long)
    _count("card.capabilities.extensions", card.a2a_capabilities.extensions, lists)
    for i, extension in enumerate(card.a2a_capabilities.extensions):
        _text(f"card.capabilities.extensions[{i}].uri", extension.uri, long)
        _text(f"card.capabilities.extensions[{i}].description", extension.description, long)
    for name in ("default_input_modes", "default_output_modes"):
        _count(f"card.{name}", getattr(card, name), lists)
        _texts(f"card.{name}", getattr(card, name), short)
    _count("card.skills", card.skills, limits.max_skills)
    for i, skill in enumerate(card.skills):
        _text(f"card.skills[{i}].id", skill.id, short)
        _text(f"card.skills[{i}].name", skill.name, short)
        _text(f"card.skills[{i}].description", skill.description, long)
        _count(f"card.skills[{i}].tags", skill.tags, lists)
        _texts(f"card.skills[{i}].tags", skill.tags, short)
        _count(f"card.skills[{i}].examples", skill.examples, lists)
        _texts(f"card.skills[{i}].examples", skill.examples, long)
        for name in ("input_modes", "output_modes"):
            _count(f"card.skills[{i}].{name}", getattr(skill, name), lists)
            _texts(f"card.skills[{i}].{name}", getattr(skill, name), short)
    _count("card.signatures", card.signatures, lists)
    for i, signature in enumerate(card.signatures):
        _text(f"card.signatures[{i}].protected", signature.protected, long)
        _text(f"card.signatures[{i}].signature", signature.signature, long)
    _count("card.labels", card.labels, limits.max_labels)
    for key, value in card.labels:
        _text(f"card.labels[{key[:32]!r}]", key + value, limits.max_label_length)
    size = card_size(card)
    if size > limits.max_card_bytes:
        raise InvalidArgument(f"card is {size} bytes; the limit is {limits.max_card_bytes}", field="card")
    if not card.name.strip() and not any(t.strip() for t in card.indexed_texts()):
        raise InvalidArgument("card needs a name or at least one capability", field="card")


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


def card_size(card: AgentCard) -> int:
    """UTF-8 bytes of every text of the card, its JSON parts included."""
    texts = [
        card.name,
        card.description,
        card.version,
        card.documentation_url,
        card.icon_url,
        *card.capabilities,
    ]
    texts += [
        card.security_schemes,
        card.security_requirements,
        *card.default_input_modes,
        *card.default_output_modes,
    ]
    for interface in card.supported_interfaces:
        texts += [interface.url, interface.protocol_binding, interface.tenant, interface.protocol_version]
    if card.provider is not None:
        texts += [card.provider.url, card.provider.organization]
    for extension in card.a2a_capabilities.extensions:
        texts += [extension.uri, extension.description, extension.params]
    for skill in card.skills:
        texts += [skill.id, skill.name, skill.description, *skill.tags, *skill.examples]
        texts += [*skill.input_modes, *skill.output_modes, skill.security_requirements]
    for signature in card.signatures:
        texts += [signature.protected, signature.signature, signature.header]
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
