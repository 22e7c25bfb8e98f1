"""A signed card's verdict is kept with the agent (etcd rows, SQLite rows): replicas and restarts report
the verdict of the replica that took the card without verifying it again."""

from __future__ import annotations

import json

import pytest
from agentregistry.v1 import registry_pb2 as pb
from joserfc.jwk import ECKey

from tests.service.service_support import STEADY
from tests.service.test_signed_cards import CARD, register, signed


@pytest.fixture
def card_keys(tmp_path):
    """(a JWKS file trusting one key, that key)."""
    key = ECKey.generate_key("P-256", parameters={"kid": "ec"})
    path = tmp_path / "card-keys.json"
    path.write_text(json.dumps({"keys": [key.as_dict(private=False)]}))
    return str(path), key


async def verdicts(stub) -> dict[str, bool]:
    listed = await stub.ListAgents(pb.ListAgentsRequest(consistent=True))
    return {agent.agent_id: agent.verified for agent in listed.agents}


async def test_another_replica_and_a_later_one_report_the_verdict_without_keys_of_their_own(
    serve, etcd, prefix, card_keys
):
    path, key = card_keys
    options = {"store": "etcd", "etcd_endpoints": etcd.endpoint, "etcd_prefix": prefix, **STEADY}
    a = await serve(**options, card_keys=path)
    b = await serve(**options)  # no keys: it could verify nothing itself
    await a.stub.RegisterAgent(register("signed", signed(CARD, key, "ES256")))
    await a.stub.RegisterAgent(register("plain", CARD))
    await b.stub.UpdateAgentStatus(
        pb.UpdateAgentStatusRequest(agent_id="signed", status=pb.AGENT_STATUS_DEGRADED)
    )
    assert await verdicts(a.stub) == await verdicts(b.stub) == {"plain": False, "signed": True}
    await a.daemon.stop()
    later = await serve(**options)
    assert await verdicts(later.stub) == {"plain": False, "signed": True}


async def stored_signed_agent(serve, tmp_path, card_keys) -> dict[str, object]:
    """A sqlite daemon with the keys took a signed card and stopped: the options to start it again."""
    path, key = card_keys
    options = {"store": "sqlite", "data_dir": str(tmp_path / "data"), **STEADY}
    first = await serve(**options, card_keys=path)
    await first.stub.RegisterAgent(register("signed", signed(CARD, key, "ES256")))
    await first.daemon.stop()
    return options


async def test_a_restarted_daemon_reports_the_verdict_it_kept(serve, tmp_path, card_keys):
    options = await stored_signed_agent(serve, tmp_path, card_keys)
    again = await serve(**options)  # without the keys: the kept verdict stands
    assert await verdicts(again.stub) == {"signed": True}


async def test_a_daemon_started_without_the_signers_key_takes_the_mark_away(serve, tmp_path, card_keys):
    options = await stored_signed_agent(serve, tmp_path, card_keys)
    other = ECKey.generate_key("P-256", parameters={"kid": "other"})
    revoked = tmp_path / "revoked.json"
    revoked.write_text(json.dumps({"keys": [other.as_dict(private=False)]}))
    later = await serve(**options, card_keys=str(revoked))  # the signer's key was removed
    assert await verdicts(later.stub) == {"signed": False}
    await later.daemon.stop()
    restored = await serve(**options, card_keys=card_keys[0])
    assert await verdicts(restored.stub) == {"signed": True}
