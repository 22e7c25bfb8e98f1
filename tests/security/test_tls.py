"""TLS and mTLS: encrypted serving, and refusal of clients without a certificate the daemon trusts."""

from __future__ import annotations

import grpc
import pytest
import structlog
from agentregistry.v1 import registry_pb2 as pb
from agentregistry.v1 import registry_pb2_grpc as pb_grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from security_support import running
from throwaway_pki import CertificateAuthority

from registryd.config import ConfigError, load_config
from registryd.server import DaemonError
from registryd.transport import is_loopback, warn_if_exposed


@pytest.fixture
def ca(tmp_path):
    return CertificateAuthority(tmp_path)


async def _stats(channel: grpc.aio.Channel) -> pb.GetStatsResponse:
    return await pb_grpc.RegistryServiceStub(channel).GetStats(pb.GetStatsRequest(), timeout=5)


async def test_tls_serves_a_client_that_trusts_the_ca_and_not_a_plaintext_one(ca):
    server = ca.server()
    async with running(tls_cert=str(server.cert), tls_key=str(server.key)) as daemon:
        async with grpc.aio.secure_channel(daemon.address, grpc.ssl_channel_credentials(ca.pem)) as channel:
            assert (await _stats(channel)).total_agents == 0
        async with grpc.aio.insecure_channel(daemon.address) as plain:
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await _stats(plain)
            assert refused.value.code() is grpc.StatusCode.UNAVAILABLE


async def test_tls_client_that_does_not_trust_the_server_certificate_fails(ca, tmp_path):
    server = ca.server()
    stranger = CertificateAuthority(tmp_path, "another CA")
    async with running(tls_cert=str(server.cert), tls_key=str(server.key)) as daemon:
        credentials = grpc.ssl_channel_credentials(stranger.pem)
        async with grpc.aio.secure_channel(daemon.address, credentials) as channel:
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await _stats(channel)
            assert refused.value.code() is grpc.StatusCode.UNAVAILABLE


async def test_mtls_serves_a_client_with_a_trusted_certificate(ca):
    server, client = ca.server(), ca.client()
    config = {"tls_cert": str(server.cert), "tls_key": str(server.key), "tls_client_ca": str(ca.cert_path)}
    async with running(**config) as daemon:
        key, chain = client.pair()
        credentials = grpc.ssl_channel_credentials(ca.pem, private_key=key, certificate_chain=chain)
        async with grpc.aio.secure_channel(daemon.address, credentials) as channel:
            assert (await _stats(channel)).total_agents == 0


@pytest.mark.parametrize("client_cert", ["none", "signed by another CA"])
async def test_mtls_refuses_a_client_without_a_trusted_certificate(ca, tmp_path, client_cert):
    server = ca.server()
    config = {"tls_cert": str(server.cert), "tls_key": str(server.key), "tls_client_ca": str(ca.cert_path)}
    async with running(**config) as daemon:
        if client_cert == "none":
            credentials = grpc.ssl_channel_credentials(ca.pem)
        else:
            key, chain = CertificateAuthority(tmp_path, "another CA").client("intruder").pair()
            credentials = grpc.ssl_channel_credentials(ca.pem, private_key=key, certificate_chain=chain)
        async with grpc.aio.secure_channel(daemon.address, credentials) as channel:
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await _stats(channel)
            assert refused.value.code() is grpc.StatusCode.UNAVAILABLE
            health = health_pb2_grpc.HealthStub(channel)
            with pytest.raises(grpc.aio.AioRpcError):
                await health.Check(health_pb2.HealthCheckRequest(), timeout=5)
        assert daemon.registry.revision == 0


def test_tls_options_must_come_in_working_sets():
    with pytest.raises(ConfigError, match="tls_cert and tls_key go together"):
        load_config(["--tls-cert", "server.crt"], environ={})
    with pytest.raises(ConfigError, match="tls_client_ca"):
        load_config(["--tls-client-ca", "ca.pem"], environ={})


async def test_unreadable_tls_file_stops_the_daemon_with_a_clear_error(tmp_path):
    with pytest.raises(DaemonError, match="cannot read a TLS file"):
        async with running(tls_cert=str(tmp_path / "missing.crt"), tls_key=str(tmp_path / "missing.key")):
            pass


@pytest.mark.parametrize(
    ("files", "complaint"),
    [
        ({"tls_cert": "garbage.pem"}, "not a PEM certificate chain and its private key"),
        ({"tls_key": "client.key"}, "KEY_VALUES_MISMATCH"),
        ({"tls_client_ca": "garbage.pem"}, "not a PEM CA bundle"),
    ],
)
async def test_unusable_tls_files_stop_the_daemon_saying_which(ca, tmp_path, files, complaint):
    server = ca.server()
    ca.client("client")  # tmp_path/client.key: a real key, not the server certificate's
    (tmp_path / "garbage.pem").write_text("not a certificate")
    config = {"tls_cert": str(server.cert), "tls_key": str(server.key)}
    config |= {option: str(tmp_path / name) for option, name in files.items()}
    with pytest.raises(DaemonError, match=complaint):
        async with running(**config):
            pass


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("127.0.0.1", True), ("127.0.0.9", True), ("[::1]", True), ("localhost", True),
     ("0.0.0.0", False), ("[::]", False), ("10.1.2.3", False), ("registry.example", False)],
)  # fmt: skip
def test_loopback_is_told_from_everything_else(host, loopback):
    assert is_loopback(host) is loopback


def test_plaintext_beyond_loopback_logs_a_loud_warning():
    with structlog.testing.capture_logs() as logs:
        warn_if_exposed("0.0.0.0:50051", tls=False)
        warn_if_exposed("127.0.0.1:50051", tls=False)
        warn_if_exposed("0.0.0.0:50051", tls=True)
    assert [(entry["log_level"], entry["address"]) for entry in logs] == [("warning", "0.0.0.0:50051")]
    assert "PLAINTEXT ON A NON-LOOPBACK ADDRESS" in logs[0]["event"]
