"""What every example shares: where the daemon is (--target, else $AGENTREGISTRY_TARGET, else the
address `make run` listens on) and a way to wait for something with a deadline."""

from __future__ import annotations

import argparse
import asyncio
import os
import time
from collections.abc import Callable

DEFAULT_TARGET = "127.0.0.1:50051"


def parse_args(description: str, argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(
        "--target",
        default=os.environ.get("AGENTREGISTRY_TARGET", DEFAULT_TARGET),
        help=f"registryd address (env AGENTREGISTRY_TARGET; default {DEFAULT_TARGET})",
    )
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


async def wait_until(condition: Callable[[], bool], what: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit(f"gave up waiting for {what} after {timeout} s")
        await asyncio.sleep(0.02)
