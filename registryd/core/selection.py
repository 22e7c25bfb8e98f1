"""Label selectors in Kubernetes' syntax, the one implementation every API uses, and the console's read of
recent events.

    tier=gold            the label is there with this value (also tier==gold)
    tier!=gold           the label is not there with this value (absent counts)
    region in (eu,us)    the label is there with one of these values
    region notin (eu)    the label is not there with one of these values (absent counts)
    canary               the label is there
    !canary              the label is not there

Requirements are separated by commas and must all hold. Keys and values are compared exactly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from registryd.core.errors import InvalidArgument

if TYPE_CHECKING:
    from registryd.core.events import EventFilter
    from registryd.core.model import Event
    from registryd.core.registry import Registry

MAX_REQUIREMENTS = 16  # requirements in one selector
MAX_SELECTOR_LENGTH = 1024  # characters in one selector
MAX_SET_VALUES = 64  # values of one `in`/`notin` set

_NAME = r"[^\s=!,()]+"
_TERM = re.compile(
    rf"\s*(?:(?P<not>!)\s*(?P<absent>{_NAME})"
    rf"|(?P<key>{_NAME})(?:\s*(?P<op>==|!=|=)\s*(?P<value>[^\s=!,()]*)"
    rf"|\s+(?P<set_op>in|notin)\s*\((?P<values>[^()]*)\))?)\s*(?:,|$)"
)


@dataclass(frozen=True, slots=True)
class Requirement:
    """The agent's label `key` has one of `values` (any value when None); `negated` inverts it."""

    key: str
    values: frozenset[str] | None
    negated: bool

    def matches(self, labels: dict[str, str]) -> bool:
        value = labels.get(self.key)
        held = value is not None and (self.values is None or value in self.values)
        return held is not self.negated


def parse_selector(selector: str, field: str = "label_selector") -> tuple[Requirement, ...]:
    """The requirements of a selector; a clear error naming the first part that is not one."""
    if len(selector) > MAX_SELECTOR_LENGTH:
        raise InvalidArgument(
            f"{field} is {len(selector)} characters; the limit is {MAX_SELECTOR_LENGTH}", field=field
        )
    requirements: list[Requirement] = []
    position = 0
    while position < len(selector) and selector[position:].strip():
        term = _TERM.match(selector, position)
        if term is None or term.end() == position:
            rest = selector[position:].strip()
            raise InvalidArgument(
                f"{field}: cannot read {rest[:64]!r}; write key=value, key!=value, key in (a,b), "
                "key notin (a,b), key or !key, separated by commas",
                field=field,
            )
        requirements.append(_requirement(term, field))
        position = term.end()
        if selector[position - 1 : position] == "," and not selector[position:].strip():
            raise InvalidArgument(f"{field} ends with a comma", field=field)
    if len(requirements) > MAX_REQUIREMENTS:
        raise InvalidArgument(
            f"{field} has {len(requirements)} requirements; the limit is {MAX_REQUIREMENTS}", field=field
        )
    return tuple(requirements)


def _requirement(term: re.Match[str], field: str) -> Requirement:
    if term["absent"]:
        return Requirement(term["absent"], None, negated=True)
    key = term["key"]
    if term["op"]:
        return Requirement(key, frozenset({term["value"]}), negated=term["op"] == "!=")
    if term["set_op"]:
        values = [v.strip() for v in term["values"].split(",")]
        if not all(values) or any(re.search(r"[\s=!]", v) for v in values):
            raise InvalidArgument(
                f"{field}: {key} {term['set_op']} ({term['values']}) needs values separated by commas",
                field=field,
            )
        if len(values) > MAX_SET_VALUES:
            raise InvalidArgument(
                f"{field}: {key} {term['set_op']} has {len(values)} values; the limit is {MAX_SET_VALUES}",
                field=field,
            )
        return Requirement(key, frozenset(values), negated=term["set_op"] == "notin")
    return Requirement(key, None, negated=False)


def recent_events(registry: Registry, event_filter: EventFilter, limit: int) -> list[Event]:
    """The last `limit` retained events that match, oldest first."""
    log = registry.hub.log
    matching = [e for e in log.since(log.compacted_revision + 1) if event_filter.matches(e)]
    return matching[-limit:] if limit else []
