"""registryctl, run as a subprocess (the installed console script) against a registryd process."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from agentregistry.v1 import registry_pb2 as pb
from agentregistry.v1 import registry_pb2_grpc as pb_grpc

REGISTRYCTL = Path(sys.executable).with_name("registryctl")
ENV = {**os.environ, "COLUMNS": "200"}  # wide enough that table cells are not folded


def registryctl(
    address: str, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(REGISTRYCTL), *args],
        capture_output=True,
        text=True,
        timeout=30,
        env={**ENV, "REGISTRYCTL_TARGET": address, **(env or {})},
    )


@pytest.fixture
def registry(daemon_process: Callable[..., Any]) -> Iterator[tuple[str, pb_grpc.RegistryServiceStub]]:
    """A daemon with two runtimes: rt-a (coder, reviewer) and rt-b (translator)."""
    daemon = daemon_process("--store", "memory")
    with grpc.insecure_channel(daemon.address) as channel:
        stub = pb_grpc.RegistryServiceStub(channel)
        for agent_id, runtime_id, capabilities in (
            ("coder", "rt-a", ["Python code generation"]),
            ("reviewer", "rt-a", ["code review", "python"]),
            ("translator", "rt-b", ["translation"]),
        ):
            card = pb.AgentCard(name=agent_id.title(), capability_phrases=capabilities)
            stub.RegisterAgent(pb.RegisterAgentRequest(agent_id=agent_id, runtime_id=runtime_id, card=card))
        yield daemon.address, stub


def test_tables_show_agents_matches_and_runtimes(registry: tuple[str, Any]) -> None:
    address, _ = registry

    listed = registryctl(address, "agents", "list", "--runtime", "rt-a")
    got = registryctl(address, "agents", "get", "translator")
    found = registryctl(address, "agents", "find", "PYTHON")
    runtimes = registryctl(address, "runtimes")

    assert [r.returncode for r in (listed, got, found, runtimes)] == [0, 0, 0, 0]
    rows = [line.split() for line in listed.stdout.splitlines()]
    assert ["coder", "rt-a", "ACTIVE", "REGISTERED", "Coder", "Python", "code", "generation"] in [
        row[:8] for row in rows
    ]
    assert "translator" not in listed.stdout
    assert "2 agents at revision 5" in listed.stdout
    assert "capabilities       translation" in got.stdout
    assert [
        line.split() for line in found.stdout.splitlines() if line.split()[:1] in (["reviewer"], ["coder"])
    ] == [
        ["reviewer", "rt-a", "ACTIVE", "python", "EXACT", "Reviewer"],
        ["coder", "rt-a", "ACTIVE", "Python", "code", "generation", "WORD", "Coder"],
    ]
    assert [line.split()[:3] for line in runtimes.stdout.splitlines() if "rt-" in line] == [
        ["rt-a", "2", "-"],
        ["rt-b", "1", "-"],
    ]


def test_json_output_is_one_document_for_scripts(registry: tuple[str, Any]) -> None:
    address, _ = registry

    listed = json.loads(registryctl(address, "-o", "json", "agents", "list", "--status", "ACTIVE").stdout)
    found = json.loads(
        registryctl(address, "agents", "find", "code", env={"REGISTRYCTL_OUTPUT": "json"}).stdout
    )
    stats = json.loads(registryctl(address, "--output", "json", "stats").stdout)

    assert [a["agent_id"] for a in listed["agents"]] == ["coder", "reviewer", "translator"]
    assert listed["agents"][0]["status"] == "active"
    assert listed["agents"][0]["capabilities"] == ["Python code generation"]
    assert "capabilities" not in listed["agents"][0]["card"]  # the A2A card alone
    assert [(m["agent"]["agent_id"], m["match_kind"]) for m in found["matches"]] == [
        ("reviewer", "word"),
        ("coder", "word"),
    ]
    assert stats["total_agents"] == 3
    assert stats["status_distribution"]["active"] == 3
    assert stats["runtime_distribution"] == {"rt-a": 2, "rt-b": 1}


def test_every_read_command_takes_consistent(registry: tuple[str, Any]) -> None:
    address, _ = registry
    reads = [
        ("agents", "list"),
        ("agents", "get", "coder"),
        ("agents", "find", "python"),
        ("agents", "select", "translation"),
        ("runtimes",),
        ("stats",),
    ]
    answers = [registryctl(address, "-o", "json", *read, "--consistent") for read in reads]
    assert [a.returncode for a in answers] == [0] * len(reads), [a.stderr for a in answers]
    assert json.loads(answers[1].stdout)["agent_id"] == "coder"
    assert json.loads(answers[5].stdout)["total_agents"] == 3


def test_status_set_changes_an_agent_and_watch_replays_it(registry: tuple[str, Any]) -> None:
    address, stub = registry

    first = registryctl(address, "status", "set", "coder", "degraded")
    again = registryctl(address, "status", "set", "coder", "DEGRADED")
    replayed = registryctl(
        address,
        "-o",
        "json",
        "watch",
        "--from-revision",
        "1",
        "--type",
        "agent_status_changed",
        "--count",
        "1",
    )

    assert first.returncode == 0 and first.stdout.strip() == "coder: DEGRADED (revision 6)"
    assert again.returncode == 0 and again.stdout.strip() == "coder: already DEGRADED, nothing changed"
    assert stub.GetAgent(pb.GetAgentRequest(agent_id="coder")).agent.status == pb.AGENT_STATUS_DEGRADED
    event = json.loads(replayed.stdout)
    assert (event["revision"], event["agent_id"], event["metadata"]) == (
        6,
        "coder",
        {"old_status": "active", "new_status": "degraded", "reason": "operator"},
    )


def test_errors_are_one_line_naming_the_grpc_code_with_documented_exit_codes(
    registry: tuple[str, Any], tmp_path: Path
) -> None:
    address, _ = registry

    unknown = registryctl(address, "agents", "get", "nobody")
    blank = registryctl(address, "agents", "find", "   ")
    owner = registryctl(address, "status", "set", "coder", "offline", "--runtime", "rt-b")
    unreachable = registryctl("127.0.0.1:1", "stats")
    bad_status = registryctl(address, "status", "set", "coder", "sleepy")
    missing_ca = registryctl(address, "--tls-ca", str(tmp_path / "missing.pem"), "stats")

    assert (unknown.returncode, unknown.stderr) == (
        1,
        "registryctl: NOT_FOUND: agent 'nobody' is not registered\n",
    )
    assert blank.returncode == 1 and blank.stderr.startswith("registryctl: INVALID_ARGUMENT: capability")
    assert owner.returncode == 1 and owner.stderr.startswith("registryctl: PERMISSION_DENIED: ")
    assert unreachable.returncode == 3 and unreachable.stderr.startswith("registryctl: UNAVAILABLE: ")
    assert bad_status.returncode == 2 and "unknown status 'sleepy'" in bad_status.stderr
    assert missing_ca.returncode == 2 and "cannot read --tls-ca" in missing_ca.stderr
    for result in (unknown, blank, owner, unreachable, missing_ca):
        assert result.stdout == "" and result.stderr.count("\n") == 1


def test_health_exits_zero_only_when_serving(registry: tuple[str, Any]) -> None:
    address, _ = registry

    serving = registryctl(address, "health")
    unknown = registryctl(address, "-o", "json", "health", "--service", "no.such.Service")

    assert (serving.returncode, serving.stdout) == (0, "registryd: SERVING\n")
    assert unknown.returncode == 4
    assert json.loads(unknown.stdout) == {"service": "no.such.Service", "status": "service_unknown"}


def test_flags_win_over_environment(registry: tuple[str, Any]) -> None:
    address, _ = registry

    result = registryctl("127.0.0.1:1", "--target", address, "health")

    assert result.returncode == 0


class Tail:
    """A running `registryctl watch`, its stdout lines collected by a thread."""

    def __init__(self, address: str, *args: str) -> None:
        self.process = subprocess.Popen(
            [str(REGISTRYCTL), "--target", address, "-o", "json", "watch", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=ENV,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line)

    def events(self, count: int, timeout: float = 15.0) -> list[dict[str, Any]]:
        return [json.loads(self.lines.get(timeout=timeout)) for _ in range(count)]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(10)


def test_watch_filters_and_resumes_across_a_daemon_restart(
    daemon_process: Callable[..., Any], tmp_path: Path
) -> None:
    data = ("--data-dir", str(tmp_path / "data"))
    daemon = daemon_process(*data)
    tail = Tail(daemon.address, "--runtime", "rt-w", "--count", "4")
    try:
        with grpc.insecure_channel(daemon.address) as channel:
            stub = pb_grpc.RegistryServiceStub(channel)
            wait_for_subscriber(stub)
            for agent_id, runtime_id in (("w1", "rt-w"), ("other", "rt-x")):
                card = pb.AgentCard(name=agent_id, capability_phrases=["watching"])
                stub.RegisterAgent(
                    pb.RegisterAgentRequest(agent_id=agent_id, runtime_id=runtime_id, card=card)
                )
            before = tail.events(2)
        assert daemon.signal() == 0

        restarted = daemon_process(*data, "--listen", daemon.address)
        with grpc.insecure_channel(restarted.address) as channel:
            stub = pb_grpc.RegistryServiceStub(channel)
            card = pb.AgentCard(name="w2", capability_phrases=["watching"])
            stub.RegisterAgent(pb.RegisterAgentRequest(agent_id="w2", runtime_id="rt-w", card=card))
            stub.UpdateAgentStatus(pb.UpdateAgentStatusRequest(agent_id="w2", status=pb.AGENT_STATUS_OFFLINE))
            after = tail.events(2)
        exit_code = tail.process.wait(15)
    finally:
        tail.stop()
    assert tail.process.stderr is not None
    notices = tail.process.stderr.read()

    events = before + after
    assert [(e["type"], e["agent_id"]) for e in events] == [
        ("runtime_joined", None),
        ("agent_registered", "w1"),
        ("agent_registered", "w2"),
        ("agent_status_changed", "w2"),
    ]
    revisions = [e["revision"] for e in events]
    assert revisions == sorted(set(revisions))
    assert exit_code == 0
    # One line when the daemon is lost, one when it is back, however many retries in between.
    lines = notices.splitlines()
    assert sum("reconnecting, then resuming from revision" in line for line in lines) == 1, notices
    assert sum("reconnected to" in line for line in lines) == 1, notices


def wait_for_subscriber(stub: pb_grpc.RegistryServiceStub, timeout: float = 15.0) -> None:
    """Until the tail's Subscribe is open (the CLI takes a moment to start)."""
    deadline = time.monotonic() + timeout
    while stub.GetStats(pb.GetStatsRequest()).subscribers < 1:
        assert time.monotonic() < deadline, "registryctl watch never subscribed"
        time.sleep(0.05)


