"""Who may call what: bearer tokens from a TOML file, their roles, and the runtimes a runtime token owns.

The token file holds only SHA-256 hashes, never tokens:

    [[token]]
    name = "worker-eu"            # shows up in logs
    role = "runtime"              # reader | runtime | admin
    sha256 = "<64 hex digits>"    # python -m registryd.auth new-token prints one
    runtimes = ["worker-eu-*"]    # runtime role only: the runtime ids it owns (fnmatch globs)

`python -m registryd.auth new-token --name NAME --role ROLE [--runtime GLOB ...] [--append FILE]` makes a
random token, prints it, and prints (or appends) the entry to add. No gRPC here; registryd.api.auth
applies these rules to calls.
"""

from __future__ import annotations

import argparse
import enum
import hashlib
import hmac
import re
import secrets
import sys
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path


class Role(enum.IntEnum):
    """Each role may do everything the roles below it may."""

    READER = 1
    RUNTIME = 2
    ADMIN = 3


# The least role each RegistryService method needs. A runtime role acts only for runtimes it owns;
# that part needs the registry's state and is decided by Principal.owns where the servicer asks.
METHOD_ROLES: dict[str, Role] = {
    "GetAgent": Role.READER,
    "ListAgents": Role.READER,
    "FindAgents": Role.READER,
    "Subscribe": Role.READER,
    "ListRuntimes": Role.READER,
    "GetStats": Role.READER,
    # Routers: a reservation touches no agent's record, and only its holder knows its id.
    "SelectAgent": Role.READER,
    "ReleaseReservation": Role.READER,
    "RenewReservation": Role.READER,
    "RegisterAgent": Role.RUNTIME,
    "DeregisterAgent": Role.RUNTIME,
    "UpdateAgentStatus": Role.RUNTIME,
    "Heartbeat": Role.RUNTIME,
    "HeartbeatStream": Role.RUNTIME,
}

_HEX_SHA256 = re.compile(r"[0-9a-f]{64}")
_ENTRY_KEYS = {"name", "role", "sha256", "runtimes"}


def caller_name(principal: Principal | None, certificate: str, address: str) -> str:
    """Who holds a stream slot (registryd/core/slots.py): the token, else the client certificate (mTLS
    without tokens), else the peer's address (without its port)."""
    if principal is not None:
        return f"token {principal.name!r}"
    if certificate:
        return f"client certificate {certificate!r}"
    return f"address {address}"


class TokenFileError(Exception):
    """The token file is missing or wrong; the daemon refuses to start."""


@dataclass(frozen=True, slots=True)
class Principal:
    name: str
    role: Role
    runtimes: tuple[str, ...] = ()  # fnmatch globs, for the runtime role

    def may_call(self, method: str) -> bool:
        """Whether the role allows the method at all. Unknown methods need admin."""
        return self.role >= METHOD_ROLES.get(method, Role.ADMIN)

    def owns(self, runtime_id: str) -> bool:
        """Whether this principal may change agents of `runtime_id`."""
        if self.role is Role.ADMIN:
            return True
        return self.role is Role.RUNTIME and any(fnmatchcase(runtime_id, p) for p in self.runtimes)


_SCHEME = "bearer "


def bearer_token(value: object) -> str | None:
    """The token of an `authorization: Bearer <token>` value (gRPC metadata or HTTP header); None for
    anything else."""
    if isinstance(value, str) and value[: len(_SCHEME)].lower() == _SCHEME:
        return value[len(_SCHEME) :].strip()
    return None


