"""Helpers shared by the CLI commands: options, loading the runtime, opening the store, output."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

if TYPE_CHECKING:  # config, rules and store load only in the commands that use them (a fast --help)
    from onboard_sync.runtime import Runtime
    from onboard_sync.store import Store

ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", "-c", help="Path of config.toml (default: ./config.toml or $ONBOARD_SYNC_CONFIG)."),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON object instead of tables.")]


OFF_TERMINAL_COLUMNS = 160


def _console(stderr: bool) -> Console:
    """Rich consoles as wide as the terminal or ``COLUMNS``; off a terminal (cron, pipes) and
    without ``COLUMNS``, a wide fixed width so tables stay readable in logs."""
    stream = sys.stderr if stderr else sys.stdout
    if stream.isatty() or os.environ.get("COLUMNS", "").isdigit():
        return Console(stderr=stderr)  # rich reads COLUMNS itself
    return Console(stderr=stderr, width=OFF_TERMINAL_COLUMNS)


console = _console(stderr=False)
err_console = _console(stderr=True)


def runtime(config: Path | None) -> Runtime:
    from onboard_sync.runtime import load_runtime

    return load_runtime(config)


def open_store(rt: Runtime, *, read_only: bool = False, must_exist: bool = False) -> Store:
    """The config's store; ``must_exist`` for commands that only show it (``status``): a store
    that ``sync`` has not created yet is an error, not an empty table."""
    from onboard_sync.store import Store

    return Store.open(rt.config.store_url, read_only=read_only, must_exist=must_exist)


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")


def is_terminal() -> bool:
    return sys.stderr.isatty() and not _ci()


def _ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}
