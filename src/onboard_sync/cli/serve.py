"""``onboard-sync serve``: receive webhooks and reconcile in near real time (see docs/webhooks.md)."""

from __future__ import annotations

from typing import Annotated

import typer

from onboard_sync.cli import app
from onboard_sync.cli.common import runtime
from onboard_sync.cli.options import ConfigOption


@app.command(short_help="Receive CRM/helpdesk webhooks; reconcile who they name.")
def serve(
    config: ConfigOption = None,
    host: Annotated[str | None, typer.Option(help="Address to listen on (default: serve.host in config.toml).")] = None,
    port: Annotated[
        int | None, typer.Option(help="Port (default: serve.port in config.toml; 0: any free port).")
    ] = None,
    receiver_only: Annotated[
        bool,
        typer.Option(
            "--receiver-only", help="Only verify, persist and enqueue; `onboard-sync worker` processes reconcile."
        ),
    ] = False,
) -> None:
    """Receive signed CRM/helpdesk webhooks, reconcile the customers they name, and run a periodic full sync."""
    from onboard_sync.webhooks.server import serve as run_server

    run_server(runtime(config), host=host, port=port, receiver_only=True if receiver_only else None)
