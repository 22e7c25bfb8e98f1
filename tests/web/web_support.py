"""Helpers for the HTTP and browser tests: a daemon with its HTTP listener, token files, gRPC writes."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable
from pathlib import Path

import grpc
import pytest
from agentregistry.v1 import registry_pb2 as pb
from agentregistry.v1 import registry_pb2_grpc as pb_grpc

from registryd.auth import Role, new_token, token_entry

# Liveness far beyond any test's duration: only a lost stream or an operator changes a status.
STEADY: dict[str, object] = {"heartbeat_timeout": 60.0, "auto_deregister_timeout": 120.0}

# Debian's chromium, as the browser tests need it: no sandbox (root in a container), nothing fetched.
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium() -> str:
    """The Chromium to drive. Skips (saying why) without one, except in CI, which must run these tests."""
    path = (
        os.environ.get("REGISTRYD_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    )
    if path:
        return path
    if os.environ.get("CI") == "true":
        pytest.fail("CI must run the browser tests, but no chromium is installed (.ci/run installs it)")
    pytest.skip(
        "browser tests skipped: no Chromium found (apt-get install chromium, or set REGISTRYD_CHROMIUM)"
    )


def write_tokens(path: Path, holders: dict[str, Role]) -> dict[str, str]:
    """A token file with one token per holder; returns holder -> token."""
    tokens: dict[str, str] = {}
    entries = []
    for name, role in holders.items():
        tokens[name], digest = new_token()
        entries.append(token_entry(name, role, digest, ("*",) if role is Role.RUNTIME else ()))
    path.write_text("\n".join(entries))
    return tokens


def card(
    name: str, capabilities: Iterable[str] = ("x",), labels: dict[str, str] | None = None, **more: str
) -> pb.AgentCard:
    return pb.AgentCard(name=name, capability_phrases=list(capabilities), labels=labels or {}, **more)


async def register(
    stub: pb_grpc.RegistryServiceStub,
    runtime_id: str,
    agent_id: str,
    agent_card: pb.AgentCard,
    token: str = "",
) -> pb.RegisterAgentResponse:
    metadata = (("authorization", f"Bearer {token}"),) if token else None
    request = pb.RegisterAgentRequest(runtime_id=runtime_id, agent_id=agent_id, card=agent_card)
    return await stub.RegisterAgent(request, metadata=metadata)  # type: ignore[no-any-return]


async def bind(
    stub: pb_grpc.RegistryServiceStub, runtime_id: str, token: str = ""
) -> grpc.aio.StreamStreamCall:
    """A heartbeat stream bound to all of `runtime_id`'s agents (cancel it to lose them)."""
    metadata = (("authorization", f"Bearer {token}"),) if token else None
    call = stub.HeartbeatStream(metadata=metadata)
    await call.write(pb.HeartbeatStreamRequest(sequence=1, bind=pb.Bind(runtime_id=runtime_id)))
    await call.read()
    return call