def hash_token(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()


class TokenTable:
    """The principals of a token file, looked up by token in constant time."""

    def __init__(self, entries: Sequence[tuple[bytes, Principal]]) -> None:
        self._entries = tuple(entries)

    def __len__(self) -> int:
        return len(self._entries)

    def authenticate(self, token: str) -> Principal | None:
        presented = hash_token(token)
        found: Principal | None = None
        for digest, principal in self._entries:  # no early exit: the time does not depend on which matched
            if hmac.compare_digest(presented, digest):
                found = principal
        return found

    @classmethod
    def load(cls, path: Path) -> TokenTable:
        try:
            with path.open("rb") as handle:
                document = tomllib.load(handle)
        except OSError as error:
            raise TokenFileError(f"cannot read token file {path}: {error.strerror}") from None
        except tomllib.TOMLDecodeError as error:
            raise TokenFileError(f"token file {path} is not valid TOML: {error}") from None
        return cls.parse(document, str(path))

    @classmethod
    def parse(cls, document: dict[str, object], source: str = "token file") -> TokenTable:
        raw = document.get("token")
        if not isinstance(raw, list) or not raw or set(document) != {"token"}:
            raise TokenFileError(f"{source}: expected one or more [[token]] tables and nothing else")
        entries = [_entry(item, f"{source}: token[{i}]") for i, item in enumerate(raw)]
        for kind, values in (("name", [p.name for _, p in entries]), ("sha256", [d for d, _ in entries])):
            if len(set(values)) != len(values):
                raise TokenFileError(f"{source}: two tokens have the same {kind}")
        return cls(entries)


def _entry(item: object, where: str) -> tuple[bytes, Principal]:
    if not isinstance(item, dict):
        raise TokenFileError(f"{where} must be a table")
    unknown = set(item) - _ENTRY_KEYS
    if unknown:
        raise TokenFileError(f"{where} has unknown keys {sorted(unknown)}; allowed: {sorted(_ENTRY_KEYS)}")
    name, role_name, digest = item.get("name"), item.get("role"), item.get("sha256")
    if not isinstance(name, str) or not name:
        raise TokenFileError(f"{where}.name must be a non-empty string")
    roles = [r.name.lower() for r in Role]
    if role_name not in roles:
        raise TokenFileError(f"{where}.role must be one of {', '.join(roles)} (got {role_name!r})")
    if not isinstance(digest, str) or not _HEX_SHA256.fullmatch(digest):
        raise TokenFileError(
            f"{where}.sha256 must be the token's SHA-256 as 64 lowercase hex digits, never the token"
        )
    role = Role[role_name.upper()]
    runtimes = item.get("runtimes", [])
    if role is Role.RUNTIME:
        if (
            not isinstance(runtimes, list)
            or not runtimes
            or not all(isinstance(r, str) and r for r in runtimes)
        ):
            raise TokenFileError(f"{where}.runtimes must list the runtime ids (globs) a runtime token owns")
    elif runtimes:
        raise TokenFileError(f"{where}.runtimes applies to the runtime role only (this one is {role_name})")
    return bytes.fromhex(digest), Principal(name, role, tuple(runtimes))


def new_token() -> tuple[str, str]:
    """A random token and the hex SHA-256 to put in the token file."""
    token = secrets.token_urlsafe(32)
    return token, hash_token(token).hex()


def token_entry(name: str, role: Role, digest: str, runtimes: Sequence[str] = ()) -> str:
    lines = [
        "[[token]]",
        f"name = {_toml_string(name)}",
        f'role = "{role.name.lower()}"',
        f'sha256 = "{digest}"',
    ]
    if runtimes:
        lines.append(f"runtimes = [{', '.join(_toml_string(r) for r in runtimes)}]")
    return "\n".join(lines) + "\n"


def _toml_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m registryd.auth", description="registryd bearer tokens")
    commands = p.add_subparsers(dest="command", required=True)
    new = commands.add_parser("new-token", help="print a new random token and its token-file entry")
    new.add_argument("--name", required=True, help="who holds the token (shows up in logs)")
    new.add_argument("--role", required=True, choices=[r.name.lower() for r in Role])
    new.add_argument(
        "--runtime", action="append", default=[], metavar="GLOB", help="runtime ids it owns (runtime role)"
    )
    new.add_argument("--append", metavar="FILE", help="append the entry to this token file")
    args = p.parse_args(argv)
    role = Role[args.role.upper()]
    if (role is Role.RUNTIME) != bool(args.runtime):
        p.error("--runtime is required for the runtime role and applies to it only")
    token, digest = new_token()
    entry = token_entry(args.name, role, digest, args.runtime)
    print(token)
    if args.append:
        with Path(args.append).open("a", encoding="utf-8") as handle:
            handle.write("\n" + entry)
        print(f"added token {args.name!r} ({args.role}) to {args.append}", file=sys.stderr)
    else:
        print(f"\n# add to the --auth-tokens file (the token above is not stored anywhere):\n{entry}", end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
