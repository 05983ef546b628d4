"""The plain-text tables' output takes its width and colour as the CLI's rich consoles do: colour only
to a terminal, FORCE_COLOR, NO_COLOR, TTY_COMPATIBLE and TERM=dumb as rich reads them, the width from
COLUMNS (and LINES), the terminal, or 160 columns off a terminal."""

from __future__ import annotations

import io
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from rich.console import Console

from onboard_sync.cli.terminal import OFF_TERMINAL_COLUMNS, text_output


class Stream(io.StringIO):
    def __init__(self, tty: bool) -> None:
        super().__init__()
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


def cli_console(stream: Stream, environ: dict[str, str]) -> Console:
    """The console ``cli.common`` makes for ``stream`` (a rich console; off a terminal without COLUMNS, 160 wide)."""
    if stream.isatty() or environ.get("COLUMNS", "").isdigit():
        return Console(file=stream, _environ=environ)
    return Console(file=stream, _environ=environ, width=OFF_TERMINAL_COLUMNS)


ENVIRONMENTS = st.fixed_dictionaries(
    {},
    optional={
        "FORCE_COLOR": st.sampled_from(["", "1", "0"]),
        "NO_COLOR": st.sampled_from(["", "1"]),
        "TERM": st.sampled_from(["xterm-256color", "dumb", "unknown", "DUMB"]),
        "COLUMNS": st.sampled_from(["100", "40", "x", ""]),
        "LINES": st.sampled_from(["30", "y"]),
        "TTY_COMPATIBLE": st.sampled_from(["0", "1", "2"]),
    },
)


@given(ENVIRONMENTS, st.booleans())
def test_width_and_colour_are_the_cli_consoles(environ: dict[str, str], tty: bool) -> None:
    stream = Stream(tty)
    console = cli_console(stream, environ)
    output: Any = text_output(stream, environ)

    assert output.width == console.width
    assert output.styled == (console.color_system is not None)
    assert output.coloured == (output.styled and not console.no_color)


def test_a_pipe_without_columns_is_160_wide_and_plain() -> None:
    output = text_output(Stream(False), {})

    assert (output.width, output.styled, output.coloured) == (OFF_TERMINAL_COLUMNS, False, False)
