"""The options of ``onboard-sync status`` (``StatusOptions``, whose defaults the Typer command uses too),
and its arguments read without Typer or click, when they are that simple.

``main()`` asks :func:`parse_status_argv` first: for ``status`` followed only by status's own options
(``STATUS_FLAGS``: ``--config``/``-c PATH``, ``--json``, ``--limit N``, ``--at-risk``, ``--owner``,
``--segment``, ``--phase``; a value after the option or after ``=``), it returns the values Typer
would give the command, and ``main()`` runs the command without importing Typer and click (~40 ms
of the start-up budget, issue #16; not with ``--json``, which loads the whole configuration anyway and
is left to Typer). Anything else: ``None``, and the full Typer CLI parses the
arguments, so ``--help``, an unknown option, a missing or bad value (``--limit x``, a flag given a
value), a positional argument, ``--`` or a global option get Typer's usage errors and help as always.
Declining is always safe: it costs only time.

Values are what Typer's parsing gives (tests/cli/test_status_argv.py compares for many argument
lists, and checks ``STATUS_FLAGS`` against the Typer command's options): the last of a repeated
option wins, a value is taken as given even when it starts with ``-``, ``--limit`` only as decimal
digits (anything else goes to Typer's conversion), and a ``--config`` that exists but cannot be read
is left to Typer's check.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from onboard_sync.cli.plain_options import plain_decimal


@dataclass(frozen=True)
class StatusOptions:
    """The options of ``status``, with their defaults (the Typer command's defaults are these)."""

    config: Path | None = None
    json: bool = False
    limit: int = 50
    at_risk: bool = False
    owner: str | None = None
    segment: str | None = None
    phase: str | None = None


DEFAULTS = StatusOptions()
MIN_LIMIT = 1
"""The fewest rows ``--limit`` may ask for (the Typer option's ``min``)."""

COMMAND = "status"
STATUS_FLAGS: dict[str, tuple[str, type]] = {
    "--config": ("config", Path),
    "-c": ("config", Path),
    "--json": ("json", bool),
    "--limit": ("limit", int),
    "--at-risk": ("at_risk", bool),
    "--owner": ("owner", str),
    "--segment": ("segment", str),
    "--phase": ("phase", str),
}
"""Each option of ``status`` (as typed) → the ``StatusOptions`` field it sets and its type."""


def _value(kind: type, text: str) -> Any:
    """``text`` as Typer converts it for an option of ``kind``; ``None``: leave it to Typer."""
    if kind is str:
        return text
    if kind is int:  # --limit, at least 1 (else Typer's range error)
        return int(text) if plain_decimal(text) and int(text) >= MIN_LIMIT else None
    path = Path(text)
    try:
        os.stat(path)
    except OSError:
        return path  # a missing file is the command's to report, as with Typer
    except ValueError:  # a NUL in the name
        return None
    return path if os.access(path, os.R_OK) else None


def parse_status_argv(args: list[str]) -> StatusOptions | None:
    """The options of ``args`` (``["status", ...]``) as Typer would give them; ``None``: let Typer parse."""
    if not args or args[0] != COMMAND:
        return None
    values: dict[str, Any] = {}
    rest = args[1:]
    index = 0
    while index < len(rest):
        arg = rest[index]
        flag, has_value, given = arg.partition("=") if arg.startswith("--") else (arg, "", "")
        known = STATUS_FLAGS.get(flag)
        if known is None:
            return None
        field, kind = known
        if kind is bool:
            if has_value:
                return None  # "--json=yes": Typer says the flag takes no value
            values[field] = True
            index += 1
            continue
        if not has_value:
            if index + 1 >= len(rest):
                return None  # Typer says the option needs a value
            index += 1
            given = rest[index]
        value = _value(kind, given)
        if value is None:
            return None
        values[field] = value
        index += 1
    return replace(DEFAULTS, **values)
