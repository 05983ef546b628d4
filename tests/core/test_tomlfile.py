"""TOML reading: syntax errors and key paths point at file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from onboard_sync.errors import ConfigError
from onboard_sync.tomlfile import read_toml

SAMPLE = """\
# a comment
[onboard_sync]
store = "sqlite:///x.db"

[[phases]]
key = "handoff"
[[phases.tasks]]
key = "t1"
[[phases.tasks]]
key = "t2"
when = "deal.amount > 1"

[[phases]]
key = "kickoff"
description = \"\"\"
multi = "not a key"
\"\"\"
label = "Kickoff"

[connectors.hubspot]
type = "hubspot"
"quoted.key" = 1
"""


def test_key_paths_map_to_lines(tmp_path: Path) -> None:
    path = tmp_path / "x.toml"
    path.write_text(SAMPLE)
    doc = read_toml(path)
    assert doc.line_of(("onboard_sync", "store")) == 3
    assert doc.line_of(("phases", 0, "tasks", 1, "when")) == 11
    assert doc.line_of(("phases", 1, "key")) == 14
    assert doc.line_of(("phases", 1, "label")) == 18
    assert doc.line_of(("connectors", "hubspot", "type")) == 21
    assert doc.line_of(("connectors", "hubspot", "quoted.key")) == 22
    assert doc.where(("connectors", "hubspot", "nope")) == f"{path}:20 (connectors.hubspot.nope)"


def test_syntax_error_names_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text('[a]\nx = 1\ny = "unterminated\n')
    with pytest.raises(ConfigError) as info:
        read_toml(path)
    assert info.value.where == f"{path}:3:5" or info.value.where.startswith(f"{path}:3:")
    assert "invalid TOML" in info.value.message


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="file not found"):
        read_toml(tmp_path / "none.toml")
