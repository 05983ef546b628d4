"""Helpers shared by the CLI commands: loading the runtime, opening the store, output (the options the
commands share are in ``cli.options``: this module imports no Typer, so ``status`` can use it without)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from onboard_sync.cli.terminal import OFF_TERMINAL_COLUMNS

if TYPE_CHECKING:  # config, rules and store load only in the commands that use them (a fast --help)
    from rich.console import Console

    from onboard_sync.runtime import Runtime
    from onboard_sync.store import Store
    from onboard_sync.store.sqlite_reader import SqliteReader


def _console(stderr: bool) -> Console:
    """Rich consoles as wide as the terminal or ``COLUMNS``; off a terminal (cron, pipes) and
    without ``COLUMNS``, a wide fixed width so tables stay readable in logs."""
    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    if stream.isatty() or os.environ.get("COLUMNS", "").isdigit():
        return Console(stderr=stderr)  # rich reads COLUMNS itself
    return Console(stderr=stderr, width=OFF_TERMINAL_COLUMNS)


class _ConsoleOnFirstUse:
    """Stands for the rich ``Console`` of stdout or stderr and makes it on first use.

    Every command module imports ``console`` when the CLI starts, and rich costs ~30 ms to
    import: ``--help`` and the commands that print no table need not pay for it. Attribute
    access (``console.print``, ``console.width``) and ``with console:`` (rich's ``Live``, under
    ``Progress``, enters its console) reach the real console, which is all rich and this CLI do
    with one (no ``isinstance`` checks)."""

    def __init__(self, stderr: bool) -> None:
        self._stderr = stderr
        self._console: Console | None = None

    def _real(self) -> Console:
        if self._console is None:
            self._console = _console(self._stderr)
        return self._console

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real(), name)

    def __enter__(self) -> Console:
        return self._real().__enter__()

    def __exit__(self, *exc_info: Any) -> None:
        self._real().__exit__(*exc_info)


console = cast("Console", _ConsoleOnFirstUse(stderr=False))
err_console = cast("Console", _ConsoleOnFirstUse(stderr=True))


def runtime(config: Path | None) -> Runtime:
    from onboard_sync.runtime import load_runtime

    return load_runtime(config)


def open_store(rt: Runtime, *, read_only: bool = False, must_exist: bool = False) -> Store:
    """The config's store; ``must_exist`` for commands that only show it (``status``): a store
    that ``sync`` has not created yet is an error, not an empty table."""
    from onboard_sync.store import Store

    return Store.open(rt.config.store_url, read_only=read_only, must_exist=must_exist)


def open_reads(store_url: str, config: Path | None, rt: Runtime | None = None) -> SqliteReader | Store:
    """What ``status`` reads its table from: a SQLite store at the schema head through the standard
    library's sqlite3 (no SQLAlchemy, ~0.2 s less start-up), anything else (PostgreSQL, a missing
    file, an older schema: their errors) through ``open_store(read_only=True, must_exist=True)`` of
    ``rt``, or of ``config`` loaded in full when the caller has only its remembered settings."""
    from onboard_sync.store.sqlite_reader import SqliteReader

    reader = SqliteReader.open(store_url)
    if reader is not None:
        return reader
    return open_store(rt or runtime(config), read_only=True, must_exist=True)


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")


def is_terminal() -> bool:
    return sys.stderr.isatty() and not _ci()


def _ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}
