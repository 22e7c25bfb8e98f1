"""`registryd` and `python -m registryd`: parse the configuration, then serve until signalled."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Sequence

from registryd import logs, maintenance
from registryd.config import ConfigError, load_config
from registryd.server import Daemon, DaemonError


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] and argv[0] in maintenance.COMMANDS:
        return maintenance.main(argv)
    try:
        config = load_config(argv)
    except ConfigError as error:
        print(f"registryd: error: {error}", file=sys.stderr)
        return 2
    logs.configure(config.log_format, config.log_level)
    try:
        _run(Daemon(config).run())
    except DaemonError as error:
        print(f"registryd: error: {error}", file=sys.stderr)
        return 1
    return 0


def _run(coro: object) -> None:
    try:
        import uvloop
    except ImportError:
        asyncio.run(coro)  # type: ignore[arg-type]
    else:
        uvloop.run(coro)  # type: ignore[arg-type]


if __name__ == "__main__":
    sys.exit(main())
