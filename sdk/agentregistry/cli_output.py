"""What registryctl prints: rich tables for people, JSON for scripts (one document per command, one
line per event for `watch`). JSON uses the SDK's values (lower-case statuses, ISO-8601 UTC times)."""

from __future__ import annotations

import dataclasses
import json
import sys
import unicodedata
from datetime import UTC, datetime
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from agentregistry.types import (
    AgentMatch,
    AgentMetadata,
    AgentStatus,
    FindResult,
    RegistryEvent,
    RegistryStats,
    RuntimeList,
    Selection,
    ServingStatus,
    StatusUpdate,
)

# ---------------------------------------------------------------------------------------- JSON forms


def _time(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def agent_json(agent: AgentMetadata) -> dict[str, Any]:
    return {
        "agent_id": agent.agent_id,
        "runtime_id": agent.runtime_id,
        "status": agent.status.value,
        "status_reason": agent.status_reason.value if agent.status_reason else None,
        "health": agent.health.value,
        "health_reason": agent.health_reason.value if agent.health_reason else None,
        "operator_status": agent.operator_status.value if agent.operator_status else None,
        "registered_at": _time(agent.registered_at),
        "last_heartbeat": _time(agent.last_heartbeat),
        "status_changed_at": _time(agent.status_changed_at),
        "revision": agent.revision,
        "card": agent.card.to_dict(),
        "capabilities": list(agent.card.capabilities),
        "labels": dict(agent.card.labels),
    }


def match_json(match: AgentMatch) -> dict[str, Any]:
    return {
        "agent": agent_json(match.agent),
        "matched_capability": match.matched_capability,
        "match_kind": match.match_kind.value,
    }


def event_json(event: RegistryEvent) -> dict[str, Any]:
    return {
        "revision": event.revision,
        "type": event.event_type.value,
        "time": _time(event.timestamp),
        "agent_id": event.agent_id,
        "runtime_id": event.runtime_id,
        "metadata": event.metadata,
        "agent": agent_json(event.agent) if event.agent else None,
    }


def runtimes_json(runtimes: RuntimeList) -> dict[str, Any]:
    return {
        "revision": runtimes.revision,
        "runtimes": [
            {
                "runtime_id": r.runtime_id,
                "agent_ids": list(r.agent_ids),
                "agent_count": r.agent_count,
                "stream_connected": r.stream_connected,
            }
            for r in runtimes.runtimes
        ],
    }


def stats_json(stats: RegistryStats) -> dict[str, Any]:
    return {
        "total_agents": stats.total_agents,
        "total_runtimes": stats.total_runtimes,
        "status_distribution": {status.value: n for status, n in stats.status_distribution.items()},
        "runtime_distribution": dict(stats.runtime_distribution),
        "total_queries": stats.total_queries,
        "total_registrations": stats.total_registrations,
        "total_deregistrations": stats.total_deregistrations,
        "capability_index_size": stats.capability_index_size,
        "revision": stats.revision,
        "compacted_revision": stats.compacted_revision,
        "subscribers": stats.subscribers,
        "heartbeat_streams": stats.heartbeat_streams,
        "expiry_guard_active": stats.expiry_guard_active,
        "replica": {
            "replica_id": stats.replica.replica_id,
            "leader": stats.replica.leader,
            "started_at": stats.replica.started_at.isoformat(),
            "streaming_runtimes": stats.replica.streaming_runtimes,
        },
    }


# ---------------------------------------------------------------------------------------- printing


def _age(value: datetime) -> str:
    seconds = max(0, int((datetime.now(UTC) - value).total_seconds()))
    if seconds < 120:
        return f"{seconds}s ago"
    if seconds < 7200:
        return f"{seconds // 60}m ago"
    return f"{seconds // 3600}h ago"


def shown(text: str) -> Text:
    """A text from the registry as a table shows it: control, bidi and other invisible characters escaped
    (ESC[2J, U+202E...) so a card cannot drive the operator's terminal, and no rich markup applied."""
    return Text(escaped(text))


def escaped(text: str) -> str:
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() or unicodedata.category(ch) == "Zs" else _escape(ch) for ch in text)


def _escape(ch: str) -> str:
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def _reason(agent: AgentMetadata) -> str:
    return agent.status_reason.name if agent.status_reason else ""


