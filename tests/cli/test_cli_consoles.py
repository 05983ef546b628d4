"""The CLI's consoles are made on first use (rich stays unimported for `--help`) and behave as rich
consoles wherever they are used: printed to, measured, and entered by rich's live display, which
`sync` and `plan` show on a terminal."""

from __future__ import annotations

import pytest

from onboard_sync.cli import common
from onboard_sync.cli.run import progress_reporter


def test_the_progress_display_runs_on_the_stderr_console(capsys: pytest.CaptureFixture[str]) -> None:
    with progress_reporter(True) as report:
        assert report is not None
        report("deals", 0, 3)
        for _ in range(3):
            report("deals", 1, None)
        report("evaluate", 2, 3)

    assert capsys.readouterr().out == ""


def test_the_consoles_print_and_measure_as_rich_consoles(capsys: pytest.CaptureFixture[str]) -> None:
    with common.console as entered:
        entered.print("[bold]shown[/bold]")
    common.err_console.print("to stderr", markup=False)

    captured = capsys.readouterr()
    assert captured.out == "shown\n"
    assert captured.err == "to stderr\n"
    assert common.console.width > 0
    assert type(entered).__name__ == "Console"
