"""The sqlite store under a registry, without a network: what one run commits, the next run loads."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from registryd.clock import SystemClock
from registryd.core.model import (
    AgentCapabilities,
    AgentCard,
    AgentExtension,
    AgentInterface,
    AgentProvider,
    AgentStatus,
    CardSignature,
    EventType,
    Skill,
)
from registryd.core.registry import Registry, RegistrySettings
from registryd.store.base import StoreError
from registryd.store.sqlite import DATA_FILE, SCHEMA_VERSION, SqliteStore

SLOW_LIVENESS = RegistrySettings(heartbeat_timeout=30, auto_deregister_timeout=60, event_retention=1000)

CARD = AgentCard(
    name="coder",
    description="writes code",
    version="1.2",
    capabilities=("Python code generation", "Ünïcode review"),
    skills=(
        Skill("s1", "refactor", "cleans up", ("python", "legacy code"), ("tidy this",), ("text/plain",)),
        Skill("s2", "", "", (), security_requirements='[{"schemes":{"oidc":{"list":["openid"]}}}]'),
    ),
    labels=(("team", "tools"), ("tier", "gold")),
    supported_interfaces=(AgentInterface("http://127.0.0.1:9000/a2a", "JSONRPC", "", "1.0"),),
    provider=AgentProvider("http://127.0.0.1", "Example"),
    documentation_url="http://127.0.0.1/docs",
    a2a_capabilities=AgentCapabilities(True, False, (AgentExtension("urn:x", "x", True, '{"a":1}'),)),
    security_schemes='{"oidc":{"openIdConnectSecurityScheme":{"openIdConnectUrl":"http://127.0.0.1/oidc"}}}',
    default_input_modes=("text/plain",),
    signatures=(CardSignature("e30", "c2ln", '{"kid":"k1"}'),),
    icon_url="http://127.0.0.1/icon.png",
)


async def started(data_dir: Path, settings: RegistrySettings = SLOW_LIVENESS) -> Registry:
    registry = Registry(settings, SqliteStore(data_dir, settings.event_retention), clock=SystemClock())
    await registry.start()
    return registry


async def test_committed_agents_and_events_load_unchanged(tmp_path: Path) -> None:
    first = await started(tmp_path)
    kept, _, _ = await first.register("rt-1", CARD, "agent-a")
    await first.register("rt-1", AgentCard(name="b"), "agent-b")
    await first.register("rt-2", AgentCard(name="c", capabilities=("search",)), "agent-c")
    await first.update_status("agent-c", AgentStatus.DEGRADED)
    await first.deregister("agent-b")
    agents = {a.agent_id: a for a in first.list_agents().agents}
    retained = first.hub.log.since(1)
    await first.stop()

    second = await started(tmp_path)
    try:
        assert {a.agent_id: a for a in second.list_agents().agents} == agents
        assert second.get("agent-a").card == kept.card == CARD
        assert second.hub.log.since(1) == retained
        assert second.revision == retained[-1].revision
        assert [found.agent.agent_id for found in second.find("legacy")] == ["agent-a"]
    finally:
        await second.stop()


async def test_deregistered_agent_is_gone_after_reload_but_its_event_keeps_its_last_state(
    tmp_path: Path,
) -> None:
    first = await started(tmp_path)
    agent, _, _ = await first.register("rt", CARD, "gone")
    await first.deregister("gone")
    await first.stop()

    second = await started(tmp_path)
    try:
        assert second.list_agents().agents == []
        (deregistered,) = [e for e in second.hub.log.since(1) if e.type is EventType.AGENT_DEREGISTERED]
        assert deregistered.agent == agent
    finally:
        await second.stop()


async def test_only_the_last_retained_events_are_kept_and_the_compacted_revision_survives(
    tmp_path: Path,
) -> None:
    settings = RegistrySettings(heartbeat_timeout=30, auto_deregister_timeout=60, event_retention=5)
    first = await started(tmp_path, settings)
    for i in range(6):
        await first.register("rt", AgentCard(name=f"n{i}"), f"agent-{i}")
    revision = first.revision  # 1 runtime join + 6 registrations
    await first.stop()

    with sqlite3.connect(tmp_path / DATA_FILE) as db:
        assert db.execute("SELECT min(revision), max(revision), count(*) FROM events").fetchone() == (3, 7, 5)
    second = await started(tmp_path, settings)
    try:
        assert second.hub.log.compacted_revision == revision - 5 == 2
        assert [e.revision for e in second.hub.log.since(3)] == [3, 4, 5, 6, 7]
    finally:
        await second.stop()


async def test_a_gap_in_the_stored_event_log_refuses_to_load(tmp_path: Path) -> None:
    first = await started(tmp_path)
    await first.register("rt", CARD, "a")
    await first.register("rt", CARD, "b")
    await first.stop()
    with sqlite3.connect(tmp_path / DATA_FILE) as db:
        db.execute("DELETE FROM events WHERE revision = 2")

    store = SqliteStore(tmp_path, 1000)
    with pytest.raises(StoreError, match=r"registry\.sqlite3.*gap: revision 3 follows 1"):
        await store.load()


async def test_a_newer_schema_version_refuses_to_load(tmp_path: Path) -> None:
    await (await started(tmp_path)).stop()
    with sqlite3.connect(tmp_path / DATA_FILE) as db:
        db.execute("UPDATE schema_version SET version = 99")

    with pytest.raises(StoreError, match=f"schema version 99, this registryd reads version {SCHEMA_VERSION}"):
        await SqliteStore(tmp_path, 1000).load()


async def test_a_second_store_on_the_same_directory_is_refused_until_the_first_closes(tmp_path: Path) -> None:
    first = SqliteStore(tmp_path, 1000)
    await first.load()
    with pytest.raises(StoreError, match="in use by another registryd"):
        await SqliteStore(tmp_path, 1000).load()
    await first.close()

    again = SqliteStore(tmp_path, 1000)
    await again.load()
    await again.close()


# The schema of registryd 0.1 (version 1): one status per agent, reason 2 (OPERATOR) when an operator set it.
SCHEMA_1 = """CREATE TABLE schema_version (version INTEGER NOT NULL);
CREATE TABLE meta (
    id INTEGER PRIMARY KEY CHECK (id = 0),
    revision INTEGER NOT NULL,
    compacted_revision INTEGER NOT NULL
);
CREATE TABLE agents (
    agent_id TEXT PRIMARY KEY,
    runtime_id TEXT NOT NULL,
    card_name TEXT NOT NULL,
    card_description TEXT NOT NULL,
    card_version TEXT NOT NULL,
    card_url TEXT NOT NULL,
    card_capabilities TEXT NOT NULL,
    card_skills TEXT NOT NULL,
    card_labels TEXT NOT NULL,
    status INTEGER NOT NULL,
    status_reason INTEGER NOT NULL,
    registered_at REAL NOT NULL,
    last_heartbeat REAL NOT NULL,
    status_changed_at REAL NOT NULL,
    revision INTEGER NOT NULL
);
CREATE TABLE events (
    revision INTEGER PRIMARY KEY,
    type INTEGER NOT NULL,
    time REAL NOT NULL,
    agent_id TEXT NOT NULL,
    runtime_id TEXT NOT NULL,
    old_status INTEGER,
    new_status INTEGER,
    status_reason INTEGER,
    deregister_reason INTEGER,
    agent_card_name TEXT,
    agent_card_description TEXT,
    agent_card_version TEXT,
    agent_card_url TEXT,
    agent_card_capabilities TEXT,
    agent_card_skills TEXT,
    agent_card_labels TEXT,
    agent_status INTEGER,
    agent_status_reason INTEGER,
    agent_registered_at REAL,
    agent_last_heartbeat REAL,
    agent_status_changed_at REAL,
    agent_revision INTEGER
);
INSERT INTO schema_version VALUES (1);
INSERT INTO meta VALUES (0, 0, 0);"""


async def test_a_version_1_data_file_is_migrated_with_operator_statuses_as_settings(tmp_path: Path) -> None:
    db = sqlite3.connect(tmp_path / DATA_FILE)
    db.executescript(SCHEMA_1)
    card = ["n", "", "", "http://127.0.0.1:9000/a2a", '["x"]', '[["s","skill","",["t"]]]', "[]"]
    for agent_id, status, reason in (("ok", 1, 1), ("op", 2, 2), ("lost", 3, 5), ("cleared", 1, 2)):
        db.execute(
            "INSERT INTO agents VALUES (?, 'rt', ?, ?, ?, ?, ?, ?, ?, ?, ?, 1.0, 1.0, 1.0, 1)",
            [agent_id, *card, status, reason],
        )
    db.execute("UPDATE meta SET revision = 1, compacted_revision = 1")
    db.commit()
    db.close()
    registry = await started(tmp_path)
    try:
        got = {a.agent_id: (a.status, a.health, a.operator_status) for a in registry.list_agents().agents}
        assert got == {
            "ok": (AgentStatus.ACTIVE, AgentStatus.ACTIVE, None),
            "op": (AgentStatus.DEGRADED, AgentStatus.ACTIVE, AgentStatus.DEGRADED),
            "lost": (AgentStatus.UNHEALTHY, AgentStatus.UNHEALTHY, None),
            "cleared": (AgentStatus.ACTIVE, AgentStatus.ACTIVE, None),
        }
        # Version 2 -> 3: the pre-A2A-1.0 url is the first interface, as A2A's 0.3 -> 1.0 notes say.
        card = registry.get("ok").card
        assert card.supported_interfaces == (
            AgentInterface("http://127.0.0.1:9000/a2a", "JSONRPC", "", "0.3"),
        )
        assert card.capabilities == ("x",) and card.skills == (Skill("s", "skill", "", ("t",)),)
        made = registry.history_id  # version 3 -> 4: the file's history gets its id, once
    finally:
        await registry.stop()
    again = await started(tmp_path)
    await again.stop()
    assert again.history_id == made and len(made) == 32
