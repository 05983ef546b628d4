"""`status` with only its own options runs without Typer (cli/status_argv.py), anything else through
Typer: both print the same table, the same one-line errors with exit code 2, and Typer's path still
answers `--help` and usage mistakes. A global option first (`--log-format text`, the default) takes
Typer's path with the same command."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_run import clean_env, run_cli, user_error

from onboard_sync.cli.setup import init
from onboard_sync.runtime import load_runtime
from onboard_sync.store import Store

TYPER_PATH = ("--log-format", "text")
"""A global option before the command: the full Typer CLI parses the arguments."""


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A starter project whose (empty) store exists, as after a first `sync`."""
    folder = tmp_path_factory.mktemp("status-paths")
    init(directory=folder, force=False)
    Store.open(load_runtime(folder / "config.toml").config.store_url).close()
    return folder


def both(project: Path, *args: str | Path) -> tuple[tuple[int, str, str], tuple[int, str, str]]:
    env = clean_env({"COLUMNS": "80"})
    fast = run_cli("status", *args, env=env, cwd=project)
    typer = run_cli(*TYPER_PATH, "status", *args, env=env, cwd=project)
    return (fast.returncode, fast.stdout, fast.stderr), (typer.returncode, typer.stdout, typer.stderr)


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["--limit", "1", "--at-risk"],
        ["--segment", "no-such-segment"],
        ["--phase=nothing"],
        ["--config", "missing.toml"],
        ["--owner", "nobody"],
        ["--limit", "0"],
    ],
    ids=" ".join,
)
def test_both_paths_print_the_same(project: Path, args: list[str]) -> None:
    fast, typer = both(project, *args)

    assert fast == typer


def test_an_error_is_one_line_and_exit_2_without_typer(project: Path) -> None:
    result = run_cli("status", "--segment", "no-such-segment", cwd=project)

    assert "no-such-segment" in user_error(result)


@pytest.mark.parametrize("args", [["--limit", "x"], ["--json=1"], ["extra"], ["--nope"]], ids=" ".join)
def test_usage_mistakes_get_typers_usage_error(project: Path, args: list[str]) -> None:
    result = run_cli("status", *args, cwd=project)

    assert result.returncode == 2
    assert "Error:" in result.stderr, result.stderr  # click's words, as Typer prints them
    assert "Traceback" not in result.stderr


def test_help_is_typers(project: Path) -> None:
    result = run_cli("status", "--help", cwd=project)

    assert result.returncode == 0
    assert "--at-risk" in result.stdout
    assert result.stdout.startswith("Usage: onboard-sync status [OPTIONS]")


@pytest.mark.parametrize("limit", ["0", "-3"])
def test_a_limit_below_one_is_a_usage_error(project: Path, limit: str) -> None:
    result = run_cli("status", "--limit", limit, cwd=project)

    assert result.returncode == 2, result.stderr
    assert "'--limit'" in result.stderr
    assert result.stdout == ""
