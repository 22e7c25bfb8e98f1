"""How the daemon listens: plaintext, TLS, or TLS that requires client certificates (mTLS)."""

from __future__ import annotations

import ipaddress
import ssl
from pathlib import Path

import grpc
import structlog

from registryd.config import Config

log = structlog.get_logger("registryd")


def server_credentials(config: Config) -> grpc.ServerCredentials | None:
    """TLS credentials from the configured PEM files; None for plaintext. Raises OSError."""
    if not config.tls_cert:
        return None
    key = Path(config.tls_key).read_bytes()
    chain = Path(config.tls_cert).read_bytes()
    client_ca = Path(config.tls_client_ca).read_bytes() if config.tls_client_ca else None
    _check_pem(config)
    return grpc.ssl_server_credentials(
        [(key, chain)], root_certificates=client_ca, require_client_auth=client_ca is not None
    )


def ssl_context(config: Config) -> ssl.SSLContext | None:
    """The same TLS (and client-certificate) settings for the HTTP listener; None for plaintext."""
    if not config.tls_cert:
        return None
    _check_pem(config)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(config.tls_cert, config.tls_key)
    if config.tls_client_ca:
        context.load_verify_locations(cafile=config.tls_client_ca)
        context.verify_mode = ssl.CERT_REQUIRED
    return context


def _check_pem(config: Config) -> None:
    """gRPC reports unusable PEM files only as a failed bind; the ssl module says what is wrong."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        context.load_cert_chain(config.tls_cert, config.tls_key)
    except ssl.SSLError as error:
        raise OSError(
            f"tls_cert {config.tls_cert} and tls_key {config.tls_key} are not a PEM certificate chain "
            f"and its private key ({error.reason or error})"
        ) from None
    if config.tls_client_ca:
        try:
            context.load_verify_locations(cafile=config.tls_client_ca)
        except ssl.SSLError as error:
            raise OSError(
                f"tls_client_ca {config.tls_client_ca} is not a PEM CA bundle ({error.reason or error})"
            ) from None


def is_loopback(host: str) -> bool:
    host = host.strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a name that may resolve anywhere


def add_port(server: grpc.aio.Server, address: str, credentials: grpc.ServerCredentials | None) -> int:
    """Bind `address`; returns the port."""
    warn_if_exposed(address, tls=credentials is not None)
    if credentials is not None:
        return server.add_secure_port(address, credentials)
    return server.add_insecure_port(address)


def warn_if_exposed(address: str, *, tls: bool) -> None:
    """Plaintext beyond loopback is allowed (a trusted network, a TLS-terminating proxy), and said out loud."""
    if not tls and not is_loopback(address.rpartition(":")[0]):
        log.warning(
            "PLAINTEXT ON A NON-LOOPBACK ADDRESS: anyone on the network can read and forge calls, "
            "bearer tokens included; serve TLS with --tls-cert/--tls-key (and --tls-client-ca for mTLS)",
            address=address,
        )
