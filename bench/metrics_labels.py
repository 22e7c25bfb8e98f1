"""Issue 11 item 3, measured: /metrics size after unauthenticated calls to made-up method names.

.venv/bin/python -m bench.metrics_labels
"""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
import urllib.request
from pathlib import Path

import grpc

from registryd.auth import Role, new_token, token_entry
from registryd.config import Config
from registryd.server import Daemon

CALLS = 3000


async def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        tokens = Path(tmp) / "tokens.toml"
        tokens.write_text(token_entry("reader", Role.READER, new_token()[1], ()))
        config = Config(
            listen="127.0.0.1:0", metrics_listen="127.0.0.1:0", auth_tokens=str(tokens), store="memory"
        )
        daemon = Daemon(config)
        address = await daemon.start()
        try:
            sizes = []
            async with grpc.aio.insecure_channel(address) as channel:
                sizes.append(await asyncio.to_thread(scrape_size, daemon.metrics_address))
                for i in range(CALLS):
                    call = channel.unary_unary(f"/agentregistry.v1.RegistryService/Made{i}")
                    with contextlib.suppress(grpc.aio.AioRpcError):
                        await call(b"")
                sizes.append(await asyncio.to_thread(scrape_size, daemon.metrics_address))
            print(
                f"/metrics: {sizes[0] / 1024:.0f} KiB before, {sizes[1] / 1024:.0f} KiB after {CALLS} made-up calls"
            )
        finally:
            await daemon.stop()


def scrape_size(address: str | None) -> int:
    with urllib.request.urlopen(f"http://{address}/metrics", timeout=30) as response:
        return len(response.read())


if __name__ == "__main__":
    asyncio.run(main())
