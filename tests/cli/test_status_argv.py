"""`status`'s own options are read without Typer exactly as Typer reads them: the reader knows the
same options as the Typer command, and for any argument list it either declines (Typer then parses
it, errors and help included) or gives the values Typer's parsing gives the command."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path
from typing import Any

import pytest
import typer.main
from hypothesis import given, settings
from hypothesis import strategies as st
from typer import Exit
from typer._click.exceptions import ClickException

from onboard_sync.cli import _register_commands, app, status_run
from onboard_sync.cli.plain_options import convert_plainly, plain_kind
from onboard_sync.cli.status_argv import DEFAULTS, STATUS_FLAGS, StatusOptions, parse_status_argv


def typer_status(plainly: bool = True) -> Any:
    """The click command Typer makes of `status` (``plainly``: with the CLI's plain conversions)."""
    _register_commands("status")
    group = typer.main.get_command(app)
    if plainly:
        convert_plainly(group)
    return group.commands["status"]


def test_the_reader_knows_the_typer_commands_options() -> None:
    command = typer_status(plainly=False)
    typer_flags = {}
    for param in command.params:
        assert param.secondary_opts == [], param.name  # no --no-FLAG forms to read
        assert not param.multiple, param.name
        assert param.nargs == 1, param.name
        assert param.envvar is None, param.name
        assert param.default == getattr(DEFAULTS, param.name), param.name
        kind = bool if param.is_flag else plain_kind(param)
        typer_flags.update({flag: (param.name, kind) for flag in param.opts})

    assert typer_flags == STATUS_FLAGS
    assert {param.name for param in command.params} == {field.name for field in fields(StatusOptions)}


def typer_parse(args: list[str], monkeypatch: pytest.MonkeyPatch) -> StatusOptions | None:
    """What the Typer command is run with for ``args`` (``None``: Typer refuses them or shows help)."""
    ran: list[StatusOptions] = []
    monkeypatch.setattr(status_run, "run_status", ran.append)
    try:
        typer_status().main(args=args[1:], prog_name="onboard-sync status", standalone_mode=False)
    except (ClickException, Exit):
        return None
    return ran[0] if ran else None


FLAGS = [*STATUS_FLAGS, "--help", "-h", "--", "-", "--no-json", "--conf", "--log-level", "extra", "status"]
VALUES = st.one_of(
    st.sampled_from(["10", "-3", "x", "", "0", "007", "+5", " 5", "1_0", "9" * 19, "config.toml", "/no/such.toml"]),
    st.sampled_from(["--json", "-c", "--", "grace", "Go-live", "a=b", "-cfoo", "é"]),
    st.integers().map(str),
    st.text(max_size=8),
)
VALUED = [flag for flag, (_, kind) in STATUS_FLAGS.items() if kind is not bool]
SWITCHES = [flag for flag, (_, kind) in STATUS_FLAGS.items() if kind is bool]
OPTION = st.one_of(
    st.tuples(st.sampled_from(VALUED), VALUES).map(list),  # --owner grace
    st.tuples(st.sampled_from(VALUED), VALUES).map(lambda pair: ["=".join(pair)]),  # --owner=grace
    st.sampled_from(SWITCHES).map(lambda flag: [flag]),
)
GROUPS = st.one_of(
    OPTION,
    OPTION,
    OPTION,
    OPTION,
    OPTION,
    st.one_of(  # anything, rarely
        st.sampled_from(FLAGS),
        VALUES,
        st.tuples(st.sampled_from(FLAGS), VALUES).map("=".join),
        st.tuples(st.just("-c"), VALUES).map("".join),
    ).map(lambda token: [token]),
)
"""Pieces of an argument list: mostly an option with its value, sometimes any token."""


def declined_or_read_as_typer_reads(groups: list[list[str]]) -> bool:
    """Whether the reader declines ``status`` with ``groups`` of arguments, or reads what Typer reads."""
    args = ["status", *(token for group in groups for token in group)]
    fast = parse_status_argv(args)
    if fast is None:
        return True
    with pytest.MonkeyPatch.context() as monkeypatch:
        return fast == typer_parse(args, monkeypatch)


@settings(deadline=None, max_examples=400)
@given(st.lists(GROUPS, max_size=6))
def test_the_reader_declines_or_reads_what_typer_reads(groups: list[list[str]]) -> None:
    assert declined_or_read_as_typer_reads(groups)


@settings(deadline=None, max_examples=300)
@given(st.lists(OPTION, max_size=5))
def test_options_with_any_values_are_read_as_typer_reads_them(groups: list[list[str]]) -> None:
    assert declined_or_read_as_typer_reads(groups)


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["--config", "config.toml"],
        ["-c", "config.toml", "--limit", "5", "--at-risk"],
        ["--owner=grace", "--segment", "smb", "--phase", "Go-live", "--limit=1"],
        ["--owner", "-x", "--owner", "erin"],
        ["--json", "--config", "/no/such.toml"],
    ],
    ids=" ".join,
)
def test_the_usual_status_arguments_are_read(args: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    fast = parse_status_argv(["status", *args])

    assert fast is not None
    assert fast == typer_parse(["status", *args], monkeypatch)


@pytest.mark.parametrize(
    "args",
    [["--help"], ["--limit", "x"], ["--limit"], ["--json=1"], ["extra"], ["--"], ["-cconfig.toml"], ["--verbose"]],
    ids=" ".join,
)
def test_anything_else_is_left_to_typer(args: list[str]) -> None:
    assert parse_status_argv(["status", *args]) is None


def test_an_unreadable_config_is_left_to_typers_check(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text("")
    config.chmod(0)
    try:
        import os

        readable = os.access(config, os.R_OK)  # root reads anything
        assert (parse_status_argv(["status", "--config", str(config)]) is None) is not readable
    finally:
        config.chmod(0o600)
