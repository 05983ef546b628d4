"""A small text table: a title, a header, a rule under it, columns of fixed widths, cells wrapped at words.

The layout is the one the CLI's tables had with rich (``Table(box=SIMPLE_HEAD, show_edge=False,
pad_edge=False, title_justify="left")``, columns of fixed widths with ``overflow="fold"``), and the
plain text is the same, character for character (tests/cli/test_text_table.py renders with rich as
the oracle): the title left-aligned and word-wrapped to the table's width, the header bold, a rule of
``─`` under it, one space of padding on each inner side of a column and one between columns (so 3
spaces between two columns' text), every cell wrapped at whitespace and folding a word longer than
its column, a blank line between rows when ``leading``. Columns whose fixed widths do not fit the
width given are narrowed evenly, as rich does. Styles, when the output takes them
(``cli.terminal``): the title italic, the header bold, and each run of a cell in its own style
(``dim``, ``green``, ...); under ``NO_COLOR`` the colours are dropped, bold, dim and italic kept.

Hand-written, not rich's ``Table``: importing rich's console and table and rendering the 50 rows of
``onboard-sync status`` took ~60 ms of the 0.3 s start-up budget of issue #16.

Cell widths are counted in terminal cells: text of the common single-cell characters (Latin,
Greek, Cyrillic, general punctuation, box drawing such as the rule) by its length; any other text
(wide East Asian characters, combining marks, emoji, control characters) by rich's own measure
(``rich.cells``, imported only then), so such text wraps exactly as before.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

RULE = "─"
"""The character of the rule under the header (rich's ``box.SIMPLE_HEAD``)."""

SGR = {"bold": "1", "dim": "2", "italic": "3", "red": "31", "green": "32", "yellow": "33"}
"""The styles a table uses, as ANSI select-graphic-rendition codes."""
COLOURS = frozenset({"red", "green", "yellow"})
RESET = "\x1b[0m"

_SINGLE_CELL_RANGES = ((0x20, 0x7E), (0xA0, 0xAC), (0xAE, 0x2FF), (0x370, 0x482), (0x2010, 0x2027), (0x2500, 0x257F))
SINGLE_CELL = frozenset(chr(code) for start, end in _SINGLE_CELL_RANGES for code in range(start, end + 1))
"""Characters one terminal cell wide in every Unicode version (a test checks each against rich's measure)."""

_STRIPPED = {code: None for code in (7, 8, 11, 12, 13)}


def printable(text: str) -> str:
    """``text`` without the control characters a table drops (bell, backspace, vertical tab, form feed,
    carriage return), as rich's ``Text`` drops them."""
    return text.translate(_STRIPPED)


_WORD = re.compile(r"\s*\S+\s*")
_TRAILING_SPACE = re.compile(r"\s+$")
TAB_SIZE = 8


@dataclass(frozen=True, slots=True)
class Run:
    """Text in one style (``""``: none)."""

    text: str
    style: str = ""


Cell = Sequence[Run]


@dataclass(frozen=True, slots=True)
class TableColumn:
    """A column: its header and the width of its text (without the space around it)."""

    header: str
    width: int


def _simple(text: str) -> bool:
    return SINGLE_CELL.issuperset(text)


def cell_len(text: str) -> int:
    """How many terminal cells ``text`` takes."""
    if _simple(text):
        return len(text)
    from rich.cells import cell_len as measure  # rare text: rich's measure, for the same wrapping as before

    return measure(text)


def _chop(word: str, width: int) -> list[str]:
    if _simple(word):
        return [word[i : i + width] for i in range(0, len(word), width)]
    from rich.cells import chop_cells

    return chop_cells(word, width)


def _crop(text: str, width: int) -> str:
    """``text`` cut to ``width`` cells (shorter text as it is)."""
    if _simple(text):
        return text[:width]
    if width <= 0:
        return ""
    from rich.cells import set_cell_size

    return set_cell_size(text, width)


def _breaks(text: str, width: int) -> list[int]:
    """Where to break ``text`` so each piece fits ``width`` cells: at the start of a word that does not fit
    the line it would end, inside a word longer than a whole line."""
    breaks: list[int] = []
    used = 0
    for match in _WORD.finditer(text):
        start, word = match.start(), match.group()
        length = cell_len(word.rstrip())
        if width - used >= length:
            used += cell_len(word)
        elif length > width:
            pieces = _chop(word, width)
            for n, piece in enumerate(pieces):
                if start:
                    breaks.append(start)
                if n == len(pieces) - 1:
                    used = cell_len(piece)
                else:
                    start += len(piece)
        elif used and start:
            breaks.append(start)
            used = cell_len(word)
    return breaks


def _expand_tabs(line: str, styles: list[str]) -> tuple[str, list[str]]:
    """Tabs as spaces to the next multiple of ``TAB_SIZE`` cells (each space in the tab's style)."""
    text: list[str] = []
    out_styles: list[str] = []
    position = 0
    start = 0
    for index, char in enumerate(line):
        if char != "\t":
            continue
        part = line[start:index]
        text.append(part + " ")
        out_styles.extend(styles[start : index + 1])
        position += cell_len(part) + 1
        extra = (TAB_SIZE - position % TAB_SIZE) % TAB_SIZE
        text.append(" " * extra)
        out_styles.extend([styles[index]] * extra)
        position += extra
        start = index + 1
    text.append(line[start:])
    out_styles.extend(styles[start:])
    return "".join(text), out_styles


@dataclass(frozen=True, slots=True)
class Line:
    """One printed line of a cell: its text and each character's style."""

    text: str
    styles: tuple[str, ...]

    def render(self, styled: bool, coloured: bool) -> str:
        if not styled:
            return self.text
        styles = self.styles + ("",) * (len(self.text) - len(self.styles))  # spaces a crop added: unstyled
        out: list[str] = []
        start = 0
        for index in range(1, len(self.text) + 1):
            if index == len(self.text) or styles[index] != styles[start]:
                out.append(_styled(self.text[start:index], styles[start], coloured))
                start = index
        return "".join(out)


def _styled(text: str, style: str, coloured: bool) -> str:
    codes = [SGR[name] for name in style.split() if name in SGR and (coloured or name not in COLOURS)]
    return f"\x1b[{';'.join(codes)}m{text}{RESET}" if codes and text else text


def wrap(runs: Cell, width: int, *, pad: bool = True) -> list[Line]:
    """The lines of ``runs`` within ``width`` cells: split at newlines, wrapped at words, a word longer
    than ``width`` folded; each line padded with spaces to ``width`` when ``pad``."""
    width = max(width, 1)  # COLUMNS=0: a character a line rather than nothing
    plain = "".join(printable(run.text) for run in runs)
    styles = [run.style for run in runs for _ in printable(run.text)]
    lines: list[Line] = []
    offset = 0
    for source in plain.split("\n"):
        line_styles = styles[offset : offset + len(source)]
        offset += len(source) + 1
        if "\t" in source:
            source, line_styles = _expand_tabs(source, line_styles)
        bounds = [0, *_breaks(source, width), len(source)]
        for start, end in pairwise(bounds):
            text, piece_styles = source[start:end], line_styles[start:end]
            if len(text) > width and (space := _TRAILING_SPACE.search(text)):
                cut = min(len(space.group()), len(text) - width)
                text, piece_styles = text[: len(text) - cut], piece_styles[: len(text) - cut]
            length = cell_len(text)
            if length > width:
                text = _crop(text, width)
                piece_styles = piece_styles[: len(text)]
            elif pad and length < width:
                piece_styles = piece_styles + [""] * (width - length)
                text += " " * (width - length)
            lines.append(Line(text, tuple(piece_styles)))
    return lines


def _padding(index: int, count: int) -> tuple[int, int]:
    """Spaces left and right of a column's text: one on each inner side (none at the table's edges)."""
    return (0 if index == 0 else 1), (0 if index == count - 1 else 1)


def _fitted(columns: Sequence[TableColumn], width: int) -> list[int]:
    """Each column's width with its padding, narrowed evenly when they do not fit ``width`` (as rich does)."""
    count = len(columns)
    room = width - (count - 1)
    if room < 1:
        return [0] * count
    widths = [min(c.width + sum(_padding(i, count)), room) or 1 for i, c in enumerate(columns)]
    excess = sum(widths) - room
    if excess <= 0:
        return widths
    shares, remaining = len(widths), excess
    narrowed = []
    for value in widths:
        taken = min(value, round(remaining / shares))
        narrowed.append(value - taken)
        remaining -= taken
        shares -= 1
    return narrowed


def _cell_lines(runs: Cell, width: int, left: int, right: int) -> list[Line]:
    """A cell's lines ``width`` wide with its padding (text wider than that cut, as rich crops it)."""
    inner = width - left - right
    lines = []
    for line in wrap(runs, inner) if inner > 0 else [Line("", ())]:
        text = " " * left + line.text + " " * right
        styles = ("",) * left + line.styles + ("",) * right
        if cell_len(text) > width:
            text = _crop(text, width)
            styles = styles[: len(text)]
        elif cell_len(text) < width:
            styles += ("",) * (width - cell_len(text))
            text += " " * (width - cell_len(text))
        lines.append(Line(text, styles))
    return lines


def _joined(cells: Sequence[Line]) -> Line:
    """The lines of a row's cells side by side, one space between them."""
    text = " ".join(cell.text for cell in cells)
    styles = [style for n, cell in enumerate(cells) for style in (("",) if n else ()) + cell.styles]
    return Line(text, tuple(styles))


def _cropped(line: Line, width: int) -> Line:
    """``line`` cut to ``width`` cells: columns narrowed to nothing can leave the table a cell wider than
    the output, and rich crops each line it prints."""
    if cell_len(line.text) <= width:
        return line
    text = _crop(line.text, width)
    return Line(text, line.styles[: len(text)])


def render_table(
    title: str,
    columns: Sequence[TableColumn],
    rows: Sequence[Sequence[Cell]],
    *,
    width: int,
    leading: bool = False,
    styled: bool = False,
    coloured: bool = False,
) -> str:
    """The table as text for an output ``width`` columns wide, one ``\\n`` after each line."""
    count = len(columns)
    widths = _fitted(columns, width)
    table_width = sum(widths) + count - 1
    out: list[str] = []

    def emit(line: Line) -> None:
        out.append(_cropped(line, width).render(styled, coloured) + "\n")

    for line in wrap([Run(title, "italic")], table_width):
        emit(line)
    header = [
        _cell_lines([Run(column.header, "bold")], w, *_padding(i, count))
        for i, (column, w) in enumerate(zip(columns, widths, strict=True))
    ]
    height = max(len(cell) for cell in header)
    header = [[_blank(w)] * (height - len(cell)) + cell for cell, w in zip(header, widths, strict=True)]
    for n in range(height):
        emit(_joined([cell[n] for cell in header]))
    emit(_blank(table_width, RULE))
    for r, row in enumerate(rows):
        cells = [_cell_lines(runs, w, *_padding(i, count)) for i, (runs, w) in enumerate(zip(row, widths, strict=True))]
        height = max(len(cell) for cell in cells)
        for n in range(height):
            emit(_joined([cell[n] if n < len(cell) else _blank(w) for cell, w in zip(cells, widths, strict=True)]))
        if leading and r < len(rows) - 1:
            emit(_blank(table_width))
    return "".join(out)


def _blank(width: int, char: str = " ") -> Line:
    return Line(char * width, ("",) * width)


def wrap_text(text: str, width: int) -> str:
    """``text`` wrapped at words to ``width`` cells, unpadded, one ``\\n`` after each line (how the
    CLI's rich consoles print a sentence)."""
    return "".join(line.text + "\n" for line in wrap([Run(text)], width, pad=False))
