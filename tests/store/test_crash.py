"""SIGKILL during a write storm, again and again: nothing acknowledged is lost, the event log has no gap.

Each cycle starts the daemon on the same data dir, checks everything acknowledged so far against what it
loaded, lets several client processes (storm_client.py) write concurrently, and kills the daemon with
SIGKILL mid-storm. A client's last call, the one the kill interrupted, may or may not have taken effect;
every acknowledged one must have.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
from agentregistry.v1 import registry_pb2 as pb
from agentregistry.v1 import registry_pb2_grpc
from storm_client import State, state_of

KILL_CYCLES = 10
CLIENTS = 3
TASKS_PER_CLIENT = 4
STORM_SECONDS = (0.2, 0.7)  # how long the storm runs before the kill, drawn per cycle
RETENTION = 1500
STORM_CLIENT = Path(__file__).with_name("storm_client.py")
DAEMON_ARGS = (
    "--heartbeat-timeout",  # nothing may expire during the test: every change is the clients'
    "3600",
    "--auto-deregister-timeout",
    "7200",
    "--event-retention",
    str(RETENTION),
    "--log-level",
    "warning",
)


@dataclass
class Ledger:
    """What the clients were told, and so what a restarted daemon must show."""

    state: dict[str, State | None] = field(default_factory=dict)  # agent -> state (None: deregistered)
    maybe: dict[str, State | None] = field(default_factory=dict)  # outcome of an interrupted call
    runtime_agents: dict[str, set[str]] = field(default_factory=dict)
    acked_revisions: dict[int, str] = field(default_factory=dict)  # agent revision -> agent id
    told_revision: int = 0  # the highest revision an answer reported
    acked: int = 0
    checked: int = 0  # acknowledged writes verified after a restart
    unchecked_acks: int = 0
    interrupted: int = 0  # calls the kill cut off (outcome unknown)
    lost: list[str] = field(default_factory=list)
    unexpected_errors: list[str] = field(default_factory=list)

    def plan(self, client: int, cycle: int) -> dict[str, Any]:
        tasks = []
        for task in range(TASKS_PER_CLIENT):
            runtime_id = f"rt-{client}-{task}"
            agents = {a: self.state[a] for a in sorted(self.runtime_agents.get(runtime_id, ()))}
            tasks.append({"runtime_id": runtime_id, "agents": agents})
        return {"client": client, "cycle": cycle, "tasks": tasks}

    def record(self, runtime_id: str, log: list[dict[str, Any]]) -> None:
        for op in log:
            agent_id = op["agent_id"]
            self.runtime_agents.setdefault(runtime_id, set()).add(agent_id)
            if op["acked"]:
                self.state[agent_id] = op["outcome"]
                self.acked += 1
                self.unchecked_acks += 1
                self.told_revision = max(self.told_revision, op["revision"])
                if op["agent_revision"]:
                    self.acked_revisions[op["agent_revision"]] = agent_id
            elif op["error"]:
                self.unexpected_errors.append(op["error"])
            else:
                self.maybe[agent_id] = op["outcome"]
                self.interrupted += 1

    def verify(self, stub: registry_pb2_grpc.RegistryServiceStub) -> None:
        """Compare the restarted daemon with the ledger, then adopt what it shows for interrupted calls."""
        observed = list_agents(stub)
        for agent_id, expected in self.state.items():
            actual = observed.pop(agent_id, None)
            allowed = [expected] + ([self.maybe[agent_id]] if agent_id in self.maybe else [])
            if not any(same(actual, candidate) for candidate in allowed):
                self.lost.append(f"{agent_id}: acknowledged {expected}, found {actual}")
            self.state[agent_id] = actual
        for agent_id, actual in observed.items():  # registered by an interrupted call only
            if agent_id in self.maybe and same(actual, self.maybe[agent_id]):
                self.state[agent_id] = actual
            else:
                self.lost.append(f"{agent_id}: never acknowledged, found {actual}")
        self.maybe.clear()
        for runtime_id, agents in self.runtime_agents.items():
            self.runtime_agents[runtime_id] = {a for a in agents if self.state.get(a) is not None}
        self.checked += self.unchecked_acks
        self.unchecked_acks = 0


def same(actual: State | None, expected: State | None) -> bool:
    if actual is None or expected is None:
        return actual is expected
    return actual[:4] == expected[:4] and expected[4] in (None, actual[4])


def list_agents(stub: registry_pb2_grpc.RegistryServiceStub) -> dict[str, State]:
    agents: dict[str, State] = {}
    token = ""
    while True:
        page = stub.ListAgents(pb.ListAgentsRequest(page_size=1000, page_token=token), timeout=10)
        agents.update((a.agent_id, state_of(a)) for a in page.agents)
        token = page.next_page_token
        if not token:
            return agents


def check_event_log(stub: registry_pb2_grpc.RegistryServiceStub, ledger: Ledger) -> tuple[int, set[int]]:
    """The retained log runs without a gap from compacted + 1 to the current revision, and each
    acknowledged change still retained is the event at its revision. Returns (events, acked revisions found)."""
    stats = stub.GetStats(pb.GetStatsRequest(), timeout=10)
    assert stats.revision >= ledger.told_revision, "a revision a client was told is gone, to be reused"
    if stats.revision == stats.compacted_revision:
        return 0, set()
    stream = stub.Subscribe(pb.SubscribeRequest(from_revision=stats.compacted_revision + 1), timeout=30)
    revisions = []
    found = set()
    for message in stream:
        if not message.HasField("event"):
            continue
        event = message.event
        revisions.append(event.revision)
        if event.revision in ledger.acked_revisions:
            assert event.agent_id == ledger.acked_revisions[event.revision], (
                f"revision {event.revision} reused"
            )
            found.add(event.revision)
        if event.revision >= stats.revision:
            break
    stream.cancel()
    assert revisions == list(range(stats.compacted_revision + 1, stats.revision + 1)), (
        "the event log has a gap"
    )
    return len(revisions), found


def storm(
    address: str, ledger: Ledger, cycle: int, workdir: Path, clients: list[subprocess.Popen[str]]
) -> None:
    """Starts the clients (into `clients`); returns once all are connected and writing."""
    for client in range(CLIENTS):
        plan_file = workdir / f"plan-{cycle}-{client}.json"
        plan_file.write_text(json.dumps(ledger.plan(client, cycle)))
        clients.append(
            subprocess.Popen(
                [sys.executable, str(STORM_CLIENT), address, str(plan_file)],
                stdout=subprocess.PIPE,
                text=True,
            )
        )
    for client in clients:
        assert client.stdout is not None
        assert client.stdout.readline().strip() == "ready"


def test_sigkill_during_a_write_storm_loses_no_acknowledged_write(daemon_process, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    ledger = Ledger()
    rng = random.Random(4)
    events_checked = 0
    acked_events_found: set[int] = set()
    started = time.monotonic()
    for cycle in range(KILL_CYCLES + 1):
        daemon = daemon_process("--data-dir", str(data_dir), *DAEMON_ARGS)
        with grpc.insecure_channel(daemon.address) as channel:
            stub = registry_pb2_grpc.RegistryServiceStub(channel)
            if cycle:
                ledger.verify(stub)
                events, found = check_event_log(stub, ledger)
                events_checked += events
                acked_events_found |= found
        if cycle == KILL_CYCLES:
            daemon.signal()
            break
        clients: list[subprocess.Popen[str]] = []
        try:
            storm(daemon.address, ledger, cycle, tmp_path, clients)
            time.sleep(rng.uniform(*STORM_SECONDS))  # let the storm run; the kill lands at a random point
            daemon.proc.kill()
            daemon.proc.wait(10)
            for client in clients:
                out, _ = client.communicate(timeout=60)
                assert client.returncode == 0, f"a storm client failed: {out[-2000:]}"
                for runtime_id, log in json.loads(out.splitlines()[-1]).items():
                    ledger.record(runtime_id, log)
        finally:
            for client in clients:
                if client.poll() is None:
                    client.kill()
                    client.wait(10)

    print(
        f"\ncrash test: kill cycles {KILL_CYCLES}, acked writes checked {ledger.checked}, "
        f"writes lost {len(ledger.lost)}, calls cut off by a kill {ledger.interrupted}, "
        f"retained events checked {events_checked} "
        f"(acked changes found at their revision {len(acked_events_found)}), {time.monotonic() - started:.1f} s"
    )
    assert not ledger.unexpected_errors, ledger.unexpected_errors[:5]
    assert ledger.checked == ledger.acked > KILL_CYCLES * 10, (
        "the storm acknowledged too few writes to mean much"
    )
    assert ledger.interrupted >= KILL_CYCLES, "the kills did not land during the storm"
    assert ledger.lost == [], ledger.lost[:10]
