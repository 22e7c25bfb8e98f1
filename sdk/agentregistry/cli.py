"""registryctl: the operator's command line for registryd, built on `RegistryClient`.

Every connection option also reads REGISTRYCTL_<OPTION> from the environment (flags win). Results are
tables by default and JSON with `--output json` (before or after the subcommand); errors are one line on
stderr naming the gRPC code, a JSON document in JSON mode.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import replace
from importlib.metadata import version
from pathlib import Path

from agentregistry.backoff import Backoff
from agentregistry.cli_output import Output
from agentregistry.client import LOAD_BALANCING, RegistryClient
from agentregistry.types import (
    AgentCard,
    AgentMetadata,
    AgentStatus,
    Bookmark,
    RegistryError,
    RegistryEventType,
    RegistryUnavailableError,
    RevisionCompactedError,
    SelectionStrategy,
    ServingStatus,
    SubscriberOverflowError,
)
from registryd.core.filters import AgentFilter

EXIT_OK = 0
EXIT_REFUSED = 1  # the daemon answered with an error status (`agents select`: no agent fits)
EXIT_USAGE = 2  # bad flags or values, unreadable files (argparse uses 2 as well)
EXIT_UNREACHABLE = 3  # UNAVAILABLE or DEADLINE_EXCEEDED: not reachable, shutting down, or too slow
EXIT_NOT_SERVING = 4  # `health`: the daemon answered but is not SERVING
EXIT_INTERRUPTED = 130  # Ctrl-C

EXIT_CODES = f"""exit codes:
  {EXIT_OK}    success
  {EXIT_REFUSED}    the daemon refused the call (the error line names the gRPC code)
  {EXIT_USAGE}    bad usage: unknown flag, bad value, unreadable file
  {EXIT_UNREACHABLE}    the daemon could not be reached, is shutting down, or did not answer in time
  {EXIT_NOT_SERVING}    health: the daemon answered but is not SERVING
  {EXIT_INTERRUPTED}  interrupted (Ctrl-C)"""

Command = Callable[[RegistryClient, argparse.Namespace, Output], Awaitable[int]]


class UsageError(Exception):
    """A flag's value cannot be used; exit code 2."""


def _status(value: str) -> AgentStatus:
    try:
        status = AgentStatus(value.lower())
    except ValueError:
        status = AgentStatus.UNKNOWN
    if status is AgentStatus.UNKNOWN:
        choices = ", ".join(s.value for s in AgentStatus.known())
        raise argparse.ArgumentTypeError(f"unknown status {value!r} (choose from {choices})")
    return status