def test_watch_follows_a_daemon_that_restarted_without_its_data(daemon_process: Callable[..., Any]) -> None:
    daemon = daemon_process("--store", "memory")
    tail = Tail(daemon.address, "--count", "4")
    try:
        with grpc.insecure_channel(daemon.address) as channel:
            stub = pb_grpc.RegistryServiceStub(channel)
            wait_for_subscriber(stub)
            stub.RegisterAgent(
                pb.RegisterAgentRequest(agent_id="a", runtime_id="rt", card=pb.AgentCard(name="a"))
            )
            before = tail.events(2)
        assert daemon.signal() == 0

        fresh = daemon_process("--store", "memory", "--listen", daemon.address)
        with grpc.insecure_channel(fresh.address) as channel:
            stub = pb_grpc.RegistryServiceStub(channel)
            wait_for_subscriber(stub)  # the tail is back before anything happens on the fresh daemon
            stub.RegisterAgent(
                pb.RegisterAgentRequest(agent_id="b", runtime_id="rt", card=pb.AgentCard(name="b"))
            )
            after = tail.events(2)
        exit_code = tail.process.wait(15)
    finally:
        tail.stop()
    assert tail.process.stderr is not None
    notices = tail.process.stderr.read()

    assert [(e["revision"], e["agent_id"]) for e in before + after] == [
        (1, None),
        (2, "a"),
        (1, None),
        (2, "b"),
    ]
    assert "revision went back from 2 to 0" in notices
    assert exit_code == 0


