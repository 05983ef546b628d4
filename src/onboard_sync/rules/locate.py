"""Find the source line of a TOML key path, so rule errors can say ``file.toml:42``.

``tomllib`` gives values but no positions. :class:`LineIndex` scans the source text once
and records the line of every table header (``[health]``, ``[[phases]]``,
``[[phases.tasks]]``) and every ``key = value`` line, under its *concrete* path: array of
tables elements get their 0-based index, so ``("phases", 3, "tasks", 1, "when")`` is the
``when`` key of the second ``[[phases.tasks]]`` block inside the fourth ``[[phases]]``.
:meth:`LineIndex.line_of` returns the line of the longest locatable prefix of a path
(a value inside an inline table or array resolves to the line of its key).

Used by :mod:`onboard_sync.rules.loader`; it understands the TOML subset a rules file
uses (headers, bare/quoted/dotted keys, multi-line strings and arrays are skipped over).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

PathPart = str | int
KeyPath = tuple[PathPart, ...]

_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*(\]\]?)\s*(#.*)?$")
_KEY = re.compile(
    r"""^\s*((?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*')(?:\s*\.\s*(?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*'))*)\s*="""
)
_KEY_PART = re.compile(r"""[A-Za-z0-9_-]+|"[^"]*"|'[^']*'""")


def _split_key(text: str) -> list[str]:
    return [part.strip("\"'") for part in _KEY_PART.findall(text)]


def format_path(path: Sequence[PathPart]) -> str:
    """Render a key path the way users read it: ``phases[3].tasks[1].when``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out


class LineIndex:
    """Line numbers (1-based) of the keys and tables in one TOML document."""

    def __init__(self, text: str) -> None:
        self._lines: dict[KeyPath, int] = {}
        self._scan(text)

    def _scan(self, text: str) -> None:
        counts: dict[KeyPath, int] = {}  # concrete parent path + array name -> elements seen
        table: KeyPath = ()
        open_string: str | None = None
        depth = 0  # open brackets of a multi-line array / inline table value
        for number, line in enumerate(text.splitlines(), start=1):
            if open_string is not None:
                if line.count(open_string) % 2 == 1:
                    open_string = None
                continue
            if depth > 0:
                depth += _bracket_balance(line)
                continue
            header = _HEADER.match(line)
            if header and len(header.group(1)) == len(header.group(3)):
                concrete = self._concretise(_split_key(header.group(2)), counts)
                if header.group(1) == "[[":
                    parent = concrete
                    index = counts.get(parent, 0)
                    counts[parent] = index + 1
                    table = (*parent, index)
                    self._lines.setdefault(parent, number)
                else:
                    table = concrete
                self._lines[table] = number
                continue
            match = _KEY.match(line)
            if not match:
                continue
            path = (*table, *_split_key(match.group(1)))
            self._lines.setdefault(path, number)
            rest = line[match.end() :]
            for quote in ('"""', "'''"):
                if rest.count(quote) % 2 == 1:
                    open_string = quote
                    break
            else:
                depth = max(_bracket_balance(rest), 0)

    def _concretise(self, names: list[str], counts: dict[KeyPath, int]) -> KeyPath:
        """Map a header's dotted names onto concrete paths, indexing arrays of tables.

        For ``[[phases.tasks]]`` the ``phases`` part refers to the latest ``[[phases]]``
        element; the last part is returned unindexed (the caller indexes it).
        """
        concrete: list[PathPart] = []
        for i, name in enumerate(names):
            concrete.append(name)
            key = tuple(concrete)
            if i < len(names) - 1 and key in counts:
                concrete.append(counts[key] - 1)
        return tuple(concrete)

    def line_of(self, path: Sequence[PathPart]) -> int | None:
        """The line of ``path``, or of its longest prefix that has one; ``None`` if none does."""
        key = tuple(path)
        while key:
            if key in self._lines:
                return self._lines[key]
            key = key[:-1]
        return None


def _bracket_balance(text: str) -> int:
    """Net open ``[``/``{`` in a value, ignoring brackets inside quoted strings and comments."""
    balance = 0
    quote: str | None = None
    for char in text:
        if quote:
            if char == quote:
                quote = None
        elif char in "\"'":
            quote = char
        elif char == "#":
            break
        elif char in "[{":
            balance += 1
        elif char in "]}":
            balance -= 1
    return balance