class Output:
    """Prints each result as a table (`json_mode` False) or as JSON."""

    def __init__(self, json_mode: bool) -> None:
        self.json_mode = json_mode
        # Not a terminal (a pipe, a file): rows never wrap, so `| grep <id>` finds whole lines.
        self.console = Console(highlight=False, width=None if sys.stdout.isatty() else 1_000_000)

    def _json(self, document: Any) -> None:
        sys.stdout.write(json.dumps(document, sort_keys=True) + "\n")
        sys.stdout.flush()

    def _table(self, *columns: str, ids: tuple[list[str], ...] = ()) -> Table:
        """The first len(ids) columns hold ids (the values given): never wrapped or cut, even when the
        row is then wider than the terminal; the other columns give way on a narrow one."""
        table = Table(box=box.SIMPLE_HEAD, pad_edge=False, expand=False)
        needed = 0
        for i, column in enumerate(columns):
            if i < len(ids):
                width = max([len(column), *map(len, ids[i])])
                table.add_column(column, no_wrap=True, min_width=width)
            else:
                width = len(column)
                table.add_column(column, overflow="fold", min_width=width)
            needed += width + 3
        table.min_width = needed
        return table

    def _show(self, table: Table) -> None:
        """A terminal too narrow for the ids gets rows as wide as they need (it wraps them itself)."""
        width = self.console.width
        self.console.width = max(width, table.min_width or 0)
        try:
            self.console.print(table, crop=False)
        finally:
            self.console.width = width

    def deregistered(self, agents: list[AgentMetadata], revision: int) -> None:
        if self.json_mode:
            return self._json({"revision": revision, "deregistered": [agent_json(a) for a in agents]})
        for agent in agents:
            self.console.print(f"{agent.agent_id}: deregistered (runtime {agent.runtime_id})")
        self.console.print(f"{len(agents)} agents deregistered at revision {revision}")

    def agents(self, agents: list[AgentMetadata], revision: int) -> None:
        if self.json_mode:
            return self._json({"revision": revision, "agents": [agent_json(a) for a in agents]})
        ids = ([a.agent_id for a in agents], [a.runtime_id for a in agents])
        table = self._table(
            "AGENT", "RUNTIME", "STATUS", "REASON", "NAME", "CAPABILITIES", "LAST BEAT", ids=ids
        )
        for a in agents:
            table.add_row(
                a.agent_id,
                a.runtime_id,
                a.status.name,
                _reason(a),
                shown(a.card.name),
                shown(", ".join(a.card.capabilities)),
                _age(a.last_heartbeat),
            )
        self._show(table)
        self.console.print(f"{len(agents)} agents at revision {revision}")

    def agent(self, agent: AgentMetadata) -> None:
        if self.json_mode:
            return self._json(agent_json(agent))
        table = Table(box=None, show_header=False, pad_edge=False)
        table.add_column(style="bold")
        table.add_column(overflow="fold")
        card = agent.card
        rows = [
            ("agent_id", agent.agent_id),
            ("runtime_id", agent.runtime_id),
            ("status", f"{agent.status.name} ({_reason(agent)})"),
            ("name", card.name),
            ("description", card.description),
            ("version", card.version),
            ("url", card.url),
            ("capabilities", ", ".join(card.capabilities)),
            ("skills", "; ".join(f"{s.name or s.id} [{', '.join(s.tags)}]" for s in card.skills)),
            ("labels", ", ".join(f"{k}={v}" for k, v in sorted(card.labels.items()))),
            ("registered_at", _time(agent.registered_at)),
            ("last_heartbeat", f"{_time(agent.last_heartbeat)} ({_age(agent.last_heartbeat)})"),
            ("status_changed_at", _time(agent.status_changed_at)),
            ("revision", str(agent.revision)),
        ]
        for key, value in rows:
            table.add_row(key, shown(value))
        self.console.print(table)

    def matches(self, found: FindResult) -> None:
        if self.json_mode:
            return self._json({"revision": found.revision, "matches": [match_json(m) for m in found.matches]})
        ids = ([m.agent.agent_id for m in found.matches], [m.agent.runtime_id for m in found.matches])
        table = self._table("AGENT", "RUNTIME", "STATUS", "MATCHED", "KIND", "NAME", ids=ids)
        for m in found.matches:
            a = m.agent
            table.add_row(
                a.agent_id,
                a.runtime_id,
                a.status.name,
                shown(m.matched_capability),
                m.match_kind.name,
                shown(a.card.name),
            )
        self._show(table)
        self.console.print(f"{len(found.matches)} matches at revision {found.revision}")

    def selection(self, selection: Selection) -> None:
        agent, load = selection.agent, selection.load
        if self.json_mode:
            return self._json(
                {
                    "agent": agent_json(agent) if agent else None,
                    "reason": selection.reason,
                    "load": dataclasses.asdict(load) if load else None,
                    "matched": selection.matched,
                    "eligible": selection.eligible,
                }
            )
        if agent is None or load is None:
            self.console.print(f"no agent fits: {selection.reason}")
            return None
        limit = f"/{load.max_concurrency}" if load.max_concurrency else ""
        self.console.print(f"{agent.agent_id} (runtime {agent.runtime_id})")
        self.console.print(f"  why: {selection.reason}")
        known = "" if load.known else " (no fresh load report)"
        self.console.print(
            f"  load: {load.in_flight}{limit} in flight, {load.queue_depth} queued, "
            f"error rate {load.error_rate:.2f}{known}; {selection.eligible} of {selection.matched} matches fit"
        )
        return None

    def runtimes(self, runtimes: RuntimeList) -> None:
        if self.json_mode:
            return self._json(runtimes_json(runtimes))
        table = self._table(
            "RUNTIME", "AGENTS", "STREAM", "AGENT IDS", ids=([r.runtime_id for r in runtimes.runtimes],)
        )
        # Agent ids wrap between ids, never inside one.
        table.columns[-1].min_width = max((len(a) for r in runtimes.runtimes for a in r.agent_ids), default=9)
        for r in runtimes.runtimes:
            stream = "connected" if r.stream_connected else "-"
            table.add_row(r.runtime_id, str(r.agent_count), stream, ", ".join(r.agent_ids))
        self._show(table)
        self.console.print(f"{len(runtimes.runtimes)} runtimes at revision {runtimes.revision}")

    def status_update(self, update: StatusUpdate) -> None:
        if self.json_mode:
            return self._json(
                {"changed": update.changed, "revision": update.revision, "agent": agent_json(update.agent)}
            )
        agent = update.agent
        if update.changed:
            self.console.print(f"{agent.agent_id}: {agent.status.name} (revision {update.revision})")
        else:
            self.console.print(f"{agent.agent_id}: already {agent.status.name}, nothing changed")

    def stats(self, stats: RegistryStats) -> None:
        if self.json_mode:
            return self._json(stats_json(stats))
        table = Table(box=None, show_header=False, pad_edge=False)
        table.add_column(style="bold")
        table.add_column()
        statuses = ", ".join(f"{s.name} {stats.status_distribution.get(s, 0)}" for s in AgentStatus.known())
        rows = [
            ("agents", f"{stats.total_agents} ({statuses})"),
            ("runtimes", str(stats.total_runtimes)),
            ("heartbeat streams", str(stats.heartbeat_streams)),
            ("subscribers", str(stats.subscribers)),
            ("registrations", str(stats.total_registrations)),
            ("deregistrations", str(stats.total_deregistrations)),
            ("queries", str(stats.total_queries)),
            ("capability texts", str(stats.capability_index_size)),
            ("revision", f"{stats.revision} (retained after {stats.compacted_revision})"),
            ("expiry guard", "HOLDING deregistrations" if stats.expiry_guard_active else "idle"),
            (
                "replica",
                f"{stats.replica.replica_id} ({'leader' if stats.replica.leader else 'follower'}, started "
                f"{_age(stats.replica.started_at)}, {stats.replica.streaming_runtimes} streaming runtimes)",
            ),
        ]
        for key, value in rows:
            table.add_row(key, value)
        self.console.print(table)

    def health(self, service: str, status: ServingStatus) -> None:
        if self.json_mode:
            return self._json({"service": service, "status": status.value})
        self.console.print(f"{service or 'registryd'}: {status.name}")

    def event(self, event: RegistryEvent) -> None:
        if self.json_mode:
            return self._json(event_json(event))
        subject = event.agent_id or event.runtime_id or ""
        if event.agent_id and event.runtime_id:
            subject = f"{event.runtime_id}/{event.agent_id}"
        details = escaped(_event_details(event))
        line = f"{event.revision:>8}  {_time(event.timestamp)}  {event.event_type.name:<20}  {subject}"
        sys.stdout.write(f"{line}  {details}".rstrip() + "\n")
        sys.stdout.flush()

    def notice(self, message: str) -> None:
        """A side remark (reconnects, gaps) on stderr, so stdout stays parseable."""
        sys.stderr.write(f"registryctl: {message}\n")
        sys.stderr.flush()


def _event_details(event: RegistryEvent) -> str:
    meta = event.metadata
    if "new_status" in meta:
        return f"{meta['old_status'].upper()} -> {meta['new_status'].upper()} ({(meta.get('reason') or '').upper()})"
    if "capabilities" in meta:
        return ", ".join(map(str, meta["capabilities"]))
    if meta.get("reason"):
        return str(meta["reason"]).upper()
    return ""