def test_tokens_come_from_a_flag_a_file_or_the_environment(
    daemon_process: Callable[..., Any], tmp_path: Path
) -> None:
    tokens = tmp_path / "tokens.toml"
    reader_token = new_token(tokens, "dashboard", "reader")
    daemon = daemon_process("--store", "memory", "--auth-tokens", str(tokens))
    token_file = tmp_path / "dashboard.token"
    token_file.write_text(reader_token + "\n")

    anonymous = registryctl(daemon.address, "stats")
    by_flag = registryctl(daemon.address, "--token", reader_token, "stats")
    by_file = registryctl(daemon.address, "--token-file", str(token_file), "runtimes")
    by_env = registryctl(daemon.address, "agents", "list", env={"REGISTRYCTL_TOKEN": reader_token})
    too_weak = registryctl(daemon.address, "--token", reader_token, "status", "set", "a", "offline")

    assert anonymous.returncode == 1 and anonymous.stderr.startswith("registryctl: UNAUTHENTICATED: ")
    assert [r.returncode for r in (by_flag, by_file, by_env)] == [0, 0, 0]
    assert too_weak.returncode == 1 and too_weak.stderr.startswith("registryctl: PERMISSION_DENIED: ")


def new_token(tokens: Path, name: str, role: str) -> str:
    made = subprocess.run(
        [
            sys.executable,
            "-m",
            "registryd.auth",
            "new-token",
            "--name",
            name,
            "--role",
            role,
            "--append",
            str(tokens),
        ],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return made.stdout.strip()


def test_client_certificate_without_a_ca_is_a_usage_error(tmp_path: Path) -> None:
    pem = tmp_path / "worker.pem"
    pem.write_text("not used")

    result = registryctl("127.0.0.1:1", "--tls-cert", str(pem), "--tls-key", str(pem), "stats")

    assert (result.returncode, result.stderr) == (
        2,
        "registryctl: error: --tls-cert (mTLS) needs --tls-ca (TLS) as well\n",
    )


def test_agents_deregister_and_runtime_drain_and_undrain(registry: tuple[str, Any]) -> None:
    address, _ = registry

    def statuses(runtime_id: str) -> dict[str, tuple[str, str | None]]:
        listed = json.loads(
            registryctl(address, "agents", "list", "--runtime", runtime_id, "-o", "json").stdout
        )
        return {a["agent_id"]: (a["status"], a["operator_status"]) for a in listed["agents"]}

    drained = registryctl(address, "runtime", "drain", "rt-a")
    assert drained.returncode == 0, drained.stderr
    assert statuses("rt-a") == {"coder": ("offline", "offline"), "reviewer": ("offline", "offline")}
    assert registryctl(address, "runtime", "undrain", "rt-a").returncode == 0
    assert statuses("rt-a") == {"coder": ("active", None), "reviewer": ("active", None)}

    refused = subprocess.run(  # destructive, stdin not a terminal, no --yes: nothing happens
        [str(REGISTRYCTL), "runtime", "drain", "rt-a", "--deregister"],
        capture_output=True,
        text=True,
        timeout=30,
        stdin=subprocess.DEVNULL,
        env={**ENV, "REGISTRYCTL_TARGET": address},
    )
    assert refused.returncode == 2 and "--yes" in refused.stderr
    assert set(statuses("rt-a")) == {"coder", "reviewer"}
    removed = registryctl(address, "runtime", "drain", "rt-a", "--deregister", "--yes")
    assert removed.returncode == 0 and "2 agents deregistered" in removed.stdout
    assert statuses("rt-a") == {}

    assert registryctl(address, "agents", "deregister", "translator", "--runtime", "rt-x").returncode == 1
    gone = registryctl(address, "agents", "deregister", "translator")
    assert gone.returncode == 0 and "translator: deregistered" in gone.stdout
    assert registryctl(address, "agents", "get", "translator").returncode == 1


@pytest.mark.parametrize("tty", [False, True])
def test_tables_keep_ids_whole_in_a_pipe_and_at_80_columns(
    daemon_process: Callable[..., Any], tty: bool
) -> None:
    daemon = daemon_process("--store", "memory")
    agent_id, runtime_id = "0123456789abcdef" * 2, "runtime-" + "fedcba9876543210" * 4
    with grpc.insecure_channel(daemon.address) as channel:
        card = pb.AgentCard(
            name="a rather long agent name", capability_phrases=["python code generation " * 3]
        )
        pb_grpc.RegistryServiceStub(channel).RegisterAgent(
            pb.RegisterAgentRequest(agent_id=agent_id, runtime_id=runtime_id, card=card)
        )
    env = {**ENV, "COLUMNS": "80", "REGISTRYCTL_TARGET": daemon.address}
    for command in (["agents", "list"], ["agents", "find", "python"], ["runtimes"]):
        if tty:  # `script` gives registryctl a terminal of 80 columns
            argv = ["script", "-qec", " ".join([str(REGISTRYCTL), *command]), "/dev/null"]
        else:
            argv = [str(REGISTRYCTL), *command]
        result = subprocess.run(argv, capture_output=True, text=True, timeout=30, env=env)
        assert result.returncode == 0, result.stderr
        lines = [line for line in result.stdout.splitlines() if agent_id in line or runtime_id in line]
        assert any(runtime_id in line for line in lines), result.stdout
        if command != ["runtimes"]:
            assert any(agent_id in line and runtime_id in line for line in lines), result.stdout


def test_output_flag_after_the_subcommand_and_json_errors(registry: tuple[str, Any]) -> None:
    address, _ = registry
    after = registryctl(address, "agents", "get", "coder", "-o", "json")
    assert after.returncode == 0 and json.loads(after.stdout)["agent_id"] == "coder"
    before = registryctl(address, "-o", "json", "agents", "get", "coder")
    assert json.loads(before.stdout) == json.loads(after.stdout)

    missing = registryctl(address, "agents", "get", "nobody", "--output", "json")
    assert missing.returncode == 1 and missing.stdout == ""
    error = json.loads(missing.stderr)["error"]
    assert error["code"] == "NOT_FOUND" and "nobody" in error["message"] and error["exit_code"] == 1
    unreachable = registryctl("127.0.0.1:1", "--timeout", "1", "stats", "-o", "json")
    assert unreachable.returncode == 3 and json.loads(unreachable.stderr)["error"]["code"] == "UNAVAILABLE"


def test_version_on_registryctl_and_registryd() -> None:
    for program in ("registryctl", "registryd"):
        result = subprocess.run(
            [str(REGISTRYCTL.with_name(program)), "--version"], capture_output=True, text=True, timeout=30
        )
        assert result.returncode == 0 and result.stdout.startswith(f"{program} 0."), result


def test_agents_select_picks_one_and_says_why(registry: tuple[str, Any]) -> None:
    address, stub = registry
    picked = registryctl(address, "agents", "select", "python", "--strategy", "least_loaded")
    assert picked.returncode == 0, picked.stderr
    assert picked.stdout.split()[0] in ("coder", "reviewer")
    assert "why: least loaded of 2 that fit" in picked.stdout
    keyed = registryctl(
        address, "-o", "json", "agents", "select", "python", "--strategy", "affinity", "--key", "k1"
    )
    assert keyed.returncode == 0, keyed.stderr
    document = json.loads(keyed.stdout)
    assert document["agent"]["agent_id"] in ("coder", "reviewer") and document["eligible"] == 2
    stub.Heartbeat(
        pb.HeartbeatRequest(runtime_id="rt-a", loads=[pb.LoadReport(in_flight=1, max_concurrency=1)])
    )
    full = registryctl(address, "agents", "select", "python", "--exclude", "nobody")
    assert full.returncode == 1
    assert "no agent fits: 2 ACTIVE agents match, none fits (2 at max concurrency)" in full.stdout
    bad = registryctl(address, "agents", "select", "python", "--strategy", "affinity")
    assert bad.returncode == 1 and "INVALID_ARGUMENT" in bad.stderr and "affinity_key" in bad.stderr


HOSTILE = "\x1b[2J\x1b[8mhidden\u202eevil\x07[bold]x[/bold]"


def test_tables_escape_control_and_bidi_characters_and_json_stays_exact(
    daemon_process: Callable[..., Any],
) -> None:
    daemon = daemon_process("--store", "memory")
    with grpc.insecure_channel(daemon.address) as channel:
        card = pb.AgentCard(name=HOSTILE, description=HOSTILE)
        pb_grpc.RegistryServiceStub(channel).RegisterAgent(
            pb.RegisterAgentRequest(
                agent_id="evil", runtime_id="rt", card=card, capabilities=[f"cap {HOSTILE}"]
            )
        )
    runs = {
        "list": registryctl(daemon.address, "agents", "list"),
        "get": registryctl(daemon.address, "agents", "get", "evil"),
        "find": registryctl(daemon.address, "agents", "find", "cap"),
        "watch": registryctl(daemon.address, "watch", "--from-revision", "1", "--count", "2"),
    }
    for name, run in runs.items():
        assert run.returncode == 0, (name, run.stderr)
        printed = run.stdout
        assert not {"\x1b", "\x07", "\u202e"} & set(printed), name
        if name != "watch":  # watch shows the capabilities of a registration
            assert "\\x1b[2J\\x1b[8mhidden\\u202eevil\\x07[bold]x[/bold]" in printed, name
    assert "\\x1b[2J" in runs["watch"].stdout
    exact = registryctl(daemon.address, "-o", "json", "agents", "get", "evil")
    assert json.loads(exact.stdout)["card"]["name"] == HOSTILE


@pytest.mark.parametrize(
    ("args", "files", "message"),
    [
        (["--timeout", "-1"], {}, "--timeout: must be more than 0"),
        (["--timeout", "nan"], {}, "--timeout: must be more than 0"),
        (["--timeout", "inf"], {}, "--timeout: must be more than 0"),
        (["--timeout", "1e12"], {}, "--timeout: must be more than 0"),
        (["--timeout", "soon"], {}, "--timeout: not a number of seconds"),
        (["--token", "abc\ndef"], {}, "--token: a bearer token is visible ASCII only"),
        (["--token-file", "{empty}"], {"empty": ""}, "--token-file is empty"),
        (["--token-file", "{two}"], {"two": "abc\ndef\n"}, "--token-file: a bearer token is visible ASCII"),
        (
            ["--tls-ca", "{ca}"],
            {"ca": "not a certificate"},
            "is not a PEM file (no '-----BEGIN CERTIFICATE-----'",
        ),
    ],
)
def test_nonsense_options_exit_2_with_a_clear_message(
    tmp_path: Path, args: list[str], files: dict[str, str], message: str
) -> None:
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    args = [a.format(**{name: str(tmp_path / name) for name in files}) for a in args]
    run = registryctl("127.0.0.1:1", *args, "stats")
    assert run.returncode == 2, run.stderr
    assert message in run.stderr and "Traceback" not in run.stderr
