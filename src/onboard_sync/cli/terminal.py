"""Where the CLI's plain-text tables go: a stream, its width in columns and whether it takes colour.

The rules are rich's, which the CLI's other output uses (``cli.common``'s consoles), so a table
printed by ``cli.text_table`` fits and looks as the rich consoles' output around it:

* colour only to a terminal: ``TTY_COMPATIBLE=1``/``0`` says whether the stream is one, else a
  non-empty ``FORCE_COLOR`` makes it one (empty: not), else ``isatty()``; ``TERM=dumb`` (or
  ``unknown``) on a terminal: no styles at all;
* ``NO_COLOR`` (non-empty) drops the colours but keeps bold, dim and italic;
* the width: ``COLUMNS``, else off a terminal ``OFF_TERMINAL_COLUMNS`` (160, so tables stay
  readable in logs, as ``cli.common``'s consoles do), else the size of the first of stdin, stdout and
  stderr that is a terminal, else 80; but 80 on a dumb terminal unless ``LINES`` is set too.

Hand-written, not rich's ``Console``: importing rich's console costs ``status`` ~20 ms of its
start-up budget (issue #16), and this is all a table needs of it.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from typing import TextIO

OFF_TERMINAL_COLUMNS = 160
"""The width off a terminal without ``COLUMNS`` (cron, pipes): wide enough that tables stay readable."""

DUMB_TERMINALS = ("dumb", "unknown")
DUMB_TERMINAL_COLUMNS = 80
DEFAULT_COLUMNS = 80


@dataclass(frozen=True, slots=True)
class TextOutput:
    """A stream and how to print to it: its width, whether styles (bold, dim, italic) and colours show."""

    stream: TextIO
    width: int
    styled: bool = False
    coloured: bool = False

    def write(self, text: str) -> None:
        self.stream.write(text)
        self.stream.flush()


def _is_terminal(stream: TextIO, environ: os._Environ[str] | dict[str, str]) -> bool:
    compatible = environ.get("TTY_COMPATIBLE", "")
    if compatible in ("0", "1"):
        return compatible == "1"
    force = environ.get("FORCE_COLOR")
    if force is not None:
        return force != ""
    return _isatty(stream)


def _isatty(stream: TextIO) -> bool:
    """Whether ``stream`` is a terminal (a closed or unusual stream is not)."""
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # a closed stream
        return False


def _terminal_columns() -> int | None:
    for descriptor in (0, 1, 2):
        try:
            return os.get_terminal_size(descriptor).columns
        except (AttributeError, ValueError, OSError):
            continue
    return None


def _width(stream: TextIO, dumb: bool, environ: os._Environ[str] | dict[str, str]) -> int:
    columns = environ.get("COLUMNS", "")
    fixed = int(columns) if columns.isdigit() else None
    if fixed is None and not _isatty(stream):
        fixed = OFF_TERMINAL_COLUMNS
    if fixed is not None and environ.get("LINES", "").isdigit():
        return fixed
    if dumb:
        return DUMB_TERMINAL_COLUMNS
    if fixed is not None:
        return fixed
    return _terminal_columns() or DEFAULT_COLUMNS


def text_output(stream: TextIO | None = None, environ: os._Environ[str] | dict[str, str] | None = None) -> TextOutput:
    """How to print a table to ``stream`` (default: stdout) under ``environ`` (default: the process's)."""
    stream = sys.stdout if stream is None else stream
    environ = os.environ if environ is None else environ
    terminal = _is_terminal(stream, environ)
    dumb = terminal and environ.get("TERM", "").lower() in DUMB_TERMINALS
    styled = terminal and not dumb
    return TextOutput(
        stream,
        width=_width(stream, dumb, environ),
        styled=styled,
        coloured=styled and environ.get("NO_COLOR", "") == "",
    )
