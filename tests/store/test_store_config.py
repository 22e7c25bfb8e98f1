"""Choosing the store: --store / REGISTRYD_STORE and --data-dir / REGISTRYD_DATA_DIR."""

from __future__ import annotations

from pathlib import Path

import pytest

from registryd.config import ConfigError, load_config
from registryd.store.sqlite import DATA_FILE, LOCK_FILE


def test_an_unknown_store_is_a_config_error_naming_the_choices() -> None:
    with pytest.raises(ConfigError, match="store must be one of sqlite, memory"):
        load_config(["--store", "disk"], environ={})


def test_store_and_data_dir_come_from_the_environment_and_flags_win() -> None:
    environ = {"REGISTRYD_STORE": "memory", "REGISTRYD_DATA_DIR": "/var/lib/registryd"}
    assert (load_config([], environ).store, load_config([], environ).data_dir) == (
        "memory",
        "/var/lib/registryd",
    )
    assert load_config(["--store", "sqlite"], environ).store == "sqlite"


def test_by_default_state_goes_to_sqlite_in_registryd_data_under_the_working_directory(
    daemon_process, tmp_path: Path
) -> None:
    process = daemon_process("--log-level", "warning")
    assert (tmp_path / "registryd-data" / DATA_FILE).is_file()
    assert (tmp_path / "registryd-data" / LOCK_FILE).read_text().strip() == str(process.proc.pid)
    assert process.signal() == 0
