"""Configuration: nonsense is refused with a clear message (ConfigError; exit code 2 from the CLI)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from registryd.config import ConfigError, load_config
from registryd.core.registry import RegistrySettings


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--auto-deregister-timeout", "1", "--heartbeat-timeout", "5"], "auto_deregister_timeout"),
        (["--auto-deregister-timeout", "5", "--heartbeat-timeout", "5"], "auto_deregister_timeout"),
        (["--heartbeat-timeout", "0"], "heartbeat_timeout must be positive"),
        (["--event-queue-size", "-1"], "event_queue_size"),
        (["--event-retention", "0"], "event_retention"),
        (["--event-queue-size", "ten"], "event_queue_size must be an integer"),
        (["--listen", "nowhere"], "listen must be host:port"),
        (["--log-format", "xml"], "log_format must be one of"),
        (["--heartbeat-timeout", "nan"], "heartbeat_timeout must be a finite number"),
        (["--heartbeat-timeout", "inf"], "heartbeat_timeout must be a finite number"),
        (["--heartbeat-timeout", "1e308"], "heartbeat_timeout must be a finite number"),
        (["--shutdown-grace", "nan"], "shutdown_grace must be a finite number"),
        (["--bookmark-interval", "nan"], "bookmark_interval must be a finite number"),
        (["--max-message-bytes", "99999999999"], "max_message_bytes must be at most"),
        (["--ready-file", "/missing/dir/x"], "ready_file '/missing/dir/x': its directory does not exist"),
    ],
)
def test_nonsense_flags_are_config_errors(argv: list[str], message: str):
    with pytest.raises(ConfigError, match=message):
        load_config(argv, environ={})


def test_environment_is_read_and_validated():
    config = load_config(
        [], environ={"REGISTRYD_HEARTBEAT_TIMEOUT": "2", "REGISTRYD_AUTO_DEREGISTER_TIMEOUT": "4"}
    )
    assert (config.heartbeat_timeout, config.auto_deregister_timeout) == (2.0, 4.0)
    with pytest.raises(ConfigError, match="event_queue_size"):
        load_config([], environ={"REGISTRYD_EVENT_QUEUE_SIZE": "0"})


def test_flags_override_the_environment():
    config = load_config(["--event-queue-size", "7"], environ={"REGISTRYD_EVENT_QUEUE_SIZE": "9"})
    assert config.event_queue_size == 7


def test_defaults_are_the_documented_ones():
    config = load_config([], environ={})
    assert config.listen == "127.0.0.1:50051"
    assert (config.heartbeat_timeout, config.auto_deregister_timeout) == (30.0, 60.0)
    assert config.event_queue_size == 100


def test_registry_settings_refuse_expiry_before_timeout():
    with pytest.raises(ValueError, match="auto_deregister_timeout"):
        RegistrySettings(heartbeat_timeout=5, auto_deregister_timeout=1)


def test_daemon_exits_2_with_a_clear_message_on_nonsense():
    result = subprocess.run(
        [sys.executable, "-m", "registryd", "--auto-deregister-timeout", "1", "--heartbeat-timeout", "5"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert "auto_deregister_timeout (1.0) must be greater than heartbeat_timeout (5.0)" in result.stderr


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ('data_dir = ["a", "b"]', "data_dir must be a string"),
        ("heartbeat_timeout = true", "heartbeat_timeout must be a number"),
        ("heartbeat_timout = 5", "unknown option 'heartbeat_timout'"),
    ],
)
def test_config_file_values_of_the_wrong_type_are_refused(tmp_path, toml: str, message: str):
    path = tmp_path / "registryd.toml"
    path.write_text(toml)
    with pytest.raises(ConfigError, match=message):
        load_config(["--config", str(path)], environ={})


def test_choices_are_case_insensitive_and_integers_are_numbers(tmp_path):
    path = tmp_path / "registryd.toml"
    path.write_text("heartbeat_timeout = 5\nauto_deregister_timeout = 10")
    config = load_config(["--config", str(path), "--log-level", "INFO"], environ={})
    assert (config.log_level, config.heartbeat_timeout) == ("info", 5.0)


def test_a_misspelt_variable_is_named_in_a_warning(capsys):
    load_config([], environ={"REGISTRYD_HEARTBEAT_TIMOUT": "5"})
    assert "REGISTRYD_HEARTBEAT_TIMOUT" in capsys.readouterr().err
