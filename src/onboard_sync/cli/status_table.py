"""The status table: every onboarding, worst first, two lines each, fitted to the output's width.

Two lines per onboarding (the segment under the customer, the day under the phase, both dim), every
column as wide as its content when that fits, else wrapping at word boundaries but never narrower
than the longest word it shows, so at 80 columns every column stays readable; health in green,
yellow or red. Used by ``status`` and ``demo``; printed with ``cli.text_table`` (no rich: start-up).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from onboard_sync.cli.terminal import TextOutput, text_output
from onboard_sync.cli.text_table import Cell, Run, TableColumn, printable, render_table, wrap_text

if TYPE_CHECKING:
    from onboard_sync.status import OnboardingView, ShownPlaybook

HEALTH_STYLE = {"healthy": "green", "at-risk": "yellow", "critical": "red"}
MANUAL_MARK = "*"
SEPARATOR = 3
"""Columns of space between two table columns' text."""


def _plain(cell: Cell) -> str:
    return printable("".join(run.text for run in cell))


@dataclass(frozen=True, slots=True)
class Column:
    """A status column: its cells, the width it needs, the least it can wrap to, its share of spare room."""

    header: str
    cells: list[Cell]
    least: int
    weight: int

    @property
    def natural(self) -> int:
        lines = [line for cell in self.cells for line in _plain(cell).splitlines()] + [self.header]
        return max(len(line) for line in lines)


def _longest_word(texts: list[str]) -> int:
    return max((len(word) for text in texts for word in text.split()), default=1)


def _columns(views: list[OnboardingView]) -> list[Column]:
    customers: list[Cell] = []
    phases: list[Cell] = []
    healths: list[Cell] = []
    for v in views:
        customers.append([Run(v.deal), Run(f"\n{v.segment_label}", "dim")])
        phase = v.phase_label + (MANUAL_MARK if v.manual_phase else "")
        phase += "" if v.status == "active" else f" ({v.status})"
        phases.append([Run(phase), Run(f"\nday {v.day}/{v.planned_days}", "dim")])
        score = f"{v.health_score} {v.health_status}" if v.health_status else "-"
        healths.append([Run(score, HEALTH_STYLE.get(v.health_status or "", ""))])
    tasks: list[Cell] = [[Run(f"{v.open_tasks} open\n{v.overdue_tasks} late")] for v in views]
    owners: list[Cell] = [[Run(v.owner or "-")] for v in views]
    steps: list[Cell] = [[Run(v.next_step or "-")] for v in views]
    plain = [[_plain(c) for c in cells] for cells in (customers, owners, phases, healths, tasks, steps)]
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


def status_table(
    views: list[OnboardingView], *, width: int, title: str = "Onboardings", styled: bool = False, coloured: bool = False
) -> str:
    """The status table as text for an output ``width`` columns wide: two lines per onboarding, cells
    wrapping at word boundaries, no column narrower than the longest word it shows."""
    columns = _columns(views)
    widths = fit(columns, width)
    wraps = any(w < c.natural for c, w in zip(columns, widths, strict=True))
    return render_table(
        title,
        [TableColumn(c.header, w) for c, w in zip(columns, widths, strict=True)],
        list(zip(*(c.cells for c in columns), strict=True)),
        width=width,
        leading=wraps,  # a blank line between rows whose cells wrap
        styled=styled,
        coloured=coloured,
    )


def print_status_table(views: list[OnboardingView], title: str, out: TextOutput | None = None) -> None:
    """Print :func:`status_table` to ``out`` (default: stdout, as a terminal or pipe takes it)."""
    out = out or text_output()
    out.write(status_table(views, width=out.width, title=title, styled=out.styled, coloured=out.coloured))


def show_status(
    views: list[OnboardingView],
    playbook: ShownPlaybook,
    limit: int,
    *,
    out: TextOutput | None = None,
    total: int | None = None,
) -> None:
    """Print the table of the first ``limit`` views (``total``: how many there are before filtering)."""
    out = out or text_output()
    counted = f"{len(views)} of {total}" if total is not None and total != len(views) else str(len(views))
    title = f"Onboardings ({counted}), worst first — playbook {playbook.name}"
    if views:
        print_status_table(views[:limit], title, out)
    else:
        out.write(wrap_text(title, out.width))
    notes = []
    if any(v.manual_phase for v in views[:limit]):
        notes.append(f"{MANUAL_MARK} phase set by hand in the CRM")
    if len(views) > limit:
        notes.append(f"… {len(views) - limit} more (use --limit or --json)")
    catch_up = catch_up_note(views)
    if catch_up:  # before the "… more" line, which stays last
        notes.insert(len(notes) - (len(views) > limit), catch_up)
    for note in notes:
        out.write(wrap_text(note, out.width))


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
