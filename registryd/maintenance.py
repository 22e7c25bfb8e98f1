"""`registryd backup` and `registryd restore`: the data directory's maintenance commands."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from registryd.store.backup import backup, restore
from registryd.store.base import StoreError

COMMANDS = ("backup", "restore")


def main(argv: Sequence[str]) -> int:
    p = argparse.ArgumentParser(
        prog="registryd", description="Back up or restore a registryd data directory."
    )
    commands = p.add_subparsers(dest="command", required=True)
    taking = commands.add_parser(
        "backup", help="copy the data file consistently, while the daemon runs or not"
    )
    taking.add_argument("--data-dir", default="registryd-data", help="the daemon's data directory")
    taking.add_argument("out", type=Path, help="the backup file to write (must not exist)")
    putting = commands.add_parser("restore", help="replace the data file with a backup (daemon stopped)")
    putting.add_argument("--data-dir", default="registryd-data", help="the daemon's data directory")
    putting.add_argument("backup", type=Path, help="a file written by `registryd backup`")
    args = p.parse_args(argv)
    try:
        if args.command == "backup":
            revision = backup(Path(args.data_dir), args.out)
            print(f"registryd: backed up revision {revision} of {args.data_dir} to {args.out}")
        else:
            revision = restore(Path(args.data_dir), args.backup)
            print(f"registryd: restored revision {revision} from {args.backup} into {args.data_dir}")
    except StoreError as error:
        print(f"registryd: error: {error}", file=sys.stderr)
        return 1
    return 0
