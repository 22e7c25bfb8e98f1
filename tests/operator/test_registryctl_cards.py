"""`registryctl agents import` and the filter flags of list, find and select. A published A2A card,
fetched from a small HTTP server on loopback (its /.well-known/agent-card.json) or read from a file, is
registered as it is published."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from agentregistry.v1 import registry_pb2 as pb
from agentregistry.v1 import registry_pb2_grpc as pb_grpc
from google.protobuf import json_format
from test_registryctl import registryctl

CARD_FILE = Path(__file__).resolve().parents[1] / "sdk" / "a2a_cards" / "research-assistant.json"


class CardServer(http.server.ThreadingHTTPServer):
    documents: dict[str, bytes]


class Handler(http.server.BaseHTTPRequestHandler):
    server: CardServer

    def do_GET(self) -> None:
        body = self.server.documents.get(self.path)
        self.send_response(200 if body is not None else 404)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body or b"{}")

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def card_server() -> Iterator[tuple[str, dict[str, bytes]]]:
    server = CardServer(("127.0.0.1", 0), Handler)
    server.documents = {}
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", server.documents
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture
def daemon(daemon_process: Callable[..., Any]) -> Iterator[tuple[str, pb_grpc.RegistryServiceStub]]:
    daemon = daemon_process("--store", "memory")
    with grpc.insecure_channel(daemon.address) as channel:
        yield daemon.address, pb_grpc.RegistryServiceStub(channel)


def registered_card(stub: pb_grpc.RegistryServiceStub, agent_id: str) -> dict[str, Any]:
    agent = stub.GetAgent(pb.GetAgentRequest(agent_id=agent_id)).agent
    return json_format.MessageToDict(agent.card)  # type: ignore[no-any-return]


def as_a2a(document: bytes) -> dict[str, Any]:
    """The published card read as A2A's own message reads it (ProtoJSON leaves out false defaults)."""
    return json_format.MessageToDict(json_format.ParseDict(json.loads(document), pb.AgentCard()))  # type: ignore[no-any-return]


def test_import_fetches_the_well_known_card_and_registers_it(
    daemon: tuple[str, Any], card_server: tuple[str, dict[str, bytes]]
) -> None:
    address, stub = daemon
    base, documents = card_server
    published = CARD_FILE.read_bytes()
    documents["/.well-known/agent-card.json"] = published
    imported = registryctl(
        address, "-o", "json", "agents", "import", base, "--runtime", "rt", "--agent-id", "research",
        "--label", "tier=gold",
    )  # fmt: skip
    assert imported.returncode == 0, imported.stderr
    assert json.loads(imported.stdout)["agent_id"] == "research"
    assert registered_card(stub, "research") == as_a2a(published)
    agent = stub.GetAgent(pb.GetAgentRequest(agent_id="research")).agent
    assert dict(agent.labels) == {"tier": "gold"} and agent.runtime_id == "rt"
    documents["/cards/other.json"] = published
    by_path = registryctl(address, "agents", "import", f"{base}/cards/other.json", "--runtime", "rt")
    assert by_path.returncode == 0, by_path.stderr


def test_import_reads_a_file(daemon: tuple[str, Any]) -> None:
    address, stub = daemon
    imported = registryctl(address, "agents", "import", str(CARD_FILE), "--runtime", "rt", "--agent-id", "r")
    assert imported.returncode == 0, imported.stderr
    assert registered_card(stub, "r") == as_a2a(CARD_FILE.read_bytes())


def test_import_refuses_what_is_not_a_card_with_a_clear_error(
    daemon: tuple[str, Any], card_server: tuple[str, dict[str, bytes]], tmp_path: Path
) -> None:
    address, _ = daemon
    base, documents = card_server
    missing = registryctl(address, "agents", "import", f"{base}/nowhere", "--runtime", "rt")
    assert (
        missing.returncode == 2 and "HTTP 404" in missing.stderr and "/nowhere/.well-known" in missing.stderr
    )
    documents["/bad.json"] = b"[1, 2]"
    not_object = registryctl(address, "agents", "import", f"{base}/bad.json", "--runtime", "rt")
    assert not_object.returncode == 2 and "not an agent card" in not_object.stderr
    garbage = tmp_path / "card.json"
    garbage.write_text("{not json")
    unreadable = registryctl(address, "agents", "import", str(garbage), "--runtime", "rt")
    assert unreadable.returncode == 2 and "not an agent card" in unreadable.stderr
    no_file = registryctl(address, "agents", "import", str(tmp_path / "absent.json"), "--runtime", "rt")
    assert no_file.returncode == 2 and "cannot read" in no_file.stderr
    empty = tmp_path / "empty.json"
    empty.write_text("{}")
    refused = registryctl(address, "agents", "import", str(empty), "--runtime", "rt")
    assert refused.returncode == 1 and "INVALID_ARGUMENT" in refused.stderr


def test_list_find_and_select_take_the_filter_flags(daemon: tuple[str, Any]) -> None:
    address, stub = daemon
    for agent_id, labels, tags in (
        ("a", {"tier": "gold"}, ["python"]),
        ("b", {"tier": "gold", "canary": ""}, ["go"]),
    ):
        card = pb.AgentCard(name=agent_id, skills=[pb.Skill(id="s", name="code review", tags=tags)])
        stub.RegisterAgent(
            pb.RegisterAgentRequest(agent_id=agent_id, runtime_id="rt", card=card, labels=labels)
        )
    listed = registryctl(address, "-o", "json", "agents", "list", "--selector", "tier=gold,!canary")
    assert [a["agent_id"] for a in json.loads(listed.stdout)["agents"]] == ["a"]
    found = registryctl(address, "-o", "json", "agents", "find", "--tag", "go")
    assert [m["agent"]["agent_id"] for m in json.loads(found.stdout)["matches"]] == ["b"]
    with_text = registryctl(address, "-o", "json", "agents", "find", "review code", "--selector", "canary")
    assert [m["agent"]["agent_id"] for m in json.loads(with_text.stdout)["matches"]] == ["b"]
    picked = registryctl(address, "agents", "select", "--selector", "!canary")
    assert picked.returncode == 0 and " a " in f" {picked.stdout} "
    empty_value = registryctl(
        address, "-o", "json", "agents", "list", "--selector", "tier="
    )  # valid: no match
    assert empty_value.returncode == 0 and json.loads(empty_value.stdout)["agents"] == []
    refused = registryctl(address, "agents", "find", "--selector", "a in ()")
    assert refused.returncode == 1 and "label_selector" in refused.stderr
