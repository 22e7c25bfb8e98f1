"""A runtime written in Node.js (@grpc/grpc-js, stubs loaded from protos/ at run time) goes through the
whole lifecycle against a registryd process, while this test watches from Python."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import grpc
import pytest
from agentregistry.v1 import registry_pb2 as pb
from agentregistry.v1 import registry_pb2_grpc as pb_grpc

NODE_DIR = Path(__file__).resolve().parent / "node"
STEP_TIMEOUT = 15.0  # seconds for one step of the Node client, including its start-up
# Liveness slow enough that only the stream's end (never a missed heartbeat) can explain a change.
DAEMON_ARGS = ("--store", "memory", "--heartbeat-timeout", "10", "--auto-deregister-timeout", "30")


@pytest.fixture(scope="session")
def node_command() -> list[str]:
    """`node lifecycle.js`, with @grpc/grpc-js installed from npm into tests/interop/node/node_modules."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.skip("the Node.js interop test needs node and npm on PATH")
    if not (NODE_DIR / "node_modules" / "@grpc" / "grpc-js" / "package.json").exists():
        install = subprocess.run(
            [npm, "install", "--no-audit", "--no-fund", "--ignore-scripts"],
            cwd=NODE_DIR,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert install.returncode == 0, f"npm install failed:\n{install.stdout}\n{install.stderr}"
    return [node, str(NODE_DIR / "lifecycle.js")]


class NodeClient:
    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process

    async def step(self, name: str) -> dict[str, Any]:
        """The next step the client reports; it must be `name`."""
        report = await self.step_report()
        assert report["step"] == name, report
        return report

    async def step_report(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        line = await asyncio.wait_for(self.process.stdout.readline(), STEP_TIMEOUT)
        if not line:
            assert self.process.stderr is not None
            stderr = await self.process.stderr.read()
            raise AssertionError(f"the Node client exited early:\n{stderr.decode()}")
        report: dict[str, Any] = json.loads(line)
        return report

    async def reach(self, name: str) -> dict[str, Any]:
        """Steps up to `name` (which must come)."""
        while True:
            report = await self.step_report()
            if report["step"] in (name, "failed"):
                assert report["step"] == name, report
                return report

    async def tell(self, word: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(f"{word}\n".encode())
        await self.process.stdin.drain()


@asynccontextmanager
async def node_client(
    command: list[str], address: str, runtime_id: str, ending: str
) -> AsyncIterator[NodeClient]:
    process = await asyncio.create_subprocess_exec(
        *command,
        address,
        runtime_id,
        ending,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        yield NodeClient(process)
    finally:
        if process.returncode is None:
            process.kill()
        await process.wait()


@asynccontextmanager
async def registry_stub(address: str) -> AsyncIterator[pb_grpc.RegistryServiceStub]:
    async with grpc.aio.insecure_channel(address) as channel:
        yield pb_grpc.RegistryServiceStub(channel)


async def watch_status_changes(
    stub: pb_grpc.RegistryServiceStub, runtime_id: str
) -> grpc.aio.UnaryStreamCall:
    """Status changes of the runtime from now on: list, then subscribe from the listed revision + 1."""
    listed = await stub.ListAgents(pb.ListAgentsRequest(runtime_id=runtime_id))
    assert {a.status for a in listed.agents} == {pb.AGENT_STATUS_ACTIVE}
    call = stub.Subscribe(
        pb.SubscribeRequest(
            runtime_id=runtime_id,
            types=[pb.EVENT_TYPE_AGENT_STATUS_CHANGED],
            from_revision=listed.revision + 1,
        )
    )
    first = await call.read()
    assert first.WhichOneof("kind") == "bookmark"
    return call


async def next_changes(call: grpc.aio.UnaryStreamCall, count: int, within: float) -> list[pb.Event]:
    changes: list[pb.Event] = []

    async def collect() -> None:
        while len(changes) < count:
            message = await call.read()
            if message.WhichOneof("kind") == "event":
                changes.append(message.event)

    await asyncio.wait_for(collect(), within)
    return changes


async def test_node_runtime_lifecycle_with_an_abruptly_destroyed_stream(
    node_command: list[str], daemon_process: Callable[..., Any]
) -> None:
    daemon = daemon_process(*DAEMON_ARGS)
    async with (
        registry_stub(daemon.address) as stub,
        node_client(node_command, daemon.address, "node-rt", "cancel") as node,
    ):
        registered = await node.step("registered")
        refused = await node.step("refused")
        found = await node.step("found")
        replayed = await node.step("replayed")
        streaming = await node.step("streaming")
        runtimes = await stub.ListRuntimes(pb.ListRuntimesRequest())
        changes = await watch_status_changes(stub, "node-rt")

        await node.tell("destroy")
        await node.step("destroyed")
        lost = await next_changes(changes, 2, within=5.0)  # well within the 10 s heartbeat timeout
        await node.tell("deregister")
        deregistered = await node.step("deregistered")
        exit_code = await asyncio.wait_for(node.process.wait(), STEP_TIMEOUT)
        after = await stub.ListRuntimes(pb.ListRuntimesRequest())
        changes.cancel()

    agents = ["node-rt-translator", "node-rt-summarizer"]
    assert registered["agent_ids"] == agents
    assert refused["code"] == "ALREADY_EXISTS"
    assert found["matches"] == [
        {"agent_id": "node-rt-translator", "matched": "Translation", "kind": "MATCH_KIND_EXACT"},
        {"agent_id": "node-rt-summarizer", "matched": "translation review", "kind": "MATCH_KIND_WORD"},
    ]
    assert replayed["types"] == [
        "EVENT_TYPE_RUNTIME_JOINED",
        "EVENT_TYPE_AGENT_REGISTERED",
        "EVENT_TYPE_AGENT_REGISTERED",
    ]
    assert streaming == {"step": "streaming", "bound_agents": 2, "unknown": [], "heartbeat_timeout": 10}
    assert [(r.runtime_id, r.agent_count, r.stream_connected) for r in runtimes.runtimes] == [
        ("node-rt", 2, True)
    ]
    assert sorted(e.agent_id for e in lost) == sorted(agents)
    assert {(e.new_status, e.status_reason) for e in lost} == {
        (pb.AGENT_STATUS_UNHEALTHY, pb.STATUS_REASON_STREAM_LOST)
    }
    assert deregistered["types"][-3:] == [
        "EVENT_TYPE_AGENT_DEREGISTERED",
        "EVENT_TYPE_AGENT_DEREGISTERED",
        "EVENT_TYPE_RUNTIME_LEFT",
    ]
    assert exit_code == 0
    assert list(after.runtimes) == []


async def test_killed_node_runtime_leaves_its_agents_unhealthy(
    node_command: list[str], daemon_process: Callable[..., Any]
) -> None:
    daemon = daemon_process(*DAEMON_ARGS)
    async with (
        registry_stub(daemon.address) as stub,
        node_client(node_command, daemon.address, "doomed-rt", "hold") as node,
    ):
        await node.reach("streaming")
        changes = await watch_status_changes(stub, "doomed-rt")

        node.process.kill()
        lost = await next_changes(changes, 2, within=5.0)
        changes.cancel()
        listed = await stub.ListAgents(pb.ListAgentsRequest(runtime_id="doomed-rt"))
        for agent in listed.agents:
            await stub.DeregisterAgent(
                pb.DeregisterAgentRequest(agent_id=agent.agent_id, runtime_id="doomed-rt")
            )
        after = await stub.ListRuntimes(pb.ListRuntimesRequest())

    assert {(e.agent_id, e.new_status, e.status_reason) for e in lost} == {
        ("doomed-rt-translator", pb.AGENT_STATUS_UNHEALTHY, pb.STATUS_REASON_STREAM_LOST),
        ("doomed-rt-summarizer", pb.AGENT_STATUS_UNHEALTHY, pb.STATUS_REASON_STREAM_LOST),
    }
    assert {a.status for a in listed.agents} == {pb.AGENT_STATUS_UNHEALTHY}
    assert list(after.runtimes) == []
