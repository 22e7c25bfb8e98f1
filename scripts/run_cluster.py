"""`make run-cluster`: a local etcd and three registryd replicas on loopback, for trying cluster mode.

The etcd is the dev extras' (or one on PATH), in a temporary directory, on a free port; the replicas
listen on 127.0.0.1:50051-50053 (FIRST_PORT to change). Ctrl-C stops them all and removes the data.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from scripts.etcd_server import start_etcd

REPLICAS = 3


def main() -> None:
    first = int(os.environ.get("FIRST_PORT", "50051"))
    with tempfile.TemporaryDirectory(prefix="registryd-cluster-") as workdir:
        etcd = start_etcd(Path(workdir))
        addresses = [f"127.0.0.1:{first + i}" for i in range(REPLICAS)]
        command = [sys.executable, "-m", "registryd", "--store", "etcd", "--etcd-endpoints", etcd.endpoint]
        replicas = [subprocess.Popen([*command, "--listen", address]) for address in addresses]
        print(f"etcd at {etcd.endpoint}; replicas at {', '.join(addresses)}", flush=True)
        print(f"try: registryctl --target ipv4:{','.join(addresses)} stats", flush=True)
        try:
            while all(replica.poll() is None for replica in replicas):
                time.sleep(0.5)
        except KeyboardInterrupt:
            pass
        finally:
            for replica in replicas:
                if replica.poll() is None:
                    replica.send_signal(signal.SIGTERM)
            for replica in replicas:
                try:
                    replica.wait(10)
                except subprocess.TimeoutExpired:
                    replica.kill()
            etcd.stop()


if __name__ == "__main__":
    main()
