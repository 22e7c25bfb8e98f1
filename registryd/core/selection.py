"""Reads the console needs beyond the gRPC API's: agents by label, and an agent's or runtime's recent
events from the retained log. Both build on the registry's own reads, so they see what ListAgents and
Subscribe see."""

from __future__ import annotations

from collections.abc import Collection, Mapping

from registryd.core.errors import InvalidArgument
from registryd.core.events import EventFilter
from registryd.core.model import Agent, AgentStatus, Event, Page
from registryd.core.registry import Registry

# Most labels a selector may name; a card has at most max_labels of them anyway.
MAX_SELECTOR_LABELS = 16


def parse_selector(terms: Collection[str]) -> dict[str, str | None]:
    """`key=value` requires that value, a bare `key` only that the label is there."""
    if len(terms) > MAX_SELECTOR_LABELS:
        raise InvalidArgument(
            f"label names {len(terms)} labels; the limit is {MAX_SELECTOR_LABELS}", field="label"
        )
    selector: dict[str, str | None] = {}
    for term in terms:
        key, sep, value = term.partition("=")
        if not key:
            raise InvalidArgument(f"label {term!r} has no key: write key=value or key", field="label")
        selector[key] = value if sep else None
    return selector


def has_labels(agent: Agent, selector: Mapping[str, str | None]) -> bool:
    if not selector:
        return True
    labels = dict(agent.card.labels)
    return all(key in labels and (value is None or labels[key] == value) for key, value in selector.items())


def select_agents(
    registry: Registry,
    runtime_id: str,
    statuses: Collection[AgentStatus],
    selector: Mapping[str, str | None],
    after: str,
    limit: int,
) -> Page:
    """ListAgents with a label selector (a page may end early, with a token, when few agents match)."""
    return registry.list_agents(
        runtime_id, statuses, after, limit, (lambda agent: has_labels(agent, selector)) if selector else None
    )


def recent_events(registry: Registry, event_filter: EventFilter, limit: int) -> list[Event]:
    """The last `limit` retained events that match, oldest first."""
    log = registry.hub.log
    matching = [e for e in log.since(log.compacted_revision + 1) if event_filter.matches(e)]
    return matching[-limit:] if limit else []
