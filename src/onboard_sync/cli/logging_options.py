"""The global options of ``onboard-sync`` (before the command): ``--version``, ``--log-format``, ``--log-level``.

``main()`` sets logging up first (``logs.setup_logging``), from the environment (``ONBOARD_SYNC_LOG_FORMAT``,
``ONBOARD_SYNC_LOG_LEVEL``); the options, when given, set it up again. They live in the app's one
callback: another global option (e.g. ``--version``) belongs in the same callback, since Typer keeps
only the last one registered (registering a second one here fails loudly, see below).
"""

from __future__ import annotations

from typing import Annotated

import typer

from onboard_sync.cli import app, show_version
from onboard_sync.logs import FORMATS, setup_logging

if app.registered_callback is not None:  # pragma: no cover - a merge that adds a second callback
    raise RuntimeError("onboard-sync's app already has a callback: add --log-format/--log-level to it")


@app.callback()
def global_options(
    version: Annotated[
        bool,
        typer.Option("--version", callback=show_version, is_eager=True, help="Show the version and exit."),
    ] = False,
    log_format: Annotated[
        str | None,
        typer.Option(
            "--log-format",
            help=f"Log lines as {' or '.join(FORMATS)} (JSON: one object per line, for a log collector). "
            "Default: $ONBOARD_SYNC_LOG_FORMAT or text.",
            metavar="|".join(FORMATS),
        ),
    ] = None,
    log_level: Annotated[
        str | None,
        typer.Option(
            "--log-level",
            help="DEBUG, INFO, WARNING or ERROR. Default: $ONBOARD_SYNC_LOG_LEVEL, else WARNING (text) or INFO (json).",
        ),
    ] = None,
) -> None:
    """Turn customer-onboarding playbooks into live CRM and helpdesk automation."""
    if log_format or log_level:
        setup_logging(log_format, log_level)
