"""Assembles the daemon: registry, gRPC server with health, reflection and keepalive, and shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from dataclasses import replace
from pathlib import Path

import grpc
import structlog
from agentregistry.v1 import registry_pb2
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from registryd import collector
from registryd.api import wire
from registryd.api.auth import Authorizer
from registryd.api.servicer import RegistryServicer
from registryd.auth import TokenFileError, TokenTable
from registryd.clock import SystemClock
from registryd.config import Config
from registryd.core.registry import Registry
from registryd.http.server import HttpServer
from registryd.metrics import MetricsServer
from registryd.signing import CardKeyError, card_verifier, load_keys
from registryd.store.base import SharedStore, Store, StoreError
from registryd.store.etcd import EtcdStore
from registryd.store.etcd_client import EtcdOptions, EtcdTls
from registryd.store.memory import MemoryStore
from registryd.store.sqlite import SqliteStore
from registryd.transport import add_port, server_credentials, ssl_context, warn_if_exposed

log = structlog.get_logger("registryd")

SERVICE_NAME = registry_pb2.DESCRIPTOR.services_by_name["RegistryService"].full_name

# Server options, each for a reason:
# - so_reuseport=0: by default a second daemon binds the same port silently and steals half the calls.
# - max_pending_requests: the default (1000) drops a third of a 10k-stream reconnect storm.
# - keepalive: find half-open connections (a runtime's machine vanished) within about a minute, and let
#   clients ping every 10 s without being told off.
SERVER_OPTIONS: list[tuple[str, int]] = [
    ("grpc.so_reuseport", 0),
    ("grpc.server.max_pending_requests", 50_000),
    ("grpc.server.max_pending_requests_hard_limit", 100_000),
    ("grpc.keepalive_time_ms", 30_000),
    ("grpc.keepalive_timeout_ms", 20_000),
    ("grpc.keepalive_permit_without_calls", 1),
    ("grpc.http2.min_recv_ping_interval_without_data_ms", 10_000),
    ("grpc.http2.max_ping_strikes", 0),
]


class DaemonError(Exception):
    """The daemon cannot start (port taken, store unusable); exit code 1."""


def make_store(config: Config) -> Store | SharedStore:
    if config.store == "memory":
        return MemoryStore()
    if config.store == "etcd":
        password = None
        if config.etcd_password_file:
            try:
                password = Path(config.etcd_password_file).read_text().strip()
            except OSError as error:
                raise DaemonError(f"cannot read etcd_password_file: {error}") from None
        endpoints = tuple(e.strip() for e in config.etcd_endpoints.split(","))
        return EtcdStore(
            EtcdOptions(
                endpoints,
                config.etcd_prefix,
                config.etcd_username or None,
                password,
                config.etcd_timeout,
                config.etcd_lease_ttl,
                _etcd_tls(config),
            )
        )
    return SqliteStore(Path(config.data_dir), config.event_retention, config.accept_data_loss)


def _etcd_tls(config: Config) -> EtcdTls | None:
    if not (config.etcd_ca_file or config.etcd_cert_file):
        return None
    files = {"etcd_ca_file": config.etcd_ca_file, "etcd_cert_file": config.etcd_cert_file}
    files["etcd_key_file"] = config.etcd_key_file
    pem: dict[str, bytes | None] = {}
    for name, path in files.items():
        try:
            pem[name] = Path(path).read_bytes() if path else None
        except OSError as error:
            raise DaemonError(f"cannot read {name}: {error}") from None
    return EtcdTls(pem["etcd_ca_file"], pem["etcd_cert_file"], pem["etcd_key_file"], config.etcd_server_name)


def _load_tokens(path: str) -> TokenTable:
    try:
        return TokenTable.load(Path(path))
    except TokenFileError as error:
        raise DaemonError(str(error)) from None


class Daemon:
    def __init__(self, config: Config) -> None:
        self.config = config
        settings = config.registry_settings()
        if config.card_keys:
            try:
                keys = load_keys(Path(config.card_keys))
            except CardKeyError as error:
                raise DaemonError(str(error)) from None
            settings = replace(settings, verify_card=card_verifier(keys))
        self.registry = Registry(
            settings,
            make_store(config),
            self._store_failed,
            clock=SystemClock(),
            on_store_availability=self._store_availability,
        )
        self.authorizer = (
            Authorizer(_load_tokens(config.auth_tokens), SERVICE_NAME) if config.auth_tokens else None
        )
        self.servicer = RegistryServicer(self.registry, config.bookmark_interval, self.authorizer)
        self.health = health.aio.HealthServicer()
        self.metrics = MetricsServer.create() if config.metrics_listen or config.http_listen else None
        self.metrics_address = ""
        self.http: HttpServer | None = None
        self.console_url = ""
        self.server: grpc.aio.Server | None = None
        self.address = ""
        self._stopped = asyncio.Event()

    async def start(self) -> str:
        """Load state, bind and serve. Returns the bound address."""
        await self.load()
        return await self.serve()

    async def load(self) -> None:
        """Load the store into the registry (a slice of agents per turn of the loop: cancellable)."""
        log.info("loading", store=self.config.store)
        try:
            with collector.loading():
                await self.registry.start()
        except StoreError as error:
            raise DaemonError(str(error)) from None
        collector.install()

    async def serve(self) -> str:
        """Bind and serve what `load` loaded. Returns the bound address."""
        # Interceptors run in list order, outermost first: metrics also time calls that later ones refuse.
        interceptors: list[grpc.aio.ServerInterceptor] = []
        if self.metrics is not None:
            interceptors.append(self.metrics.interceptor)
        if self.authorizer is not None:
            interceptors.append(self.authorizer)
        options = [*SERVER_OPTIONS, ("grpc.max_receive_message_length", self.config.max_message_bytes)]
        self.server = grpc.aio.server(interceptors=interceptors, options=options)
        wire.add_servicer(self.servicer, self.server)
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self.server)
        reflection.enable_server_reflection(
            (
                SERVICE_NAME,
                health_pb2.DESCRIPTOR.services_by_name["Health"].full_name,
                reflection.SERVICE_NAME,
            ),
            self.server,
        )
        try:
            credentials = server_credentials(self.config)
        except OSError as error:
            raise DaemonError(f"cannot read a TLS file: {error}") from None
        try:
            port = add_port(self.server, self.config.listen, credentials)
        except RuntimeError as error:
            raise DaemonError(
                f"cannot listen on {self.config.listen}: {error} (is another daemon there?)"
            ) from None
        host = self.config.listen.rpartition(":")[0]
        self.address = f"{host}:{port}"
        await self.server.start()
        if self.metrics is not None:
            self.metrics.watch(self.registry)
        if self.config.metrics_listen and self.metrics is not None:
            try:
                self.metrics_address = self.metrics.start(self.config.metrics_listen)
            except OSError as error:
                await self.stop()
                raise DaemonError(f"cannot serve metrics on {self.config.metrics_listen}: {error}") from None
        if self.config.http_listen:
            await self._start_http(credentials is not None)
        for service in ("", SERVICE_NAME):
            await self.health.set(service, health_pb2.HealthCheckResponse.SERVING)
        if self.config.ready_file:
            await asyncio.to_thread(Path(self.config.ready_file).write_text, self.address)
        log.info(
            "serving",
            address=self.address,
            metrics=self.metrics_address or None,
            console=self.console_url or None,
            transport=("mtls" if self.config.tls_client_ca else "tls") if credentials else "plaintext",
            tokens=len(self.authorizer.tokens) if self.authorizer else None,
            revision=self.registry.revision,
            agents=self.registry.stats().total_agents,
        )
        return self.address

    async def stop(self) -> None:
        """Drain: NOT_SERVING, end streams without changing agents, finish RPCs in flight, flush writes."""
        log.info("draining", grace=self.config.shutdown_grace)
        await self.health.enter_graceful_shutdown()
        await self.servicer.drain()
        if self.http is not None:
            await self.http.stop()
        if self.server is not None:
            await self.server.stop(self.config.shutdown_grace)
        if self.metrics is not None:
            await asyncio.to_thread(self.metrics.stop)
        await self.registry.stop()
        collector.uninstall()
        log.info("stopped", revision=self.registry.revision)
        self._stopped.set()

    async def _start_http(self, tls: bool) -> None:
        listen = self.config.http_listen
        warn_if_exposed(listen, tls=tls)
        self.http = HttpServer(
            self.registry,
            self.authorizer.tokens if self.authorizer else None,
            self.config.bookmark_interval,
            self.metrics.registry if self.metrics else None,
            self.config.shutdown_grace,
        )
        try:
            self.console_url = await self.http.start(listen, ssl_context(self.config))
        except OSError as error:
            self.http = None
            await self.stop()
            raise DaemonError(f"cannot serve HTTP on {listen}: {error}") from None

    def _store_availability(self, available: bool) -> None:
        """Cluster mode: a replica cut off from etcd reports NOT_SERVING until etcd answers again."""
        if self.server is None or self._stopped.is_set():
            return
        status = (
            health_pb2.HealthCheckResponse.SERVING
            if available
            else health_pb2.HealthCheckResponse.NOT_SERVING
        )
        for service in ("", SERVICE_NAME):
            asyncio.get_running_loop().create_task(self.health.set(service, status))

    def _store_failed(self, error: BaseException) -> None:
        log.error("the store failed; stopping so no acknowledged write can be lost", error=str(error))
        asyncio.get_running_loop().create_task(self.stop())

    async def run(self) -> None:
        """Serve until SIGTERM/SIGINT, then drain. A signal while loading ends the load at its next slice
        (a restart with 1M agents loads for half a minute): nothing was served, so nothing is drained."""
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        signalled = asyncio.ensure_future(stop.wait())
        loading = asyncio.ensure_future(self.load())
        await asyncio.wait((loading, signalled), return_when=asyncio.FIRST_COMPLETED)
        if not loading.done():
            loading.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await loading
            await self.registry.stop()
            log.info("stopped while loading")
            return
        try:
            loading.result()
            await self.serve()
        except BaseException:
            signalled.cancel()
            raise
        stopped = asyncio.ensure_future(self._stopped.wait())
        await asyncio.wait((stopped, signalled), return_when=asyncio.FIRST_COMPLETED)
        if not self._stopped.is_set():
            await self.stop()
        stopped.cancel()
        signalled.cancel()
        if self.registry.committer.failure is not None:
            raise DaemonError(f"stopped because the store failed: {self.registry.committer.failure}")
