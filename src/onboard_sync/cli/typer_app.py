"""The Typer application of ``onboard-sync``: the app, its commands' registration and running it.

``onboard_sync.cli`` gives these names (``app``, ``sandbox_app``, ...) on first use, so a command
module's ``from onboard_sync.cli import app`` reaches them, and ``main()`` imports Typer only when it
needs it (``status`` with its own options alone does not, ``cli.status_argv``).
"""

from __future__ import annotations

import sys

import typer
import typer.main

from onboard_sync.cli import COMMAND_MODULES, PROG_NAME, warn_plugin_load_failures
from onboard_sync.errors import UserError

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


def register_commands(command: str | None = None) -> None:
    """Register the built-in ``command`` (``None``: every command), then the plugins' commands."""
    import importlib

    from onboard_sync.cli import logging_options  # noqa: F401 - the global options register on import

    named = COMMAND_MODULES.get(command or "")
    for module in [named] if named else sorted(set(COMMAND_MODULES.values())):
        importlib.import_module(f"onboard_sync.cli.{module}")  # its commands register on import
    from onboard_sync.plugins import get_plugin_manager, simulators

    warn_plugin_load_failures()
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


def run_typer(args: list[str]) -> None:
    """Run ``args`` through the full Typer CLI (standalone: usage errors print usage and exit 2)."""
    from onboard_sync.cli.plain_options import convert_plainly

    register_commands(args[0] if args else None)
    command = typer.main.get_command(app)  # what app() runs (its pretty tracebacks are off)
    convert_plainly(command)  # no pydantic to read a number or a path
    command(args=args, prog_name=PROG_NAME)
