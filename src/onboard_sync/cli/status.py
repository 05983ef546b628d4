"""``onboard-sync status``: every onboarding, worst first, with its owner, phase, day N of M, health
and tasks; filters (``--at-risk``, ``--owner``, ``--segment``, ``--phase``) apply to ``--json`` too.

The table fits the console (the terminal, ``COLUMNS``, or 160 columns off a terminal): two lines
per onboarding (the segment under the customer, the day under the phase), every column as wide
as its content when that fits, else wrapping at word boundaries but never narrower than the
longest word it shows, so at 80 columns every column stays readable. Also used by ``demo``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer

from onboard_sync.cli import app
from onboard_sync.cli.common import ConfigOption, JsonOption, console, open_reads, open_store, print_json, runtime

if TYPE_CHECKING:  # status views need the store, tables rich: loaded when `status` or `demo` runs
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from onboard_sync.runtime import Runtime
    from onboard_sync.status import OnboardingView, ShownPlaybook, StatusFilter

HEALTH_STYLE = {"healthy": "green", "at-risk": "yellow", "critical": "red"}
MANUAL_MARK = "*"
SEPARATOR = 3
"""Columns of space between two table columns (``box.SIMPLE_HEAD`` without edges)."""


@dataclass(frozen=True, slots=True)
class Column:
    """A status column: its cells, the width it needs, the least it can wrap to, its share of spare room."""

    header: str
    cells: list[Text]
    least: int
    weight: int

    @property
    def natural(self) -> int:
        lines = [line for cell in self.cells for line in cell.plain.splitlines()] + [self.header]
        return max(len(line) for line in lines)


def _longest_word(texts: list[str]) -> int:
    return max((len(word) for text in texts for word in text.split()), default=1)


def _columns(views: list[OnboardingView]) -> list[Column]:
    from rich.text import Text

    customers, phases, healths = [], [], []
    for v in views:
        customers.append(Text(v.deal).append(f"\n{v.segment_label}", style="dim"))
        phase = v.phase_label + (MANUAL_MARK if v.manual_phase else "")
        phase += "" if v.status == "active" else f" ({v.status})"
        phases.append(Text(phase).append(f"\nday {v.day}/{v.planned_days}", style="dim"))
        score = f"{v.health_score} {v.health_status}" if v.health_status else "-"
        healths.append(Text(score, style=HEALTH_STYLE.get(v.health_status or "", "")))
    tasks = [Text(f"{v.open_tasks} open\n{v.overdue_tasks} late") for v in views]
    owners = [Text(v.owner or "-") for v in views]
    steps = [Text(v.next_step or "-") for v in views]
    plain = [[t.plain for t in cells] for cells in (customers, owners, phases, healths, tasks, steps)]
    return [
        Column("customer", customers, max(10, _longest_word(plain[0])), 3),
        Column("owner", owners, max(5, _longest_word(plain[1])), 2),
        Column("phase", phases, max(len("phase"), _longest_word(plain[2])), 1),
        Column("health", healths, max(len("health"), _longest_word(plain[3])), 1),
        Column("tasks", tasks, max(len("tasks"), _longest_word(plain[4])), 1),
        Column("next step", steps, max(14, _longest_word(plain[5])), 4),
    ]


def fit(columns: list[Column], width: int) -> list[int]:
    """Column widths within ``width``: each its natural width if all fit. Else each starts at its
    ``least`` (the longest word it must show whole); the spare room first lets the columns that
    need the least of it show their cells on one line, then is shared by ``weight``."""
    room = width - SEPARATOR * (len(columns) - 1)
    natural = [c.natural for c in columns]
    if sum(natural) <= room:
        return natural
    widths = [min(c.least, n) for c, n in zip(columns, natural, strict=True)]
    for i in sorted(range(len(columns)), key=lambda i: natural[i] - widths[i]):
        if columns[i].weight <= 2 and sum(widths) + natural[i] - widths[i] <= room:
            widths[i] = natural[i]
    growing = [i for i in range(len(columns)) if widths[i] < natural[i]]
    while growing and (spare := room - sum(widths)) > 0:
        total = sum(columns[i].weight for i in growing)
        for i in growing:
            share = max(1, spare * columns[i].weight // total)
            widths[i] = min(natural[i], widths[i] + share, widths[i] + room - sum(widths))
        growing = [i for i in growing if widths[i] < natural[i]]
    return widths


def status_table(views: list[OnboardingView], *, width: int, title: str = "Onboardings") -> Table:
    """The status table for a console ``width`` columns wide: two lines per onboarding, cells
    wrapping at word boundaries, no column narrower than the longest word it shows."""
    from rich import box
    from rich.table import Table

    columns = _columns(views)
    widths = fit(columns, width)
    wraps = any(w < c.natural for c, w in zip(columns, widths, strict=True))
    table = Table(
        title=title,
        title_justify="left",
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        leading=1 if wraps else 0,  # a blank line between rows whose cells wrap
    )
    for column, column_width in zip(columns, widths, strict=True):
        table.add_column(column.header, width=column_width, overflow="fold")
    for row in zip(*(c.cells for c in columns), strict=True):
        table.add_row(*row)
    return table


def show_status(
    views: list[OnboardingView],
    playbook: ShownPlaybook,
    limit: int,
    *,
    out: Console = console,
    total: int | None = None,
) -> None:
    """Print the table of the first ``limit`` views (``total``: how many there are before filtering)."""
    counted = f"{len(views)} of {total}" if total is not None and total != len(views) else str(len(views))
    title = f"Onboardings ({counted}), worst first — playbook {playbook.name}"
    if views:
        out.print(status_table(views[:limit], width=out.width, title=title))
    else:
        out.print(title, markup=False)
    notes = []
    if any(v.manual_phase for v in views[:limit]):
        notes.append(f"{MANUAL_MARK} phase set by hand in the CRM")
    if len(views) > limit:
        notes.append(f"… {len(views) - limit} more (use --limit or --json)")
    catch_up = catch_up_note(views)
    if catch_up:  # before the "… more" line, which stays last
        notes.insert(len(notes) - (len(views) > limit), catch_up)
    for note in notes:
        out.print(note, markup=False)


def catch_up_note(views: list[OnboardingView]) -> str | None:
    """One sentence on the onboardings adopted under way (none: ``None``)."""
    adopted = [v for v in views if v.adopted_at]
    if not adopted:
        return None
    skipped = sum(len(v.skipped_tasks) for v in adopted)
    moved = max(v.plan_shift_days for v in views)
    text = (
        f"{len(adopted)} onboarding(s) were already under way when onboard-sync adopted them: "
        f"{skipped} task(s) of phases that ended before were skipped, not created"
    )
    if moved:
        text += f"; plans moved by up to {moved} day(s) so no task starts overdue"
    return text + " (status --json lists each with its reason)."


@app.command(short_help="Show every onboarding, worst first, with health and tasks.")
def status(
    config: ConfigOption = None,
    json: JsonOption = False,
    limit: Annotated[int, typer.Option(help="Rows to show in the table.")] = 50,
    at_risk: Annotated[
        bool, typer.Option("--at-risk", help="Only onboardings whose health is at-risk or critical.")
    ] = False,
    owner: Annotated[
        str | None, typer.Option("--owner", help="Only this owner's onboardings (part of a name or e-mail; any case).")
    ] = None,
    segment: Annotated[str | None, typer.Option("--segment", help="Only this segment (key or label).")] = None,
    phase: Annotated[str | None, typer.Option("--phase", help="Only onboardings in this phase (key or label).")] = None,
) -> None:
    """Show every onboarding, worst first: owner, phase, day N of M, health, tasks, next step."""
    from onboard_sync.status import StatusFilter, onboarding_views
    from onboard_sync.status_settings import settings_for_status

    if json:
        rt = runtime(config)
        keep: StatusFilter = StatusFilter(at_risk, owner, segment, phase).checked(rt.playbook)
        print_json(status_document(rt, keep, datetime.now(UTC)))
        return
    # the few settings the table needs, remembered from the last full load of the same files
    settings, loaded = settings_for_status(config)
    keep = StatusFilter(at_risk, owner, segment, phase).checked(settings.playbook)
    now = datetime.now(UTC)
    with open_reads(settings.store_url, config, loaded) as reads:  # SQLite at head: sqlite3, no SQLAlchemy
        every = onboarding_views(
            reads, settings.playbook, now, owner_settings=settings.owners, calendar=settings.calendar
        )
    views = [v for v in every if keep(v)]
    show_status(views, settings.playbook, limit, total=len(every))
    if every and not views:
        console.print(f"No onboarding matches {keep.describe()}.", markup=False)


def status_document(rt: Runtime, keep: StatusFilter, now: datetime) -> dict[str, Any]:
    """What ``status --json`` prints: the views with their health explanations, the filters, the
    last run's report and the helpdesk signals."""
    from onboard_sync.status import onboarding_views
    from onboard_sync.status_health import health_explanations, helpdesk_status

    with open_store(rt, read_only=True, must_exist=True) as store:
        every = onboarding_views(store, rt.playbook, now, owner_settings=rt.config.owners, calendar=rt.calendar)
        views = [v for v in every if keep(v)]
        runs = store.runs(limit=1)
        health = health_explanations(store, [v.id for v in views])
        signals = helpdesk_status(store, rt.config.connectors)
    return {
        "onboardings": [{**v.as_dict(), "health": health.get(v.id)} for v in views],
        "filters": {"at_risk": keep.at_risk, "owner": keep.owner, "segment": keep.segment, "phase": keep.phase},
        "total": len(every),
        "last_run": runs[0].report if runs else None,
        "signals": signals,
    }
