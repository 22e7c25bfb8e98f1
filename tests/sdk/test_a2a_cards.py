"""A2A 1.0 cards: the specification's own sample cards round-trip through the daemon (SDK and raw gRPC),
0.3 cards are upgraded as A2A's notes say, and the original registry's dict cards keep working."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from agentregistry import AgentCard, RegistryClient
from agentregistry.types import AgentInterface
from agentregistry.v1 import registry_pb2 as pb
from google.protobuf import json_format

# Copied from docs/specification.md of a2aproject/A2A v1.0.1 (section 8.5 and the extensions example; the
# latter's trailing comma removed so it is JSON).
SAMPLES = {
    p.stem: json.loads(p.read_text()) for p in sorted((Path(__file__).parent / "a2a_cards").glob("*.json"))
}


def expected(sample: dict[str, Any]) -> dict[str, Any]:
    """The sample as an A2A 1.0 card: the GeoSpatial sample still spells its requirements in 0.3's
    `security` form, which 1.0 names securityRequirements (a SecurityRequirement's `schemes`); and
    `"required": false` of an extension is the default of a plain bool, which ProtoJSON leaves out."""
    card = json.loads(json.dumps(sample))
    for extension in card.get("capabilities", {}).get("extensions", []):
        if extension.get("required") is False:
            del extension["required"]
    legacy = card.pop("security", [])
    if legacy:
        card["securityRequirements"] = [
            {"schemes": {name: {"list": scopes} for name, scopes in r.items()}} for r in legacy
        ]
    return card


@pytest.mark.parametrize("name", SAMPLES)
async def test_a_sample_card_registered_by_the_sdk_reads_back_as_the_same_a2a_card(
    client: RegistryClient, name: str
) -> None:
    sample = SAMPLES[name]
    await client.register_agent("rt", AgentCard.from_dict(sample), name)
    got = await client.get_agent(name)
    assert got.card.to_dict() == expected(sample)
    # ... and it is a card A2A's own proto reads (ours has the same JSON field names).
    assert json_format.MessageToDict(json_format.ParseDict(got.card.to_dict(), pb.AgentCard())) == expected(
        sample
    )


@pytest.mark.parametrize("name", SAMPLES)
async def test_a_sample_card_registered_over_grpc_as_json_reads_back_the_same(daemon, name: str) -> None:
    stub = daemon.new_stub()
    card = json_format.ParseDict(expected(SAMPLES[name]), pb.AgentCard())
    await stub.RegisterAgent(
        pb.RegisterAgentRequest(runtime_id="rt", agent_id="a", card=card, labels={"t": "1"})
    )
    agent = (await stub.GetAgent(pb.GetAgentRequest(agent_id="a"))).agent
    assert json_format.MessageToDict(agent.card) == expected(SAMPLES[name])
    assert dict(agent.labels) == {"t": "1"}


def test_a_0_3_card_is_upgraded_as_the_a2a_notes_say() -> None:
    card = AgentCard.from_dict(
        {
            "name": "old",
            "protocolVersion": "0.3",
            "url": "https://agent.example.com/a2a",
            "preferredTransport": "GRPC",
            "additionalInterfaces": [{"url": "https://agent.example.com/json", "transport": "HTTP+JSON"}],
            "supportsAuthenticatedExtendedCard": True,
            "capabilities": {"streaming": True},
        }
    )
    assert card.supported_interfaces == (
        AgentInterface("https://agent.example.com/a2a", "GRPC", "", "0.3"),
        AgentInterface("https://agent.example.com/json", "HTTP+JSON", "", "0.3"),
    )
    assert card.to_dict()["capabilities"] == {"streaming": True, "extendedAgentCard": True}
    assert "url" not in card.to_dict() and card.url == "https://agent.example.com/a2a"


def test_snake_case_cards_from_model_dump_read_like_camel_case() -> None:
    camel = SAMPLES["geospatial-route-planner"]
    snake = {
        "name": camel["name"],
        "supported_interfaces": [
            {
                "url": i["url"],
                "protocol_binding": i["protocolBinding"],
                "protocol_version": i["protocolVersion"],
            }
            for i in camel["supportedInterfaces"]
        ],
        "default_input_modes": camel["defaultInputModes"],
        "icon_url": camel["iconUrl"],
        "capabilities": {"push_notifications": True},
    }
    card = AgentCard.from_dict(snake)
    assert card.supported_interfaces == AgentCard.from_dict(camel).supported_interfaces
    assert card.to_dict()["capabilities"] == {"pushNotifications": True}
    assert card.to_dict()["iconUrl"] == camel["iconUrl"]


async def test_an_original_registry_card_keeps_its_phrases_and_labels_beside_the_card(
    client: RegistryClient,
) -> None:
    card = AgentCard.from_dict({"name": "coder", "capability": "code generation", "labels": {"tier": "gold"}})
    await client.register_agent("rt", card, "coder")
    got = await client.get_agent("coder")
    assert got.card.capabilities == ("code generation",) and got.card.labels == {"tier": "gold"}
    assert got.a2a_card["capabilities"] == ["code generation"]  # the original's dict form
    assert got.card.to_dict() == {"name": "coder"}  # the A2A card alone
