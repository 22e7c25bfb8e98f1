"""The SDK's TLS, mTLS and bearer-token options against a daemon that requires them."""

from __future__ import annotations

from pathlib import Path

import pytest
from agentregistry import (
    AgentCard,
    AgentRegistry,
    AgentRegistryConfig,
    PermissionDeniedError,
    RegistryClient,
    UnauthenticatedError,
)

from registryd.auth import Role
from tests.security.security_support import running, write_tokens
from tests.security.throwaway_pki import CertificateAuthority


async def test_registry_over_mtls_with_a_runtime_token(tmp_path: Path) -> None:
    ca = CertificateAuthority(tmp_path)
    server, client = ca.server(), ca.client()
    tokens = write_tokens(
        tmp_path / "tokens.toml",
        {"worker": (Role.RUNTIME, ("rt-*",)), "viewer": (Role.READER, ())},
    )
    async with running(
        tls_cert=str(server.cert),
        tls_key=str(server.key),
        tls_client_ca=str(ca.cert_path),
        auth_tokens=str(tmp_path / "tokens.toml"),
    ) as daemon:
        config = AgentRegistryConfig(
            target=daemon.address,
            root_certificates=ca.cert_path,  # a path ...
            client_certificate=client.cert.read_bytes(),  # ... or PEM bytes
            client_key=str(client.key),
            token=tokens["worker"],
        )
        async with AgentRegistry(config) as registry:
            agent_id = await registry.register_agent({"capability": "x"}, runtime_id="rt-1")
            assert registry.agents[agent_id].runtime_id == "rt-1"
            with pytest.raises(PermissionDeniedError):
                await registry.register_agent({"capability": "x"}, runtime_id="not-mine")

        tls = {"root_certificates": ca.pem, "client_certificate": client.cert, "client_key": client.key}
        async with RegistryClient(daemon.address, token=tokens["viewer"], **tls) as viewer:
            await viewer.wait_ready(10)  # connect (a TLS handshake may be retried under load) first
            assert (await viewer.get_stats()).total_agents == 1
            with pytest.raises(PermissionDeniedError):
                await viewer.register_agent("rt-1", AgentCard(name="x"))
        async with RegistryClient(daemon.address, **tls) as anonymous:
            await anonymous.wait_ready(10)
            with pytest.raises(UnauthenticatedError):
                await anonymous.get_stats()
