"""Builds the etcd client (aetcd) the etcd store and its leases use: the only place one is made, so the
endpoints, TLS and auth are set up once.

aetcd 1.0.0 dials plaintext only: `_TlsClient` is its client with the channel opened over TLS (with a
client certificate for etcd's --client-cert-auth when one is given); everything else is aetcd's."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import aetcd
import grpc
from aetcd import rpc, watcher


@dataclass(frozen=True, slots=True)
class EtcdTls:
    """PEM bytes: the CA that signed etcd's certificate (None: the system's roots) and this replica's
    client certificate and key (for etcd's --client-cert-auth)."""

    ca: bytes | None = None
    cert: bytes | None = None
    key: bytes | None = None
    server_name: str = ""  # the name etcd's certificate must hold, when it names no endpoint's address


@dataclass(frozen=True, slots=True)
class EtcdOptions:
    endpoints: tuple[str, ...] = ("127.0.0.1:2379",)
    prefix: str = "/registryd"
    username: str | None = None
    password: str | None = None
    timeout: float = 2.0  # per request: a cut-off etcd fails writes fast instead of hanging them
    lease_ttl: int = 3  # seconds a dead replica's sessions and leadership outlive it
    tls: EtcdTls | None = None  # None: plaintext


def etcd_client(options: EtcdOptions) -> aetcd.Client:
    # aetcd dials f"{host}:{port}": several members become gRPC's own "ipv4:a:p,b:p" target, whose
    # pick_first policy moves to the next member when the one in use fails.
    target = ",".join(options.endpoints)
    host, _, port = (f"ipv4:{target}" if len(options.endpoints) > 1 else target).rpartition(":")
    settings: dict[str, Any] = {
        "host": host,
        "port": int(port),
        "username": options.username,
        "password": options.password,
        "timeout": options.timeout,
    }
    if options.tls is None:
        return aetcd.Client(**settings)
    tls = options.tls
    channel_options = {"grpc.ssl_target_name_override": tls.server_name} if tls.server_name else {}
    credentials = grpc.ssl_channel_credentials(tls.ca, tls.key, tls.cert)
    return _TlsClient(credentials, options=channel_options, **settings)


class _TlsClient(aetcd.Client):
    def __init__(self, credentials: grpc.ChannelCredentials, **settings: Any) -> None:
        super().__init__(**settings)
        self._credentials = credentials

    async def connect(self) -> None:
        """aetcd.Client.connect (1.0.0), with a secure channel."""
        if self._connected.is_set():
            return
        if self._is_connecting:  # another task is connecting: wait for it
            await asyncio.wait_for(self._connected.wait(), self._connect_wait_timeout)
            return
        try:
            self._is_connecting = True
            target = f"{self._host}:{self._port}"
            self.channel = rpc.secure_channel(target, self._credentials, options=self._options.items())
            if self._username is not None and self._password is not None:
                self.auth_stub = rpc.AuthStub(self.channel)
                request = rpc.AuthenticateRequest(name=self._username, password=self._password)
                answer = await self.auth_stub.Authenticate(request, timeout=self._timeout)
                self.metadata = (("token", answer.token),)
            self.kvstub = rpc.KVStub(self.channel)
            self.clusterstub = rpc.ClusterStub(self.channel)
            self.leasestub = rpc.LeaseStub(self.channel)
            self.maintenancestub = rpc.MaintenanceStub(self.channel)
            self._watcher = watcher.Watcher(
                rpc.WatchStub(self.channel), timeout=self._timeout, metadata=self.metadata
            )
            self._connected.set()
        finally:
            self._is_connecting = False
