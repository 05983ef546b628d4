"""``onboard-sync status``: every onboarding, worst first, with its owner, phase, day N of M, health
and tasks; filters (``--at-risk``, ``--owner``, ``--segment``, ``--phase``) apply to ``--json`` too.

This module registers the Typer command; what it does is ``cli.status_run`` (which ``main()`` also
runs without Typer when the arguments are status's own, ``cli.status_argv``), the table
``cli.status_table``.
"""

from __future__ import annotations

from typing import Annotated

import typer

from onboard_sync.cli import app
from onboard_sync.cli.options import ConfigOption, JsonOption
from onboard_sync.cli.status_argv import DEFAULTS, MIN_LIMIT, StatusOptions


def _at_least_one(value: int) -> int:
    """``--limit``'s check: a usage error (exit 2) below ``MIN_LIMIT`` rows."""
    if value < MIN_LIMIT:
        raise typer.BadParameter(f"{value} rows: give at least {MIN_LIMIT}")
    return value


@app.command(short_help="Show every onboarding, worst first, with health and tasks.")
def status(
    config: ConfigOption = DEFAULTS.config,
    json: JsonOption = DEFAULTS.json,
    limit: Annotated[int, typer.Option(help="Rows to show in the table.", callback=_at_least_one)] = DEFAULTS.limit,
    at_risk: Annotated[
        bool, typer.Option("--at-risk", help="Only onboardings whose health is at-risk or critical.")
    ] = DEFAULTS.at_risk,
    owner: Annotated[
        str | None, typer.Option("--owner", help="Only this owner's onboardings (part of a name or e-mail; any case).")
    ] = DEFAULTS.owner,
    segment: Annotated[
        str | None, typer.Option("--segment", help="Only this segment (key or label).")
    ] = DEFAULTS.segment,
    phase: Annotated[
        str | None, typer.Option("--phase", help="Only onboardings in this phase (key or label).")
    ] = DEFAULTS.phase,
) -> None:
    """Show every onboarding, worst first: owner, phase, day N of M, health, tasks, next step."""
    from onboard_sync.cli.status_run import run_status  # the table's modules: not for --help

    run_status(StatusOptions(config, json, limit, at_risk, owner, segment, phase))
