"""One configuration object from defaults < TOML file (--config) < REGISTRYD_* environment < flags."""

from __future__ import annotations

import argparse
import ipaddress
import math
import os
import sys
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import MISSING, Field, dataclass, field, fields
from pathlib import Path
from typing import Any

from registryd import __version__
from registryd.core.registry import RegistrySettings
from registryd.core.validation import Limits
from registryd.logs import FORMATS, LEVELS


class ConfigError(Exception):
    """Nonsense configuration; the daemon exits with code 2."""


def _opt(default: Any, help: str, choices: Sequence[str] | None = None) -> Any:
    return field(default=default, metadata={"help": help, "choices": choices})


@dataclass(frozen=True)
class Config:
    listen: str = _opt("127.0.0.1:50051", "address to serve gRPC on (host:port; port 0 picks a free one)")
    metrics_listen: str = _opt("", "serve Prometheus metrics at http://host:port/metrics (empty: off)")
    http_listen: str = _opt(
        "",
        "serve the web console, the JSON API, the event stream and /metrics on host:port over HTTP "
        "(HTTPS with tls_cert; tokens as for gRPC; empty: off)",
    )
    heartbeat_timeout: float = _opt(30.0, "seconds without a heartbeat before an agent turns UNHEALTHY")
    auto_deregister_timeout: float = _opt(60.0, "seconds without a heartbeat before an agent is deregistered")
    event_queue_size: int = _opt(100, "events a subscriber may fall behind before it is cut off")
    event_retention: int = _opt(10_000, "events retained for Subscribe(from_revision) resume")
    bookmark_interval: float = _opt(5.0, "seconds between bookmarks on an idle Subscribe stream")
    expiry_guard_threshold: float = _opt(0.5, "share of stale agents that pauses deregistration (1 disables)")
    expiry_guard_min_agents: int = _opt(10, "the expiry guard applies only from this many agents on")
    expiry_guard_max_hold: float = _opt(
        -1.0, "seconds the guard may hold expiry (negative: auto_deregister_timeout)"
    )
    rebind_grace: float = _opt(
        5.0,
        "after a restart, seconds a runtime that held a heartbeat stream has to bind again before its "
        "agents turn UNHEALTHY",
    )
    bind_timeout: float = _opt(
        10.0, "seconds a heartbeat stream may stay open without binding a runtime before it is ended"
    )
    min_heartbeat_timeout: float = _opt(
        -1.0,
        "shortest heartbeat timeout a runtime may ask for (negative: 1 s, or heartbeat_timeout if shorter)",
    )
    max_heartbeat_timeout: float = _opt(3600.0, "longest heartbeat timeout a runtime may ask for")
    max_auto_deregister_timeout: float = _opt(
        86400.0, "longest auto-deregister timeout a runtime may ask for"
    )
    shutdown_grace: float = _opt(2.0, "seconds to let RPCs in flight finish on SIGTERM/SIGINT")
    log_format: str = _opt("console", "log line format", FORMATS)
    log_level: str = _opt("info", "lowest level logged", LEVELS)
    store: str = _opt(
        "sqlite",
        "where state is kept: sqlite (a file in data_dir), memory (lost on exit), or etcd (cluster mode: "
        "any number of replicas share the etcd cluster at etcd_endpoints)",
        ("sqlite", "memory", "etcd"),
    )
    etcd_endpoints: str = _opt(
        "127.0.0.1:2379", "etcd members for --store etcd, host:port,... (several: IP addresses, fail-over)"
    )
    etcd_prefix: str = _opt("/registryd", "key prefix in etcd: several registries can share one etcd")
    etcd_username: str = _opt("", "etcd user for --store etcd (with etcd_password_file; empty: no auth)")
    etcd_password_file: str = _opt("", "file holding the etcd user's password")
    etcd_ca_file: str = _opt(
        "", "PEM CA bundle that signed etcd's certificate: talk TLS to etcd (empty: plaintext)"
    )
    etcd_cert_file: str = _opt(
        "", "PEM client certificate for an etcd that asks for one (with etcd_key_file; implies TLS)"
    )
    etcd_key_file: str = _opt("", "PEM private key of etcd_cert_file")
    etcd_server_name: str = _opt(
        "", "name etcd's certificate must hold, when it does not hold the endpoints' addresses"
    )
    etcd_timeout: float = _opt(
        2.0, "seconds an etcd request may take before a write is refused (UNAVAILABLE)"
    )
    etcd_lease_ttl: int = _opt(
        3,
        "seconds a dead replica's lease outlives it: its runtimes' agents turn UNHEALTHY (unless they "
        "re-bound elsewhere) and another replica takes over leadership within this + 1 s",
    )
    data_dir: str = _opt(
        "registryd-data", "directory of the sqlite store (relative to the working directory)"
    )
    accept_data_loss: bool = _opt(
        False,
        "start even from a data file that lost data (empty, rewound, copied without its -wal), serving "
        "what it holds; for one start, after reading why the daemon refused",
    )
    ready_file: str = _opt(
        "", "write the bound address to this file once serving (for supervisors and tests)"
    )
    tls_cert: str = _opt("", "PEM certificate chain: serve TLS (with tls_key); empty serves plaintext")
    tls_key: str = _opt("", "PEM private key of tls_cert")
    tls_client_ca: str = _opt("", "PEM CA bundle: require client certificates it signed (mTLS)")
    auth_tokens: str = _opt("", "TOML file of bearer tokens and their roles (empty: no authentication)")
    card_keys: str = _opt(
        "",
        "JSON Web Key Set file of public keys that sign agent cards: an agent whose card has a signature "
        "that verifies against one is marked verified (empty: none is)",
    )
    max_message_bytes: int = _opt(4 * 1024 * 1024, "largest request message accepted, in bytes")
    limits: Limits = field(default_factory=Limits)

    def registry_settings(self) -> RegistrySettings:
        return RegistrySettings(
            heartbeat_timeout=self.heartbeat_timeout,
            auto_deregister_timeout=self.auto_deregister_timeout,
            event_queue_size=self.event_queue_size,
            event_retention=self.event_retention,
            expiry_guard_threshold=self.expiry_guard_threshold,
            expiry_guard_min_agents=self.expiry_guard_min_agents,
            expiry_guard_max_hold=None if self.expiry_guard_max_hold < 0 else self.expiry_guard_max_hold,
            rebind_grace=self.rebind_grace,
            bind_timeout=self.bind_timeout,
            min_heartbeat_timeout=None if self.min_heartbeat_timeout < 0 else self.min_heartbeat_timeout,
            max_heartbeat_timeout=self.max_heartbeat_timeout,
            max_auto_deregister_timeout=self.max_auto_deregister_timeout,
            limits=self.limits,
        )

    def _check_etcd(self) -> None:
        endpoints = self.etcd_endpoints.split(",")
        for endpoint in endpoints:
            _check_address("etcd_endpoints", endpoint.strip())
        if len(endpoints) > 1 and any(not _is_ip(e.strip().rpartition(":")[0]) for e in endpoints):
            raise ConfigError("etcd_endpoints: several endpoints must be IP addresses (host:port,...)")
        if not self.etcd_prefix.startswith("/") or not self.etcd_prefix.strip("/"):
            raise ConfigError(f"etcd_prefix must start with / and name something (got {self.etcd_prefix!r})")
        if bool(self.etcd_username) != bool(self.etcd_password_file):
            raise ConfigError("etcd_username and etcd_password_file go together")
        if not 1 <= self.etcd_lease_ttl <= 600:
            raise ConfigError(f"etcd_lease_ttl must be within 1 and 600 seconds (got {self.etcd_lease_ttl})")
        if self.etcd_timeout <= 0:
            raise ConfigError(f"etcd_timeout must be positive (got {self.etcd_timeout})")
        if bool(self.etcd_cert_file) != bool(self.etcd_key_file):
            raise ConfigError("etcd_cert_file and etcd_key_file go together: give both, or neither")
        if self.etcd_server_name and not (self.etcd_ca_file or self.etcd_cert_file):
            raise ConfigError("etcd_server_name is for TLS: give etcd_ca_file (or etcd_cert_file) too")
        for name in ("etcd_ca_file", "etcd_cert_file", "etcd_key_file"):
            path = getattr(self, name)
            if path and not Path(path).is_file():
                raise ConfigError(f"{name} {path!r}: no such file")

    def validate(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, float) and not (math.isfinite(value) and abs(value) <= MAX_SECONDS):
                raise ConfigError(
                    f"{f.name} must be a finite number of at most {MAX_SECONDS:g} (got {value!r})"
                )
        if self.max_message_bytes > MAX_MESSAGE_BYTES:
            raise ConfigError(
                f"max_message_bytes must be at most {MAX_MESSAGE_BYTES} (got {self.max_message_bytes})"
            )
        if self.ready_file and not Path(self.ready_file).parent.is_dir():
            raise ConfigError(f"ready_file {self.ready_file!r}: its directory does not exist")
        try:
            self.registry_settings()
        except ValueError as error:
            raise ConfigError(str(error)) from None
        _check_address("listen", self.listen)
        for name in ("metrics_listen", "http_listen"):
            if getattr(self, name):
                _check_address(name, getattr(self, name))
        if self.store == "etcd":
            self._check_etcd()
        if bool(self.tls_cert) != bool(self.tls_key):
            raise ConfigError("tls_cert and tls_key go together: give both to serve TLS, or neither")
        if self.tls_client_ca and not self.tls_cert:
            raise ConfigError("tls_client_ca (mTLS) needs tls_cert and tls_key as well")
        if self.max_message_bytes < 1024:
            raise ConfigError(f"max_message_bytes must be at least 1024 (got {self.max_message_bytes})")
        if self.bookmark_interval <= 0:
            raise ConfigError(f"bookmark_interval must be positive (got {self.bookmark_interval})")
        if self.shutdown_grace < 0:
            raise ConfigError(f"shutdown_grace must not be negative (got {self.shutdown_grace})")
        if self.expiry_guard_min_agents < 0:
            raise ConfigError(
                f"expiry_guard_min_agents must not be negative (got {self.expiry_guard_min_agents})"
            )
        for f in fields(self):
            choices = f.metadata.get("choices")
            if choices and getattr(self, f.name) not in choices:
                raise ConfigError(
                    f"{f.name} must be one of {', '.join(choices)} (got {getattr(self, f.name)!r})"
                )