def _whole_number(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        number = -1
    if number < 0:
        raise argparse.ArgumentTypeError(f"must be a whole number, 0 or more (got {value!r})")
    return number


def _event_type(value: str) -> RegistryEventType:
    choices = RegistryEventType.daemon_types()
    if value.lower() not in choices:
        names = ", ".join(t.value for t in choices)
        raise argparse.ArgumentTypeError(f"unknown event type {value!r} (choose from {names})")
    return RegistryEventType(value.lower())


# ---------------------------------------------------------------------------------------- commands


def _add_filter_flags(command: argparse.ArgumentParser) -> None:
    """AgentFilter's fields as flags (see the README's filter table)."""
    group = command.add_argument_group("filters (all must hold)")
    for flag, help in (
        ("--skill-id", "a skill with this id"),
        ("--tag", "a skill with this tag"),
        ("--input-mode", "accepts this media type"),
        ("--output-mode", "produces this media type"),
        ("--binding", "an interface with this protocol binding (JSONRPC, GRPC, HTTP+JSON)"),
    ):
        group.add_argument(flag, action="append", default=[], help=f"{help} (repeatable)")
    group.add_argument("--provider", default="", help="the provider's organization")
    group.add_argument("--selector", default="", help="label selector: tier=gold,region in (eu,us),!canary")
    for flag, help in (
        ("--streaming", "the card declares streaming"),
        ("--push-notifications", "the card declares push notifications"),
        ("--verified", "the card's signature verified against an operator key"),
    ):
        group.add_argument(flag, action="store_true", help=help)


def _add_consistent_flag(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--consistent",
        action="store_true",
        help="reflect every write acknowledged by any replica before the call (the replica catches up first)",
    )


def _agent_filter(args: argparse.Namespace) -> AgentFilter:
    return AgentFilter(
        skill_ids=tuple(args.skill_id),
        tags=tuple(args.tag),
        input_modes=tuple(args.input_mode),
        output_modes=tuple(args.output_mode),
        protocol_bindings=tuple(args.binding),
        streaming=args.streaming,
        push_notifications=args.push_notifications,
        provider=args.provider,
        verified=args.verified,
        label_selector=args.selector,
    )


async def agents_list(client: RegistryClient, args: argparse.Namespace, out: Output) -> int:
    page = await client.list_all_agents(
        args.runtime, args.status, filter=_agent_filter(args), consistent=args.consistent
    )
    out.agents(page.agents, page.revision)
    return EXIT_OK


async def agents_get(client: RegistryClient, args: argparse.Namespace, out: Output) -> int:
    out.agent(await client.get_agent(args.agent_id, consistent=args.consistent))
    return EXIT_OK


async def agents_find(client: RegistryClient, args: argparse.Namespace, out: Output) -> int:
    out.matches(
        await client.find_agents(
            args.capability, args.status, args.limit, filter=_agent_filter(args), consistent=args.consistent
        )
    )
    return EXIT_OK


async def agents_select(client: RegistryClient, args: argparse.Namespace, out: Output) -> int:
    selection = await client.select_agent(
        args.capability,
        args.strategy,
        affinity_key=args.key,
        exclude_agent_ids=args.exclude,
        exclude_runtime_ids=args.exclude_runtime,
        allow_degraded=args.allow_degraded,
        filter=_agent_filter(args),
        consistent=args.consistent,
    )
    out.selection(selection)
    return EXIT_OK if selection.agent is not None else EXIT_REFUSED


WELL_KNOWN_CARD = "/.well-known/agent-card.json"
MAX_CARD_DOCUMENT = 1 << 20  # bytes read of a published card; the daemon takes at most 64 KiB of text


async def agents_import(client: RegistryClient, args: argparse.Namespace, out: Output) -> int:
    """Register an agent from its published A2A card: a URL (its /.well-known/agent-card.json unless the
    URL names a .json document) or a file."""
    document = await asyncio.to_thread(_fetch_card, args.source, args.timeout)
    try:
        data = json.loads(document)
        if not isinstance(data, dict):
            raise ValueError("the card is not a JSON object")
        card = AgentCard.from_dict(data)
    except (ValueError, TypeError) as error:  # JSONDecodeError is a ValueError
        raise UsageError(f"{args.source} is not an agent card: {error}") from None
    labels = dict(card.labels)
    for label in args.label:
        key, sep, value = label.partition("=")
        if not key or not sep:
            raise UsageError(f"--label {label!r}: write key=value")
        labels[key] = value
    result = await client.register_agent(args.runtime, replace(card, labels=labels), args.agent_id)
    out.agent(result.agent)
    return EXIT_OK


def _fetch_card(source: str, timeout: float | None) -> bytes:
    scheme = urllib.parse.urlsplit(source).scheme
    if scheme not in ("http", "https"):
        data = _read(source, "card file")
        if len(data) > MAX_CARD_DOCUMENT:
            raise UsageError(f"{source} is over {MAX_CARD_DOCUMENT} bytes: not an agent card")
        return data
    url = source if source.endswith(".json") else source.rstrip("/") + WELL_KNOWN_CARD
    request = urllib.request.Request(url, headers={"Accept": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout or 10.0) as response:
            data: bytes = response.read(MAX_CARD_DOCUMENT + 1)
    except urllib.error.HTTPError as error:
        raise UsageError(f"cannot fetch {url}: HTTP {error.code} {error.reason}") from None
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise UsageError(f"cannot fetch {url}: {reason}") from None
    if len(data) > MAX_CARD_DOCUMENT:
        raise UsageError(f"{url} sent over {MAX_CARD_DOCUMENT} bytes: not an agent card")
    return data


async def agents_deregister(client: RegistryClient, args: argparse.Namespace, out: Output) -> int:
    result = await client.deregister_agent(args.agent_id, args.runtime)
    out.deregistered([result.agent], result.revision)
    return EXIT_OK


async def runtime_drain(client: RegistryClient, args: argparse.Namespace, out: Output) -> int:
    """Every agent of the runtime OFFLINE by the operator (sticky: heartbeats do not undo it), or with
    --deregister, removed (after a confirmation)."""
    agents = (await client.list_all_agents(args.runtime_id)).agents
    if not agents:
        raise UsageError(f"runtime {args.runtime_id!r} has no agents")
    if args.deregister:
        _confirm(
            f"deregister all {len(agents)} agents of runtime {args.runtime_id}", args.runtime_id, args.yes
        )
        removed = [await client.deregister_agent(a.agent_id, args.runtime_id) for a in agents]
        out.deregistered([r.agent for r in removed], max(r.revision for r in removed))
        return EXIT_OK
    return await _set_all(client, agents, AgentStatus.OFFLINE, out)


async def runtime_undrain(client: RegistryClient, args: argparse.Namespace, out: Output) -> int:
    """Clear the operator setting of every agent of the runtime: each is as healthy as it is."""
    agents = (await client.list_all_agents(args.runtime_id)).agents
    if not agents:
        raise UsageError(f"runtime {args.runtime_id!r} has no agents")
    return await _set_all(client, agents, AgentStatus.ACTIVE, out)


async def _set_all(
    client: RegistryClient, agents: list[AgentMetadata], status: AgentStatus, out: Output
) -> int:
    updates = [await client.update_agent_status(a.agent_id, status, a.runtime_id) for a in agents]
    out.agents([u.agent for u in updates], max(u.revision for u in updates))
    return EXIT_OK


def _confirm(action: str, answer: str, yes: bool) -> None:
    """Destructive commands: --yes, or the operator types `answer` at a terminal."""
    if yes:
        return
    if not sys.stdin.isatty():
        raise UsageError(f"refusing to {action} without --yes (stdin is not a terminal to confirm on)")
    sys.stderr.write(f"registryctl: about to {action}. Type {answer!r} to go on: ")
    sys.stderr.flush()
    if sys.stdin.readline().strip() != answer:
        raise UsageError("not confirmed; nothing was changed")


async def runtimes(client: RegistryClient, args: argparse.Namespace, out: Output) -> int:
    out.runtimes(await client.list_runtimes(consistent=args.consistent))
    return EXIT_OK


async def status_set(client: RegistryClient, args: argparse.Namespace, out: Output) -> int:
    out.status_update(await client.update_agent_status(args.agent_id, args.status, args.runtime))
    return EXIT_OK


async def stats(client: RegistryClient, args: argparse.Namespace, out: Output) -> int:
    out.stats(await client.get_stats(consistent=args.consistent))
    return EXIT_OK


async def health(client: RegistryClient, args: argparse.Namespace, out: Output) -> int:
    status = await client.health_check(args.service)
    out.health(args.service, status)
    return EXIT_OK if status is ServingStatus.SERVING else EXIT_NOT_SERVING


async def watch(client: RegistryClient, args: argparse.Namespace, out: Output) -> int:
    """Tail events. After a lost connection, a daemon restart or an overflow it resubscribes from the
    revision after the last one it saw, so nothing is missed or printed twice."""
    next_revision = args.from_revision  # 0: live events only
    printed = 0
    connected = False
    lost = False  # said once when the daemon is lost, once when it is back
    backoff = Backoff(0.1, 5.0)
    while True:
        try:
            if connected and next_revision:
                next_revision = await _resume_point(client, next_revision, out)
            async for item in client.subscribe(args.type, args.runtime, args.agent, next_revision):
                connected = True
                backoff.reset()
                if lost:
                    lost = False
                    out.notice(f"reconnected to {client.target}; resuming from revision {next_revision}")
                if isinstance(item, Bookmark):
                    next_revision = max(next_revision, item.revision + 1)
                    continue
                out.event(item)
                next_revision = max(next_revision, item.revision + 1)
                printed += 1
                if args.count and printed >= args.count:
                    return EXIT_OK
        except SubscriberOverflowError as error:
            next_revision = error.last_revision + 1
            out.notice(f"fell too far behind; resuming from revision {next_revision}")
            continue
        except RevisionCompactedError as error:
            out.notice(
                f"events {next_revision}..{error.compacted_revision} are no longer retained and were "
                f"missed; continuing from revision {error.compacted_revision + 1}"
            )
            next_revision = error.compacted_revision + 1
            continue
        except RegistryUnavailableError as error:
            if not connected:
                raise
            if not lost:
                lost = True
                out.notice(
                    f"lost {client.target} ({error}); reconnecting, then resuming from revision {next_revision}"
                )
        await client.pause(backoff.next_delay())


async def _resume_point(client: RegistryClient, next_revision: int, out: Output) -> int:
    """Where to resume after a reconnect: a daemon that restarted without its data starts counting
    again, and events below `next_revision` would then be filtered out as already seen."""
    current = (await client.get_stats()).revision
    if current >= next_revision - 1:
        return next_revision
    out.notice(
        f"registryd's revision went back from {next_revision - 1} to {current} (restarted without its "
        f"data); following from revision {current + 1}"
    )
    return current + 1


# ---------------------------------------------------------------------------------------- arguments


def parser(environ: Mapping[str, str]) -> argparse.ArgumentParser:
    def env(name: str, default: str | None = None) -> str | None:
        return environ.get(f"REGISTRYCTL_{name}", default)

    p = argparse.ArgumentParser(
        prog="registryctl",
        description="Inspect and operate a registryd daemon.",
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--version", action="version", version=f"registryctl {version('registryd')}")
    p.add_argument(
        "--target",
        default=env("TARGET", "127.0.0.1:50051"),
        metavar="HOST:PORT",
        help="daemon address host:port, or several replicas as ipv4:a:p,b:p or dns:///name:port "
        "[env REGISTRYCTL_TARGET; default 127.0.0.1:50051]",
    )
    p.add_argument(
        "--load-balancing",
        choices=LOAD_BALANCING,
        default=env("LOAD_BALANCING", "pick_first"),
        help="gRPC policy over several replicas [env REGISTRYCTL_LOAD_BALANCING; default pick_first]",
    )
    p.add_argument(
        "-o",
        "--output",
        choices=("table", "json"),
        default=env("OUTPUT", "table"),
        help="table for people, json for scripts [env REGISTRYCTL_OUTPUT; default table]",
    )
    p.add_argument(
        "--timeout",
        type=_timeout,
        metavar="SECONDS",
        default=env("TIMEOUT", "10"),
        help="seconds to wait for each call [env REGISTRYCTL_TIMEOUT; default 10]",
    )
    p.add_argument(
        "--tls-ca",
        default=env("TLS_CA"),
        metavar="FILE",
        help="PEM CA bundle: use TLS [env REGISTRYCTL_TLS_CA]",
    )
    p.add_argument(
        "--tls-cert",
        default=env("TLS_CERT"),
        metavar="FILE",
        help="PEM client certificate for mTLS [env REGISTRYCTL_TLS_CERT]",
    )
    p.add_argument(
        "--tls-key",
        default=env("TLS_KEY"),
        metavar="FILE",
        help="PEM key of --tls-cert [env REGISTRYCTL_TLS_KEY]",
    )
    p.add_argument("--token", default=env("TOKEN"), help="bearer token [env REGISTRYCTL_TOKEN]")
    p.add_argument(
        "--token-file",
        default=env("TOKEN_FILE"),
        metavar="FILE",
        help="read the bearer token from a file (keeps it out of `ps`) [env REGISTRYCTL_TOKEN_FILE]",
    )
    commands = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    agents = commands.add_parser("agents", help="list, get and find agents").add_subparsers(
        dest="agents_command", required=True, metavar="SUBCOMMAND"
    )
    listing = agents.add_parser("list", help="list agents ordered by id")
    listing.add_argument("--runtime", default="", help="only this runtime's agents")
    _add_filter_flags(listing)
    listing.add_argument(
        "--status", type=_status, action="append", default=[], help="only this status (repeatable)"
    )
    _add_consistent_flag(listing)
    listing.set_defaults(func=agents_list)
    get = agents.add_parser("get", help="show one agent")
    get.add_argument("agent_id")
    _add_consistent_flag(get)
    get.set_defaults(func=agents_get)
    remove = agents.add_parser("deregister", help="remove an agent (a leftover of a runtime that is gone)")
    remove.add_argument("agent_id")
    remove.add_argument("--runtime", default="", help="refuse unless the agent belongs to this runtime")
    remove.set_defaults(func=agents_deregister)
    importing = agents.add_parser(
        "import",
        help="register an agent from its published A2A card (URL or file)",
        description="Fetch an agent's A2A card (from URL/.well-known/agent-card.json, a URL ending in "
        ".json as it is, or a file) and register it for a runtime. The agent then lives by that "
        "runtime's heartbeats, like any other: beat it, or it turns UNHEALTHY and expires.",
    )
    importing.add_argument("source", metavar="URL|FILE")
    importing.add_argument("--runtime", required=True, help="the runtime that owns (and beats) the agent")
    importing.add_argument("--agent-id", default="", help="the agent's id (default: the daemon makes one)")
    importing.add_argument(
        "--label", action="append", default=[], metavar="KEY=VALUE", help="a label to add (repeatable)"
    )
    importing.set_defaults(func=agents_import)
    find = agents.add_parser("find", help="find agents by capability (words or a substring)")
    find.add_argument(
        "capability", nargs="?", default="", help="words or a substring (optional with filters)"
    )
    _add_filter_flags(find)
    find.add_argument(
        "--status",
        type=_status,
        action="append",
        default=[],
        help="match these statuses (repeatable; default active)",
    )
    find.add_argument(
        "--limit",
        type=_whole_number,
        default=0,
        metavar="N",
        help="most matches to show (default: the daemon's, 100)",
    )
    _add_consistent_flag(find)
    find.set_defaults(func=agents_find)
    pick = agents.add_parser(
        "select",
        help="pick one agent for a task by load, as a router's SelectAgent would (exit 1: none fits)",
    )
    pick.add_argument("capability", nargs="?", default="", help="as for find (optional with filters)")
    _add_filter_flags(pick)
    pick.add_argument(
        "--strategy",
        type=SelectionStrategy,
        choices=list(SelectionStrategy),
        default=SelectionStrategy.P2C,
        help="how to pick (default p2c: the less loaded of two at random)",
    )
    pick.add_argument("--key", default="", help="the affinity key (strategy affinity)")
    pick.add_argument(
        "--exclude", action="append", default=[], metavar="AGENT", help="never this agent (repeatable)"
    )
    pick.add_argument(
        "--exclude-runtime",
        action="append",
        default=[],
        metavar="RUNTIME",
        help="never this runtime's agents",
    )
    pick.add_argument(
        "--allow-degraded", action="store_true", help="a DEGRADED agent when no ACTIVE one fits"
    )
    _add_consistent_flag(pick)
    pick.set_defaults(func=agents_select)

    listing_runtimes = commands.add_parser("runtimes", help="list runtimes and their agents")
    _add_consistent_flag(listing_runtimes)
    listing_runtimes.set_defaults(func=runtimes)

    runtime = commands.add_parser("runtime", help="take a runtime out of rotation and back").add_subparsers(
        dest="runtime_command", required=True, metavar="SUBCOMMAND"
    )
    drain = runtime.add_parser(
        "drain", help="set every agent of a runtime OFFLINE (sticky), or --deregister them all"
    )
    drain.add_argument("runtime_id")
    drain.add_argument("--deregister", action="store_true", help="remove the agents instead (asks first)")
    drain.add_argument("-y", "--yes", action="store_true", help="do not ask for confirmation")
    drain.set_defaults(func=runtime_drain)
    undrain = runtime.add_parser("undrain", help="clear the operator status of every agent of a runtime")
    undrain.add_argument("runtime_id")
    undrain.set_defaults(func=runtime_undrain)

    status = commands.add_parser("status", help="set an agent's operator status").add_subparsers(
        dest="status_command", required=True, metavar="SUBCOMMAND"
    )
    set_status = status.add_parser(
        "set", help="set an operator status (degraded, unhealthy and offline stick until set to active)"
    )
    set_status.add_argument("agent_id")
    set_status.add_argument("status", type=_status)
    set_status.add_argument("--runtime", default="", help="refuse unless the agent belongs to this runtime")
    set_status.set_defaults(func=status_set)

    totals = commands.add_parser("stats", help="totals, distributions and counters")
    _add_consistent_flag(totals)
    totals.set_defaults(func=stats)

    tail = commands.add_parser("watch", help="tail events live, resuming after reconnects")
    tail.add_argument(
        "--type", type=_event_type, action="append", default=[], help="only this event type (repeatable)"
    )
    tail.add_argument("--runtime", default="", help="only this runtime's events")
    tail.add_argument("--agent", default="", help="only this agent's events")
    tail.add_argument(
        "--from-revision",
        type=_whole_number,
        default=0,
        metavar="N",
        help="replay retained events from this revision first",
    )
    tail.add_argument(
        "--count",
        type=_whole_number,
        default=0,
        metavar="N",
        help="exit after this many events (default: run until Ctrl-C)",
    )
    tail.set_defaults(func=watch)

    probe = commands.add_parser("health", help="the standard gRPC health check (exit 4 unless SERVING)")
    probe.add_argument("--service", default="", help="service name (default: the whole daemon)")
    probe.set_defaults(func=health)
    _output_after_subcommands(p)
    return p


def _output_after_subcommands(parser: argparse.ArgumentParser) -> None:
    """`-o json` also after the subcommand: every leaf command takes it (without a default, so the one
    given before the subcommand, or the environment's, stands when it is not repeated)."""
    for action in parser._subparsers._group_actions if parser._subparsers else ():
        for sub in getattr(action, "choices", {}).values():
            if sub._subparsers is not None:
                _output_after_subcommands(sub)
            else:
                sub.add_argument(
                    "-o",
                    "--output",
                    choices=("table", "json"),
                    default=argparse.SUPPRESS,
                    help="table or json",
                )


def _client(args: argparse.Namespace) -> RegistryClient:
    if bool(args.tls_cert) != bool(args.tls_key):
        raise UsageError("--tls-cert and --tls-key go together")
    if args.tls_cert and not args.tls_ca:
        raise UsageError("--tls-cert (mTLS) needs --tls-ca (TLS) as well")
    token = _token(args.token, "--token") if args.token else None
    if args.token_file:
        token = _token(
            _read(args.token_file, "--token-file").decode(errors="replace").strip(), "--token-file"
        )
    return RegistryClient(
        args.target,
        root_certificates=_read_pem(args.tls_ca, "--tls-ca", "CERTIFICATE") if args.tls_ca else None,
        client_certificate=_read_pem(args.tls_cert, "--tls-cert", "CERTIFICATE") if args.tls_cert else None,
        client_key=_read_pem(args.tls_key, "--tls-key", "PRIVATE KEY") if args.tls_key else None,
        token=token,
        timeout=args.timeout,
        load_balancing=args.load_balancing,
    )


MAX_TIMEOUT = 86_400.0


def _timeout(text: str) -> float:
    try:
        seconds = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not 0 < seconds <= MAX_TIMEOUT:  # also refuses nan
        raise argparse.ArgumentTypeError(
            f"must be more than 0 and at most {MAX_TIMEOUT:g} seconds (got {text})"
        )
    return seconds


def _token(token: str, flag: str) -> str:
    """A token as it can travel in an `authorization` header: visible ASCII, nothing else."""
    if not token:
        raise UsageError(f"{flag} is empty")
    if not all("!" <= ch <= "~" for ch in token):
        raise UsageError(
            f"{flag}: a bearer token is visible ASCII only (this one has a space, newline or other)"
        )
    return token


def _read(path: str, flag: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as error:
        raise UsageError(f"cannot read {flag} {path}: {error.strerror}") from None


def _read_pem(path: str, flag: str, kind: str) -> bytes:
    data = _read(path, flag)
    if f"-----BEGIN {kind}-----".encode() not in data and not (
        kind == "PRIVATE KEY" and re.search(rb"-----BEGIN [A-Z ]*PRIVATE KEY-----", data)
    ):
        raise UsageError(f"{flag} {path} is not a PEM file (no '-----BEGIN {kind}-----' line)")
    return data


async def _run(args: argparse.Namespace, out: Output) -> int:
    async with _client(args) as client:
        command: Command = args.func
        return await command(client, args, out)


def main(argv: Sequence[str] | None = None) -> int:
    cli = parser(os.environ)
    args = cli.parse_args(argv)
    if args.output not in ("table", "json"):  # argparse checks choices on flags, not on env defaults
        cli.error(f"REGISTRYCTL_OUTPUT must be table or json (got {args.output!r})")
    json_mode = args.output == "json"
    out = Output(json_mode=json_mode)
    try:
        return asyncio.run(_run(args, out))
    except UsageError as error:
        return _fail(json_mode, EXIT_USAGE, "USAGE", f"error: {error}")
    except RegistryUnavailableError as error:
        return _fail(json_mode, EXIT_UNREACHABLE, error.code.name, f"{error} (target {args.target})", error)
    except RegistryError as error:
        return _fail(json_mode, EXIT_REFUSED, error.code.name, str(error), error)
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED


def _fail(
    json_mode: bool, exit_code: int, code: str, message: str, error: RegistryError | None = None
) -> int:
    """Report an error on stderr: one line, or in JSON mode one JSON document."""
    if json_mode:
        document = {
            "error": {
                "code": code,
                "message": error.message if error else message.removeprefix("error: "),
                "reason": error.reason if error else "",
                "metadata": error.error_metadata if error else {},
                "exit_code": exit_code,
            }
        }
        print(json.dumps(document, sort_keys=True), file=sys.stderr)
    else:
        print(f"registryctl: {message}", file=sys.stderr)
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
