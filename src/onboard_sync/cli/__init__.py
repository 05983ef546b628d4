"""The ``onboard-sync`` command line (Typer): one module per group of commands.

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
Typer's pydantic adapters (``cli.plain_options``).
"""

from __future__ import annotations

import gc
import sys

import typer
import typer.main

from onboard_sync.errors import UserError

PROG_NAME = "onboard-sync"
"""Fixed, so that ``python -m onboard_sync.cli`` prints the same usage and uses the same
completion variable (``_ONBOARD_SYNC_COMPLETE``) as the installed console script."""

SHORT_HELP_WIDTH = 60
"""Longest command summary that fits one line of the command list at 80 columns (click's list
indents 2, pads to the longest command name, ``connectors`` or ``salesforce``, and 2 more)."""

app = typer.Typer(
    name=PROG_NAME,
    help="Turn customer-onboarding playbooks into live CRM and helpdesk automation.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

sandbox_app = typer.Typer(
    help="Run a local CRM simulator (no account needed).", no_args_is_help=True, rich_markup_mode=None
)
app.add_typer(sandbox_app, name="sandbox", short_help="Run a local CRM simulator (no account needed).")


def distribution_version() -> str:
    """The installed onboard-sync distribution's version (what ``pip show onboard-sync`` says)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(PROG_NAME)
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown (not installed)"


def show_version(value: bool) -> None:
    """``--version`` (an eager option of the app's callback, ``cli.logging_options``)."""
    if value:
        typer.echo(f"{PROG_NAME} {distribution_version()}")
        raise typer.Exit()


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


def _register_commands(command: str | None = None) -> None:
    """Register the built-in ``command`` (``None``: every command), then the plugins' commands."""
    import importlib

    from onboard_sync.cli import logging_options  # noqa: F401 - the global options register on import

    named = COMMAND_MODULES.get(command or "")
    for module in [named] if named else sorted(set(COMMAND_MODULES.values())):
        importlib.import_module(f"onboard_sync.cli.{module}")  # its commands register on import
    from onboard_sync.plugins import get_plugin_manager, plugin_load_failures, simulators

    for failure in plugin_load_failures():
        typer.echo(f"warning: {failure}; continuing without it", err=True)
    sandbox = sys.modules.get("onboard_sync.cli.sandbox")
    try:
        if sandbox is not None:  # the sandbox commands are one per simulator the plugins register
            sandbox.add_simulator_commands(simulators())
    except UserError as exc:  # two plugins claim one simulator name: every other command still works
        typer.echo(f"warning: {exc}; the sandbox commands are left out", err=True)
    # one plugin whose commands fail to register must not take the others (or the CLI) down
    for impl in get_plugin_manager().hook.register_commands.get_hookimpls():
        try:
            impl.function(cli=app)
        except Exception as exc:
            reason = " ".join(f"{type(exc).__name__}: {exc}".split())
            typer.echo(f"warning: plugin {impl.plugin_name!r} failed to add its commands: {reason}", err=True)


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point.

    When the command is done, every object left is frozen out of the garbage collector
    (``gc.freeze``): the process is about to end, and the interpreter's shutdown would otherwise
    walk all of them in its final collections, ~50 ms of a short command such as ``status`` for
    the ~40,000 objects its imports leave. The only difference: objects left in reference cycles
    are not finalised at exit, which Python does not promise anyway (files and stores are closed
    by the code that opened them, and ``atexit`` handlers still run)."""
    from onboard_sync.cli.logging_options import setup_cli_logging  # also registers --log-format
    from onboard_sync.cli.plain_options import convert_plainly

    setup_cli_logging()
    try:
        args = sys.argv[1:] if argv is None else argv
        _register_commands(args[0] if args else None)
        command = typer.main.get_command(app)  # what app() runs (its pretty tracebacks are off)
        convert_plainly(command)  # no pydantic to read a number or a path
        command(args=args, prog_name=PROG_NAME)  # standalone: usage errors print usage and exit 2
    except UserError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(2)
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        sys.exit(130)
    finally:
        gc.freeze()
