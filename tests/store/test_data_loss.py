"""A data directory that held data is never served empty or rewound (issue 11, item 5): an emptied data
file, one put back without its -wal after an unclean stop, or an older copy put back, is refused with exit
1 naming the file and the ways to recover; `registryd backup` and `registryd restore` are those ways."""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import grpc
from agentregistry.v1 import registry_pb2 as pb
from agentregistry.v1 import registry_pb2_grpc as pb_grpc

DATA = "registry.sqlite3"
CARD = pb.AgentCard(name="coder")


def registryd(*args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "registryd", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=60)


def refused_start(data_dir: Path) -> subprocess.CompletedProcess[str]:
    return registryd("--listen", "127.0.0.1:0", "--data-dir", str(data_dir), "--log-level", "warning")


def register(address: str, *agent_ids: str) -> int:
    with grpc.insecure_channel(address) as channel:
        stub = pb_grpc.RegistryServiceStub(channel)
        for agent_id in agent_ids:
            revision = stub.RegisterAgent(
                pb.RegisterAgentRequest(agent_id=agent_id, runtime_id="rt", card=CARD)
            ).revision
        return revision


def history(address: str) -> str:
    with grpc.insecure_channel(address) as channel:
        _, call = pb_grpc.RegistryServiceStub(channel).GetStats.with_call(pb.GetStatsRequest())
        return dict(call.trailing_metadata())["registry-history"]


def listed(address: str) -> tuple[list[str], int]:
    with grpc.insecure_channel(address) as channel:
        page = pb_grpc.RegistryServiceStub(channel).ListAgents(pb.ListAgentsRequest())
        return [a.agent_id for a in page.agents], page.revision


def test_a_copy_without_its_wal_after_an_unclean_stop_is_refused(
    daemon_process: Callable[..., Any], tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"
    daemon = daemon_process("--data-dir", str(data_dir))
    register(daemon.address, "a1", "a2", "a3")
    naive_copy = tmp_path / "naive.sqlite3"
    shutil.copyfile(data_dir / DATA, naive_copy)  # what `cp` takes: the file, not its -wal
    daemon.signal(signal.SIGKILL)
    for side in ("-wal", "-shm"):  # the copy put back in place, as a naive restore would
        (data_dir / (DATA + side)).unlink(missing_ok=True)
    shutil.copyfile(naive_copy, data_dir / DATA)

    refused = refused_start(data_dir)

    assert refused.returncode == 1, refused.stderr
    assert str(data_dir / DATA) in refused.stderr and "write-ahead log" in refused.stderr
    assert "--accept-data-loss" in refused.stderr and "registryd restore" in refused.stderr


def test_an_emptied_data_file_is_refused_and_accept_data_loss_starts_afresh(
    daemon_process: Callable[..., Any], tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"
    daemon = daemon_process("--data-dir", str(data_dir))
    register(daemon.address, "a1")
    assert daemon.signal(signal.SIGTERM) == 0
    os.truncate(data_dir / DATA, 0)

    refused = refused_start(data_dir)
    assert refused.returncode == 1 and f"data file {data_dir / DATA} is empty (0 bytes)" in refused.stderr

    (data_dir / DATA).unlink()
    missing = refused_start(data_dir)
    assert (
        missing.returncode == 1 and "is missing, but this data directory served revision 2" in missing.stderr
    )

    afresh = daemon_process("--data-dir", str(data_dir), "--accept-data-loss")
    assert listed(afresh.address) == ([], 0)
    assert afresh.signal(signal.SIGTERM) == 0
    again = daemon_process("--data-dir", str(data_dir))  # the new start is the new baseline
    assert listed(again.address) == ([], 0)


def test_online_backup_then_restore_and_a_rewind_without_restore_is_refused(
    daemon_process: Callable[..., Any], tmp_path: Path
) -> None:
    data_dir, saved = tmp_path / "data", tmp_path / "saved.sqlite3"
    daemon = daemon_process("--data-dir", str(data_dir))
    at_backup = register(daemon.address, "a1", "a2")
    before = history(daemon.address)
    taken = registryd("backup", "--data-dir", str(data_dir), str(saved))  # while the daemon serves
    assert taken.returncode == 0 and f"backed up revision {at_backup}" in taken.stdout, taken.stderr
    register(daemon.address, "a3")
    assert daemon.signal(signal.SIGTERM) == 0

    shutil.copyfile(saved, data_dir / DATA)  # put back by hand: an older state
    rewound = refused_start(data_dir)
    assert rewound.returncode == 1, rewound.stderr
    assert (
        f"holds revision {at_backup}, but this data directory served revision {at_backup + 1}"
        in rewound.stderr
    )

    restored = registryd("restore", "--data-dir", str(data_dir), str(saved))
    assert restored.returncode == 0 and f"restored revision {at_backup}" in restored.stdout, restored.stderr
    daemon = daemon_process("--data-dir", str(data_dir))
    assert listed(daemon.address) == (["a1", "a2"], at_backup)
    assert history(daemon.address) != before  # revisions after the backup's will name other changes
    busy = registryd("restore", "--data-dir", str(data_dir), str(saved))  # refused while it serves
    assert busy.returncode == 1 and "in use by another registryd" in busy.stderr
    exists = registryd("backup", "--data-dir", str(data_dir), str(saved))
    assert exists.returncode == 1 and "exists" in exists.stderr


def test_rows_are_validated_on_load_like_requests(daemon_process: Callable[..., Any], tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    daemon = daemon_process("--data-dir", str(data_dir))
    register(daemon.address, "a1", "a2")
    assert daemon.signal(signal.SIGTERM) == 0
    for change, message in (
        ("card_name = printf('%.300c', 'x')", "card.name is 300 characters; the limit is 256"),
        ("agent_id = 'bad id/../'", "has characters outside letters"),
        ("card_name = X'00ff'", "a stored value has the wrong type"),
    ):
        copy = tmp_path / f"edited-{len(message)}"
        shutil.copytree(data_dir, copy)
        with sqlite3.connect(copy / DATA) as db:
            db.execute(f"UPDATE agents SET {change} WHERE agent_id = 'a2'")
        db.close()
        refused = refused_start(copy)
        assert refused.returncode == 1, refused.stderr
        assert "breaks the rules a registration follows" in refused.stderr and message in refused.stderr
