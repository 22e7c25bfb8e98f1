"""Signed cards against a real daemon: a card whose JWS signature (detached, over the RFC 8785 form of the
card's JSON without `signatures`) verifies against a key of --card-keys is marked verified, and discovery
can ask for verified agents only. Keys are made here; the signer works from the card's JSON alone."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import rfc8785
from agentregistry import AgentCard, AgentFilter, RegistryClient
from agentregistry.v1 import registry_pb2 as pb
from google.protobuf import json_format
from joserfc import jws
from joserfc.jwk import ECKey, OKPKey, RSAKey

from registryd.config import Config
from registryd.server import Daemon, DaemonError
from registryd.signing import CardKeyError, load_keys

CARD = {
    "name": "Signed coder",
    "description": "Writes code",
    "supportedInterfaces": [{"url": "https://127.0.0.1:9000/a2a", "protocolBinding": "JSONRPC"}],
    "capabilities": {"streaming": True},
    "skills": [{"id": "gen", "name": "Code generation", "tags": ["python"]}],
}


def signed(card: dict[str, Any], key: Any, alg: str) -> dict[str, Any]:
    token = jws.serialize_compact({"alg": alg, "kid": key.kid}, rfc8785.dumps(card), key, algorithms=[alg])
    protected, _, signature = token.split(".")
    return {**card, "signatures": [{"protected": protected, "signature": signature}]}


def register(agent_id: str, card: dict[str, Any]) -> pb.RegisterAgentRequest:
    return pb.RegisterAgentRequest(
        agent_id=agent_id, runtime_id="rt", card=json_format.ParseDict(card, pb.AgentCard())
    )


@pytest.fixture
def keys(tmp_path: Path) -> tuple[Path, dict[str, Any]]:
    made = {
        "ec": ECKey.generate_key("P-256", parameters={"kid": "ec"}),
        "ed": OKPKey.generate_key("Ed25519", parameters={"kid": "ed"}),
        "rsa": RSAKey.generate_key(2048, parameters={"kid": "rsa"}),
        "stranger": ECKey.generate_key("P-256", parameters={"kid": "ec"}),  # same kid, other key
    }
    path = tmp_path / "card-keys.json"
    trusted = [made[name].as_dict(private=False) for name in ("ec", "ed", "rsa")]
    path.write_text(json.dumps({"keys": trusted}))
    return path, made


async def test_signed_cards_are_verified_and_discovery_can_ask_for_them(
    serve: Any, keys: tuple[Path, dict[str, Any]]
) -> None:
    path, made = keys
    running = await serve(card_keys=str(path))
    stub = running.stub
    tampered = signed(CARD, made["ec"], "ES256")
    tampered["description"] = "Writes other code"
    cases = {
        "es256": (signed(CARD, made["ec"], "ES256"), True),
        "ed25519": (signed(CARD, made["ed"], "Ed25519"), True),
        "rs256": (signed(CARD, made["rsa"], "RS256"), True),
        "stranger": (signed(CARD, made["stranger"], "ES256"), False),
        "tampered": (tampered, False),
        "unsigned": (CARD, False),
        "garbage": ({**CARD, "signatures": [{"protected": "e30", "signature": "AAAA"}]}, False),
    }
    for agent_id, (card, _) in cases.items():
        response = await stub.RegisterAgent(register(agent_id, card))
        assert response.agent.verified is cases[agent_id][1], agent_id
        got = (await stub.GetAgent(pb.GetAgentRequest(agent_id=agent_id))).agent
        assert got.verified is cases[agent_id][1], agent_id
    found = await stub.FindAgents(
        pb.FindAgentsRequest(capability="code", filter=pb.AgentFilter(verified=True))
    )
    assert sorted(m.agent.agent_id for m in found.matches) == ["ed25519", "es256", "rs256"]
    listed = await stub.ListAgents(pb.ListAgentsRequest(filter=pb.AgentFilter(verified=True)))
    assert [a.agent_id for a in listed.agents] == ["ed25519", "es256", "rs256"]
    # Re-registering with a card that no longer verifies takes the mark away.
    await stub.RegisterAgent(register("es256", CARD))
    assert not (await stub.GetAgent(pb.GetAgentRequest(agent_id="es256"))).agent.verified


async def test_without_keys_no_agent_is_verified(serve: Any, keys: tuple[Path, dict[str, Any]]) -> None:
    _, made = keys
    running = await serve()
    response = await running.stub.RegisterAgent(register("a", signed(CARD, made["ec"], "ES256")))
    assert not response.agent.verified


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (None, "cannot read"),
        ("{not json", "not a JSON Web Key Set"),
        ('{"keys": []}', "(?i)no keys"),
        ('{"keys": [{"kty": "oct", "k": "c2VjcmV0c2VjcmV0c2VjcmV0"}]}', "symmetric"),
    ],
)
def test_a_bad_key_file_stops_the_daemon_with_a_clear_error(
    tmp_path: Path, content: str | None, says: str
) -> None:
    path = tmp_path / "keys.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(CardKeyError, match=says):
        load_keys(path)
    with pytest.raises(DaemonError, match=says):
        Daemon(Config(store="memory", card_keys=str(path)))


async def test_the_sdk_reads_the_mark(serve: Any, keys: tuple[Path, dict[str, Any]]) -> None:
    path, made = keys
    running = await serve(card_keys=str(path))
    async with RegistryClient(running.address, timeout=5.0) as client:
        result = await client.register_agent(
            "rt", AgentCard.from_dict(signed(CARD, made["ec"], "ES256")), "a"
        )
        assert result.agent.verified
        found = await client.find_agents(filter=AgentFilter(verified=True))
        assert [m.agent.agent_id for m in found.matches] == ["a"]
