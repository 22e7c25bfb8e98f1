"""Shared fixtures: a daemon in this process (fast, for service tests) and a daemon process (for
signals, restarts, CLI and cross-language tests). Both listen on a free loopback port and are always
stopped."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import grpc
import pytest
from agentregistry.v1 import registry_pb2_grpc

from registryd.config import Config
from registryd.server import Daemon

ROOT = Path(__file__).resolve().parent.parent

# Tenth-of-a-second liveness for time-based tests.
FAST = Config(
    listen="127.0.0.1:0",
    heartbeat_timeout=0.3,
    auto_deregister_timeout=0.8,
    bookmark_interval=0.2,
    shutdown_grace=0.5,
    log_level="warning",
    store="memory",
)


@dataclass
class Running:
    """A daemon serving in this test's event loop."""

    daemon: Daemon
    address: str
    channel: grpc.aio.Channel
    stub: registry_pb2_grpc.RegistryServiceStub
    channels: list[grpc.aio.Channel] = field(default_factory=list)

    def new_stub(self) -> registry_pb2_grpc.RegistryServiceStub:
        """A stub on a connection of its own (closed at teardown)."""
        channel = grpc.aio.insecure_channel(self.address)
        self.channels.append(channel)
        return registry_pb2_grpc.RegistryServiceStub(channel)


@pytest.fixture
async def serve() -> AsyncIterator[Callable[..., object]]:
    """`await serve(**config_overrides)` starts a daemon on a free port; all are stopped at teardown."""
    running: list[Running] = []

    async def start(**overrides: object) -> Running:
        daemon = Daemon(replace(FAST, **overrides))  # type: ignore[arg-type]
        address = await daemon.start()
        channel = grpc.aio.insecure_channel(address)
        await asyncio.wait_for(channel.channel_ready(), 5)
        r = Running(daemon, address, channel, registry_pb2_grpc.RegistryServiceStub(channel), [channel])
        running.append(r)
        return r

    yield start
    for r in running:
        for channel in r.channels:
            await channel.close()
        if r.daemon.server is not None:
            await r.daemon.stop()


@pytest.fixture
async def daemon(serve: Callable[..., object]) -> Running:
    """A daemon with fast liveness settings."""
    return await serve()  # type: ignore[no-any-return,misc]


@dataclass
class DaemonProcess:
    """`registryd` as a separate process."""

    proc: subprocess.Popen[bytes]
    address: str
    args: list[str]
    log_path: Path
    exited: bool = field(default=False)

    def signal(self, sig: int = signal.SIGTERM, timeout: float = 10.0) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        return self.proc.wait(timeout)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def start_process(
    args: list[str], workdir: Path, env: dict[str, str] | None = None, timeout: float = 15.0
) -> DaemonProcess:
    ready = workdir / f"ready-{time.monotonic_ns()}"
    log_path = workdir / f"registryd-{time.monotonic_ns()}.log"
    full_args = [
        sys.executable,
        "-m",
        "registryd",
        "--listen",
        "127.0.0.1:0",
        "--ready-file",
        str(ready),
        *args,
    ]
    with log_path.open("wb") as log_file:
        proc = subprocess.Popen(
            full_args,
            cwd=workdir,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {})},
        )
    deadline = time.monotonic() + timeout
    while not ready.exists() or not ready.read_text():
        if proc.poll() is not None:
            raise RuntimeError(f"registryd exited with {proc.returncode}:\n{log_path.read_text()}")
        if time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"registryd did not become ready:\n{log_path.read_text()}")
        time.sleep(0.02)
    return DaemonProcess(proc, ready.read_text(), full_args, log_path)


@pytest.fixture
def daemon_process(tmp_path: Path) -> Iterator[Callable[..., DaemonProcess]]:
    """`daemon_process(*args)` runs `python -m registryd` on a free port; all are killed at teardown."""
    started: list[DaemonProcess] = []

    def start(*args: str, env: dict[str, str] | None = None) -> DaemonProcess:
        process = start_process(list(args), tmp_path, env)
        started.append(process)
        return process

    yield start
    for process in started:
        if process.proc.poll() is None:
            process.proc.kill()
            process.proc.wait(10)
