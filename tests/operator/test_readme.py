"""The README documents every option the daemon accepts, with current defaults and meanings."""

from __future__ import annotations

import re
from pathlib import Path

from registryd.config import parser
from registryd.config_table import BEGIN, END, markdown_table

README = Path(__file__).resolve().parents[2] / "README.md"


def configuration_section() -> str:
    text = README.read_text()
    return text[text.index(BEGIN) + len(BEGIN) : text.index(END)]


def test_readme_configuration_table_lists_every_registryd_flag() -> None:
    accepted = set(re.findall(r"--[a-z][a-z-]+", parser().format_help())) - {"--help", "--version"}
    documented = set(re.findall(r"^\| `(--[a-z-]+)`", configuration_section(), re.MULTILINE))

    assert sorted(accepted - documented) == [], (
        "README is missing flags: run python -m registryd.config_table README.md"
    )
    assert sorted(documented - accepted) == [], "README documents flags registryd does not accept"


def test_readme_configuration_table_is_current() -> None:
    assert configuration_section().strip() == markdown_table(), (
        "README's configuration table is stale: run python -m registryd.config_table README.md"
    )