MAX_SECONDS = 1e9  # about 31 years: beyond it timers and clocks overflow or lose all precision
MAX_MESSAGE_BYTES = 2**31 - 1  # gRPC's message size options are 32-bit signed


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def _check_address(name: str, address: str) -> None:
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit() or int(port) > 65535:
        raise ConfigError(f"{name} must be host:port (got {address!r})")


def _daemon_options() -> list[Field[Any]]:
    return [f for f in fields(Config) if f.name != "limits"]


def _limit_options() -> list[Field[Any]]:
    """Every Limits field is an option of the same name, in the same namespace as the others."""
    return list(fields(Limits))


def env_name(name: str) -> str:
    return f"REGISTRYD_{name.upper()}"


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="registryd",
        description="gRPC coordination daemon for distributed AI-agent systems.",
        epilog="Every option also reads REGISTRYD_<OPTION> from the environment, and a --config TOML file.",
    )
    p.add_argument("--version", action="version", version=f"registryd {__version__}")
    p.add_argument(
        "--config", metavar="FILE", help="TOML file with any of the options below (snake_case keys)"
    )
    limits = p.add_argument_group(
        "limits", "beyond a limit a call gets INVALID_ARGUMENT or RESOURCE_EXHAUSTED"
    )
    for group, options in ((p, _daemon_options()), (limits, _limit_options())):
        for f in options:
            group.add_argument(
                f"--{f.name.replace('_', '-')}",
                dest=f.name,
                default=argparse.SUPPRESS,
                metavar=f.type.upper() if isinstance(f.type, str) and f.type != "bool" else None,
                **({"nargs": "?", "const": "true"} if f.type == "bool" else {}),  # --flag means true
                help=f"{f.metadata['help']} [env {env_name(f.name)}; default {f.default!r}]",
            )
    return p


