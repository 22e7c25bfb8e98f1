"""TLS to etcd: replicas over a real etcd that serves TLS and asks for client certificates (mutual TLS),
with certificates made here; and the configuration mistakes refused before anything starts."""

from __future__ import annotations

import uuid
from dataclasses import replace
from pathlib import Path

import pytest
from agentregistry.v1 import registry_pb2 as pb

from registryd.config import ConfigError, load_config
from registryd.server import Daemon, DaemonError
from scripts.etcd_server import ServerTls, start_etcd
from tests.conftest import FAST
from tests.security.throwaway_pki import CertificateAuthority, Issued
from tests.service.service_support import register


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> tuple[CertificateAuthority, Issued]:
    """A CA, and a client certificate it signed for the replicas."""
    ca = CertificateAuthority(tmp_path_factory.mktemp("pki"), "etcd test CA")
    return ca, ca.client("replica")


def start_tls_etcd(workdir: Path, ca: CertificateAuthority, server: Issued):
    return start_etcd(workdir, tls=ServerTls(server.cert, server.key, client_ca=ca.cert_path))


@pytest.fixture(scope="module")
def mtls_etcd(tmp_path_factory, pki):
    ca, _ = pki
    server = start_tls_etcd(tmp_path_factory.mktemp("etcd-tls"), ca, ca.server("etcd"))
    yield server
    server.stop()


def replica_options(endpoint: str, ca: CertificateAuthority, client: Issued | None) -> dict[str, object]:
    options: dict[str, object] = {
        "store": "etcd",
        "etcd_endpoints": endpoint,
        "etcd_prefix": f"/t-{uuid.uuid4().hex[:12]}",
        "etcd_timeout": 2.0,
        "etcd_ca_file": str(ca.cert_path),
    }
    if client is not None:
        options |= {"etcd_cert_file": str(client.cert), "etcd_key_file": str(client.key)}
    return options


async def test_replicas_share_an_etcd_over_mutual_tls(serve, mtls_etcd, pki):
    ca, client = pki
    options = replica_options(mtls_etcd.endpoint, ca, client)
    a, b = await serve(**options), await serve(**options)
    written = await register(a.stub, "rt", "a1", "python")
    got = await b.stub.GetAgent(pb.GetAgentRequest(agent_id="a1", consistent=True))
    assert got.agent.agent_id == "a1" and got.revision == written.revision


@pytest.mark.parametrize("client", ["no certificate", "plaintext"])
async def test_a_replica_without_a_client_certificate_cannot_start(mtls_etcd, pki, client):
    ca, _ = pki
    options = replica_options(mtls_etcd.endpoint, ca, None)
    if client == "plaintext":
        options = {k: v for k, v in options.items() if k != "etcd_ca_file"}
    daemon = Daemon(replace(FAST, **{**options, "etcd_timeout": 1.0}))  # type: ignore[arg-type]
    with pytest.raises(DaemonError, match="unavailable"):
        await daemon.start()


async def test_the_server_name_names_the_certificate_of_an_etcd_reached_by_address(serve, tmp_path, pki):
    ca, client = pki
    etcd = start_tls_etcd(tmp_path, ca, ca.server("etcd-by-name", dns_names=("etcd.internal",)))
    try:
        options = replica_options(etcd.endpoint, ca, client)
        named = await serve(**options, etcd_server_name="etcd.internal")
        assert (await register(named.stub, "rt", "a1")).created
        unnamed = Daemon(replace(FAST, **{**options, "etcd_timeout": 1.0}))  # type: ignore[arg-type]
        with pytest.raises(DaemonError, match="unavailable"):
            await unnamed.start()  # 127.0.0.1 is not a name the certificate holds
    finally:
        etcd.stop()


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--etcd-ca-file", "/nonexistent/ca.pem"], "etcd_ca_file '/nonexistent/ca.pem': no such file"),
        (["--etcd-key-file", "KEY"], "etcd_cert_file and etcd_key_file go together"),
        (["--etcd-cert-file", "CERT"], "etcd_cert_file and etcd_key_file go together"),
        (["--etcd-server-name", "etcd.internal"], "etcd_server_name is for TLS"),
    ],
)
def test_tls_mistakes_are_config_errors(pki, flags, message):
    _, client = pki
    flags = [{"KEY": str(client.key), "CERT": str(client.cert)}.get(f, f) for f in flags]
    with pytest.raises(ConfigError, match=message):
        load_config(["--store", "etcd", *flags], environ={})
