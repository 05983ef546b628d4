"""``onboard-sync simulate``: run a synthetic customer through a playbook on a simulated clock.

Registered by importing this module from ``cli/__init__.py``; the work is done by
:func:`onboard_sync.simulate.simulate` (real engine, HubSpot sandbox, frozen clock moved a
day at a time). Prints the day-by-day timeline, or one JSON object with ``--json``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from onboard_sync.cli import app
from onboard_sync.cli.common import print_json
from onboard_sync.cli.options import JsonOption
from onboard_sync.simulate.scenarios import SCENARIOS

_SCENARIO_HELP = "; ".join(f"{name}: {s.description}" for name, s in SCENARIOS.items())


@app.command("simulate", short_help="Simulate one onboarding day by day on the HubSpot sandbox.")
def simulate_command(
    rules: Annotated[Path, typer.Option("--rules", "-r", help="Playbook rules: a .toml file or directory.")],
    segment: Annotated[
        str | None, typer.Option("--segment", "-s", help="Segment key (default: the playbook's default segment).")
    ] = None,
    days: Annotated[int, typer.Option("--days", "-d", min=0, max=730, help="Days to simulate.")] = 90,
    scenario: Annotated[
        str, typer.Option("--scenario", help=f"How the customer behaves. {_SCENARIO_HELP}")
    ] = "on-track",
    store: Annotated[
        str | None,
        typer.Option("--store", help="Keep the simulation's store at this URL (e.g. sqlite:///sim.db) for `report`."),
    ] = None,
    every_day: Annotated[bool, typer.Option("--every-day", help="Print every day, not only eventful ones.")] = False,
    json: JsonOption = False,
) -> None:
    """Simulate one onboarding day by day against the local HubSpot sandbox; print its timeline."""
    from onboard_sync.simulate.runner import simulate  # the engine, store and sandbox load only here

    timeline = simulate(rules, segment=segment, days=days, scenario=scenario, store_url=store)
    if json:
        print_json(timeline.as_dict())
        return
    sys.stdout.write("\n".join(timeline.render(every_day=every_day)) + "\n")
