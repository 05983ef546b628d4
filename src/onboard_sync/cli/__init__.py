"""The ``onboard-sync`` command line (Typer): one module per group of commands.

``main()`` is the console-script entry point. Every ``UserError`` (bad config, missing
property, refused token, lock held) becomes one line ``error: WHERE: WHAT`` on stderr and
exit code 2, with no traceback; a run that finished with failed writes exits 1.
"""

from __future__ import annotations

import sys

import typer

from onboard_sync.errors import UserError

app = typer.Typer(
    name="onboard-sync",
    help="Turn customer-onboarding playbooks into live CRM and helpdesk automation.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

sandbox_app = typer.Typer(help="Run a local CRM simulator (no account needed).", no_args_is_help=True)
app.add_typer(sandbox_app, name="sandbox")


def _register_commands() -> None:
    from onboard_sync.cli import (  # noqa: F401 - commands register on import
        demo,
        report,
        run,
        sandbox,
        serve,
        setup,
        simulate,
        status,
    )
    from onboard_sync.plugins import get_plugin_manager

    get_plugin_manager().hook.register_commands(cli=app)


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point."""
    from onboard_sync.cli.logging_options import setup_cli_logging  # also registers --log-format

    setup_cli_logging()
    try:
        _register_commands()
        app(args=argv, standalone_mode=False)
    except UserError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(2)
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        sys.exit(130)
    except SystemExit:
        raise
    except Exception as exc:  # click usage errors and the like
        import click

        if isinstance(exc, click.exceptions.Abort):
            sys.exit(1)
        if isinstance(exc, click.ClickException):
            exc.show()
            sys.exit(exc.exit_code)
        raise
