"""A signal while a restart loads its agents ends the load there (at 1M agents it takes half a minute): the
daemon stops without serving, and its data is intact for the next start."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import grpc
from agentregistry.v1 import registry_pb2 as pb
from agentregistry.v1 import registry_pb2_grpc

from registryd.core.model import Agent, AgentCard, AgentStatus, Event, EventType, StatusReason
from registryd.store.sqlite import SqliteStore

AGENTS = 50_000  # a second or more of loading, so that the signal comes midway
PER_RUNTIME = 100


async def fill(data_dir: Path) -> None:
    """Registrations written straight to the store, as a daemon that ran for a while left them."""
    store = SqliteStore(data_dir, event_retention=1000)
    await store.load()
    now = time.time()
    card = AgentCard(name="worker", capabilities=("code review",))
    registered = Agent("", "", card, AgentStatus.ACTIVE, StatusReason.REGISTERED, now, now, now, 0)
    revision = 0
    batch: list[Event] = []
    for i in range(AGENTS):
        runtime_id = f"rt-{i // PER_RUNTIME:04d}"
        if i % PER_RUNTIME == 0:
            revision += 1
            batch.append(Event(revision, EventType.RUNTIME_JOINED, now, runtime_id))
        revision += 1
        agent = replace(registered, agent_id=f"agent-{i:06d}", runtime_id=runtime_id, revision=revision)
        batch.append(Event(revision, EventType.AGENT_REGISTERED, now, runtime_id, agent.agent_id, agent))
        if len(batch) >= 5000:
            await store.append(batch, {})
            batch = []
    await store.append(batch, {})
    await store.close()


def test_sigterm_while_loading_stops_without_serving_and_keeps_the_data(
    tmp_path: Path, daemon_process: Callable[..., Any]
) -> None:
    data = tmp_path / "data"
    asyncio.run(fill(data))
    log_path = tmp_path / "loading.log"
    with log_path.open("wb") as log_file:
        proc = subprocess.Popen(
            [sys.executable, "-m", "registryd", "--listen", "127.0.0.1:0", "--data-dir", str(data)],
            stdout=log_file,
            stderr=subprocess.STDOUT,
            env=os.environ.copy(),
        )
    try:
        deadline = time.monotonic() + 30
        while "loading" not in log_path.read_text() and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.01)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    log = log_path.read_text()
    assert "stopped while loading" in log and "serving" not in log, log

    restarted = daemon_process("--data-dir", str(data))
    with grpc.insecure_channel(restarted.address) as channel:
        stats = registry_pb2_grpc.RegistryServiceStub(channel).GetStats(pb.GetStatsRequest(), timeout=10)
    assert stats.total_agents == AGENTS