def load_config(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> Config:
    environ = os.environ if environ is None else environ
    args = vars(parser().parse_args(argv))
    raw: dict[str, Any] = {}
    config_file = args.pop("config", None) or environ.get("REGISTRYD_CONFIG")
    if config_file:
        raw.update(_read_file(Path(config_file)))
    known = {f.name: f for f in (*_daemon_options(), *_limit_options())}
    raw.update({name: environ[env_name(name)] for name in known if env_name(name) in environ})
    unknown = sorted(
        n for n in environ if n.startswith("REGISTRYD_") and n[10:].lower() not in (*known, "config")
    )
    if unknown:  # a warning, not an error: tools around the daemon may use the prefix for their own settings
        print(f"registryd: warning: ignoring unknown variables {', '.join(unknown)}", file=sys.stderr)
    raw.update(args)
    values = {}
    for name, value in raw.items():
        if name not in known:
            raise ConfigError(f"unknown option {name!r} in {config_file}")
        value = _coerce(name, value, known[name].default)
        if known[name].metadata.get("choices") and isinstance(value, str):
            value = value.lower()
        values[name] = value
    limit_names = {f.name for f in _limit_options()}
    try:
        limits = Limits(**{k: v for k, v in values.items() if k in limit_names})
    except ValueError as error:
        raise ConfigError(str(error)) from None
    config = Config(**{k: v for k, v in values.items() if k not in limit_names}, limits=limits)
    config.validate()
    return config


def _read_file(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except OSError as error:
        raise ConfigError(f"cannot read config file {path}: {error.strerror}") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"config file {path} is not valid TOML: {error}") from None


def _coerce(name: str, value: Any, default: Any) -> Any:
    kind = type(default) if default is not MISSING else str
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if isinstance(value, kind) and not (kind is int and isinstance(value, bool)):
        return value
    if not isinstance(value, str):  # from TOML: a value of another type is a mistake, not a spelling
        raise ConfigError(f"{name} must be {_KIND_NAMES.get(kind, kind.__name__)} (got {value!r})")
    try:
        if kind is bool:
            if str(value).lower() in ("1", "true", "yes", "on"):
                return True
            if str(value).lower() in ("0", "false", "no", "off", ""):
                return False
            raise ValueError
        if kind is int and isinstance(value, float):
            raise ValueError
        return kind(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{name} must be {_KIND_NAMES.get(kind, kind.__name__)} (got {value!r})") from None


_KIND_NAMES = {int: "an integer", float: "a number", str: "a string", bool: "true or false"}
