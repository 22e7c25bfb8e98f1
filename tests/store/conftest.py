from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

Start = Callable[..., Awaitable[object]]


@pytest.fixture
def durable(serve: Start, tmp_path: Path) -> Start:
    """`await durable(**overrides)` starts an in-process daemon on the sqlite store in one data dir, with
    liveness slow enough that nothing expires during a test; start it again after `daemon.stop()` to
    restart on the same data."""

    async def start(**overrides: object) -> object:
        settings: dict[str, object] = {
            "store": "sqlite",
            "data_dir": str(tmp_path / "data"),
            "heartbeat_timeout": 30.0,
            "auto_deregister_timeout": 60.0,
        }
        return await serve(**{**settings, **overrides})

    return start
