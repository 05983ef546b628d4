"""The ``onboard-sync`` command line (Typer): one module per group of commands.

This package's module holds ``main()`` and the names every part needs; the Typer app and the
registration of the commands are ``cli.typer_app``, whose names (``app``, ``sandbox_app``, ...) this
module gives on first use, so nothing imports Typer before it is needed.

``main()`` is the console-script entry point. Typer runs in its standalone mode, so usage
mistakes (no command, an unknown command or option) are answered by the click that Typer
itself uses, whichever that is (Typer 0.29 bundles its own): the usage line, the error,
exit code 2, no traceback. Every ``UserError`` (bad config, missing property, refused
token, lock held, busy port, missing store) becomes one line ``error: WHERE: WHAT`` on
stderr and exit code 2; a run that finished with failed writes exits 1. A plugin that
fails to load is named in one ``warning:`` line and the rest of the CLI works without it.

Help is click's plain help (``rich_markup_mode=None``), not Typer's rich panels: the rich
formatter (rich's Markdown and traceback modules) cost ``--help`` about 60 ms of its 0.3 s
budget, and the plain layout reads as well at 80 columns. Every command has a one-line
``short_help`` of at most 60 characters for the command list (``SHORT_HELP_WIDTH``), so
click never cuts a summary off with "..."; ``COMMAND --help`` shows the full text.

A short command starts with what it needs and no more: ``onboard-sync NAME`` for a built-in NAME
imports only the module that registers it (``COMMAND_MODULES``), so Typer turns one command into
a click command instead of sixteen, and the option values of plain types are converted without
Typer's pydantic adapters (``cli.plain_options``). ``onboard-sync status`` followed only by status's
own options (not ``--json``, which loads the whole configuration anyway) does not import Typer or
click at all: ``cli.status_argv`` reads the arguments, ``cli.status_run`` runs the same code the
Typer command runs, and its table is printed without rich (``cli.text_table``); anything else in
its arguments (``--help``, a mistake) goes through Typer as before, so help and usage errors read the
same. That spares ``status`` ~0.1 s of imports and rendering (issue #16: under 0.3 s in all).
"""

from __future__ import annotations

import gc
import sys
from typing import Any

from onboard_sync.errors import UserError

PROG_NAME = "onboard-sync"
"""Fixed, so that ``python -m onboard_sync.cli`` prints the same usage and uses the same
completion variable (``_ONBOARD_SYNC_COMPLETE``) as the installed console script."""

SHORT_HELP_WIDTH = 60
"""Longest command summary that fits one line of the command list at 80 columns (click's list
indents 2, pads to the longest command name, ``connectors`` or ``salesforce``, and 2 more)."""

COMMAND_MODULES = {
    "cluster": "cluster",
    "demo": "demo",
    "report": "report",
    "plan": "run",
    "sync": "run",
    "sandbox": "sandbox",
    "serve": "serve",
    "init": "setup",
    "connectors": "setup",
    "validate": "setup",
    "setup": "setup",
    "simulate": "simulate",
    "status": "status",
    "store": "store",
    "worker": "worker",
    "schedules": "worker",
}
"""The module of ``onboard_sync.cli`` whose import registers each built-in command (tests/cli/test_cli_usage.py
checks it against what they register). ``onboard-sync status`` imports, and Typer converts into a click
command, only ``status``'s module; anything else (``--help``, a global option first, a mistyped or a
plugin's command) imports them all, in this order of their names, which is the order ``--help`` lists."""

TYPER_APP_NAMES = {
    "app": "app",
    "sandbox_app": "sandbox_app",
    "show_version": "show_version",
    "distribution_version": "distribution_version",
    "_register_commands": "register_commands",
}
"""The names of ``cli.typer_app`` this package gives (``from onboard_sync.cli import app``)."""


def __getattr__(name: str) -> Any:
    """``cli.typer_app``'s names, imported (with Typer) on first use."""
    if name not in TYPER_APP_NAMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from onboard_sync.cli import typer_app

    return getattr(typer_app, TYPER_APP_NAMES[name])


def warn_plugin_load_failures() -> None:
    """One ``warning:`` line on stderr for each plugin that failed to load (the CLI goes on without it)."""
    from onboard_sync.plugins import plugin_load_failures

    for failure in plugin_load_failures():
        _say(f"warning: {failure}; continuing without it")


def _say(line: str) -> None:
    sys.stderr.write(line + "\n")
    sys.stderr.flush()


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point.

    ``status`` with only its own options runs without Typer (``cli.status_argv``); everything else
    runs through the Typer app (``cli.typer_app.run_typer``). On both, a ``UserError`` is one line
    ``error: ...`` and exit code 2.

    When the command is done, every object left is frozen out of the garbage collector
    (``gc.freeze``): the process is about to end, and the interpreter's shutdown would otherwise
    walk all of them in its final collections, ~50 ms of a short command such as ``status`` for
    the ~40,000 objects its imports leave. The only difference: objects left in reference cycles
    are not finalised at exit, which Python does not promise anyway (files and stores are closed
    by the code that opened them, and ``atexit`` handlers still run)."""
    from onboard_sync.logs import setup_logging

    setup_logging()  # from the environment; --log-format/--log-level (Typer's path) set it up again
    try:
        args = sys.argv[1:] if argv is None else argv
        options = None
        if args[:1] == ["status"]:
            from onboard_sync.cli.status_argv import parse_status_argv

            options = parse_status_argv(args)
        if options is not None and not options.json:  # --json loads the whole configuration anyway
            from onboard_sync.cli.status_run import run_status

            warn_plugin_load_failures()  # as registering the commands does on Typer's path
            run_status(options)
        else:
            from onboard_sync.cli.typer_app import run_typer

            run_typer(args)
    except UserError as exc:
        _say(f"error: {exc}")
        sys.exit(2)
    except KeyboardInterrupt:
        _say("interrupted")
        sys.exit(130)
    except BrokenPipeError:  # the reader went away (``status | head``): stop quietly, as a shell tool does
        _quiet_stdout()
        sys.exit(141)  # 128 + SIGPIPE, what the shell reports for a tool its pipe stopped
    finally:
        gc.freeze()


def _quiet_stdout() -> None:
    """Point stdout at the null device, so the interpreter's final flush of what is still buffered
    cannot fail a second time (and print a traceback) on the closed pipe."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # no real stdout (an embedding host): nothing left to protect
        pass
