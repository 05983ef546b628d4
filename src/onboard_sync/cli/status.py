"""``onboard-sync status``: every onboarding with its phase, day N of M, health and tasks."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from onboard_sync.cli import app
from onboard_sync.cli.common import ConfigOption, JsonOption, console, open_store, print_json, runtime
from onboard_sync.rules import Playbook

if TYPE_CHECKING:  # status views need the store: loaded when `status` or `demo` runs
    from onboard_sync.status import OnboardingView

HEALTH_STYLE = {"healthy": "green", "at-risk": "yellow", "critical": "red"}


def status_table(views: list[OnboardingView], title: str = "Onboardings") -> Table:
    table = Table(title=title)
    table.add_column("deal", overflow="ellipsis", no_wrap=True, max_width=30)
    table.add_column("account", overflow="ellipsis", no_wrap=True, max_width=18)
    table.add_column("segment", no_wrap=True, min_width=10)
    table.add_column("phase", no_wrap=True, min_width=13)
    table.add_column("day", no_wrap=True, min_width=8)
    table.add_column("health", no_wrap=True, min_width=13)
    table.add_column("open/late", justify="right", no_wrap=True, min_width=9)
    table.add_column("next step", overflow="ellipsis", no_wrap=True, max_width=36)
    for v in views:
        style = HEALTH_STYLE.get(v.health_status or "", "")
        health = f"[{style}]{v.health_score} {v.health_status}[/{style}]" if v.health_status else "-"
        phase = v.phase_label + (" (set by hand)" if v.manual_phase else "")
        if v.status != "active":
            phase += f" [{v.status}]"
        table.add_row(
            v.deal,
            v.account,
            v.segment,
            phase,
            f"{v.day} of {v.planned_days}",
            health,
            f"{v.open_tasks}/{v.overdue_tasks}",
            v.next_step or "-",
        )
    return table


def show_status(views: list[OnboardingView], playbook: Playbook, limit: int) -> None:
    console.print(status_table(views[:limit], title=f"Onboardings ({len(views)}) — playbook {playbook.name}"))
    if len(views) > limit:
        console.print(f"… {len(views) - limit} more (use --limit or --json)")


@app.command()
def status(
    config: ConfigOption = None,
    json: JsonOption = False,
    limit: Annotated[int, typer.Option(help="Rows to show in the table.")] = 50,
) -> None:
    """Show every onboarding: deal, account, segment, phase, day N of M, health, tasks, next step."""
    from onboard_sync.status import onboarding_views

    rt = runtime(config)
    with open_store(rt, read_only=True, must_exist=True) as store:
        views = onboarding_views(store, rt.playbook, datetime.now(UTC))
        runs = store.runs(limit=1)
        if json:
            from onboard_sync.signals_status import health_explanations, signals_status

            health = health_explanations(store, [v.id for v in views])
            signals = signals_status(store, rt.config.connectors)
    if json:
        print_json(
            {
                "onboardings": [{**v.as_dict(), "health": health.get(v.id)} for v in views],
                "last_run": runs[0].report if runs else None,
                "signals": signals,
            }
        )
        return
    show_status(views, rt.playbook, limit)
