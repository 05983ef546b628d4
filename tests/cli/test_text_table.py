"""The status table without rich prints what rich printed: for generated onboardings and widths from 40 to
200 columns the plain text is the same, character for character, as rich's ``Table`` (the layout
``status`` had, built here as the oracle), and with colour every visible character has the same
styles as rich gives it."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from cli_run import run_code
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st
from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from onboard_sync.cli.status_table import _columns, fit, status_table
from onboard_sync.cli.text_table import SINGLE_CELL, wrap_text
from onboard_sync.status import OnboardingView

WORDS = st.text(
    alphabet=st.one_of(
        st.sampled_from("abcdefghijklmnopqrstuvwxyzABCDEFGHIJ0123456789-_/.,()&'"),
        st.sampled_from("     \n\t—…éßЖ"),
        st.characters(codec="utf-8", exclude_categories=("Cs",)),  # anything: wide, combining, control
    ),
    max_size=40,
)
PLAIN = st.from_regex(r"\A[A-Za-z][A-Za-z0-9 .-]{0,30}\Z")


@st.composite
def views(draw: Any) -> OnboardingView:
    health = draw(st.sampled_from([None, "healthy", "at-risk", "critical"]))
    return OnboardingView(
        id=draw(st.text(max_size=5)),
        source="hubspot",
        deal_id="1",
        deal=draw(st.one_of(WORDS, PLAIN)),
        account="-",
        owner_id=None,
        owner=draw(st.one_of(st.none(), WORDS, PLAIN)),
        owner_email=None,
        segment="s",
        segment_label=draw(st.one_of(WORDS, PLAIN)),
        phase="p",
        phase_label=draw(st.one_of(WORDS, PLAIN)),
        status=draw(st.sampled_from(["active", "at-risk", "completed"])),
        day=draw(st.integers(-5, 400)),
        planned_days=draw(st.integers(0, 400)),
        health_score=draw(st.integers(0, 100)) if health else None,
        health_status=health,
        health_reasons=(),
        open_tasks=draw(st.integers(0, 120)),
        overdue_tasks=draw(st.integers(0, 120)),
        days_late=0,
        completed_tasks=0,
        next_step=draw(st.one_of(st.none(), WORDS, PLAIN)),
        next_due=None,
        manual_phase=draw(st.sampled_from([None, "x"])),
    )


def rich_table(shown: list[OnboardingView], width: int, title: str) -> Table:
    """The status table as ``status`` built it with rich (the oracle)."""
    columns = _columns(shown)
    widths = fit(columns, width)
    wraps = any(w < c.natural for c, w in zip(columns, widths, strict=True))
    table = Table(
        title=Text(title, style="table.title"),
        title_justify="left",
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        leading=1 if wraps else 0,
    )
    for column, column_width in zip(columns, widths, strict=True):
        table.add_column(column.header, width=column_width, overflow="fold")
    for row in zip(*(c.cells for c in columns), strict=True):
        cells = []
        for runs in row:
            text = Text()
            for run in runs:
                text.append(run.text, style=run.style or None)
            cells.append(text)
        table.add_row(*cells)
    return table


def rich_render(table: Table, width: int, **console: Any) -> str | None:
    out = io.StringIO()
    try:
        Console(file=out, width=width, **console).print(table)
    except (ValueError, ZeroDivisionError, IndexError):  # rich fails on some columns narrowed to nothing
        return None
    return out.getvalue()


def view(**fields: Any) -> OnboardingView:
    """A view with nothing in it but ``fields``."""
    empty: dict[str, Any] = {name: "" for name in ("id", "source", "deal_id", "deal", "account", "segment")}
    empty |= {"segment_label": "", "phase": "p", "phase_label": "", "status": "active", "health_reasons": ()}
    numbers = ("day", "planned_days", "open_tasks", "overdue_tasks", "days_late", "completed_tasks")
    empty |= dict.fromkeys(numbers, 0)
    nothing = ("owner_id", "owner", "owner_email", "health_score", "health_status", "next_step", "next_due")
    empty |= dict.fromkeys((*nothing, "manual_phase"), None)
    return OnboardingView(**(empty | fields))


TITLES = st.one_of(st.just("Onboardings (80), worst first — playbook default"), PLAIN)


@settings(deadline=None, max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(views(), min_size=1, max_size=6), st.integers(40, 200), TITLES)
@example(  # columns narrowed to nothing leave the table a cell wider than the output: each line is cropped
    [view(), view(phase_label="0" * 24), view(owner="0" * 23)], 40, "Onboardings (80), worst first — playbook default"
)
def test_the_plain_table_is_what_rich_printed(shown: list[OnboardingView], width: int, title: str) -> None:
    expected = rich_render(rich_table(shown, width, title), width, color_system=None)
    assume(expected is not None)

    assert status_table(shown, width=width, title=title) == expected


SGR_RUN = re.compile(r"\x1b\[([0-9;]*)m")


def styles_of(text: str) -> list[tuple[str, frozenset[str]]]:
    """Each visible character but spaces with the SGR codes in force for it."""
    shown: list[tuple[str, frozenset[str]]] = []
    active: set[str] = set()
    position = 0
    for match in SGR_RUN.finditer(text + "\x1b[0m"):
        shown += [(char, frozenset(active)) for char in text[position : match.start()] if not char.isspace()]
        codes = set(match.group(1).split(";")) - {""}
        active = set() if "0" in codes or not codes else active | codes
        position = match.end()
    return shown


@pytest.mark.parametrize("no_color", [False, True], ids=["colour", "NO_COLOR"])
@settings(deadline=None, max_examples=60)
@given(shown=st.lists(views(), min_size=1, max_size=4), width=st.integers(60, 160))
def test_styled_characters_are_styled_as_rich_styled_them(
    shown: list[OnboardingView], width: int, no_color: bool
) -> None:
    expected = rich_render(
        rich_table(shown, width, "Onboardings"), width, force_terminal=True, color_system="standard", no_color=no_color
    )
    assume(expected is not None)

    printed = status_table(shown, width=width, title="Onboardings", styled=True, coloured=not no_color)

    assert styles_of(printed) == styles_of(expected)
    assert SGR_RUN.sub("", printed) == rich_render(rich_table(shown, width, "Onboardings"), width, color_system=None)


@settings(deadline=None)
@given(st.text(max_size=200), st.integers(20, 200))
def test_a_note_wraps_as_rich_printed_it(note: str, width: int) -> None:
    out = io.StringIO()
    Console(file=out, width=width, color_system=None).print(note, markup=False, highlight=False, emoji=False)

    assert wrap_text(note, width) == out.getvalue()


def test_the_single_cell_characters_are_one_cell_for_rich() -> None:
    from rich.cells import cell_len

    assert [char for char in sorted(SINGLE_CELL) if cell_len(char) != 1] == []


RENDER_TABLE = """
import sys
from onboard_sync.cli.status_table import status_table
from onboard_sync.status import OnboardingView
fields = dict.fromkeys(("owner_id", "owner_email", "health_score", "next_due", "manual_phase"))
fields |= dict.fromkeys(("day", "planned_days", "open_tasks", "overdue_tasks", "days_late", "completed_tasks"), 3)
views = [
    OnboardingView(id=str(n), source="hubspot", deal_id=str(n), deal=f"Maple Networks – Büro {n}", account="-",
        owner="Grace Kim", segment="smb", segment_label="SMB", phase="golive", phase_label="Go-live",
        status="at-risk", health_status="at-risk", health_reasons=(), next_step="Run the final data validation",
        **fields)
    for n in range(12)
]
for width in (40, 80, 160):
    status_table(views, width=width, title="Onboardings (12), worst first — playbook default", styled=True)
print("rich" in sys.modules)
"""


def test_a_table_of_latin_text_imports_no_rich() -> None:
    """Rich's measure of cells is for rare characters only: the usual table (its rule, dashes,
    accented names) is measured without importing rich."""
    result = run_code(RENDER_TABLE)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"
