"""Read TOML files so that every later error can name the file and line of the offending key.

``read_toml(path)`` parses with ``tomllib`` and returns a ``TomlDocument`` whose
``where(("phases", 3, "tasks", 1, "when"))`` gives ``"rules/x.toml:42 (phases[3].tasks[1].when)"``.
Syntax errors become ``ConfigError`` with tomllib's line and column. Used by the config,
mapping and rules loaders.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from onboard_sync.errors import ConfigError
from onboard_sync.keys import did_you_mean, model_keys

KeyPath = Sequence[str | int]

_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
_KEY = re.compile(r"""^\s*((?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*')(?:\s*\.\s*(?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*'))*)\s*=""")


def _split_dotted(text: str) -> list[str]:
    parts = re.findall(r"""[A-Za-z0-9_-]+|"[^"]*"|'[^']*'""", text)
    return [p[1:-1] if p[:1] in "\"'" else p for p in parts]


def format_key_path(path: KeyPath) -> str:
    """``("phases", 3, "when")`` → ``phases[3].when``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


@dataclass
class TomlDocument:
    """A parsed TOML file with a map from key paths to the line that defines them."""

    path: Path
    data: dict[str, Any]
    lines: dict[tuple[str | int, ...], int] = field(default_factory=dict)
    display_path: str = ""

    def line_of(self, path: KeyPath) -> int | None:
        """The line of the longest prefix of ``path`` that the file defines."""
        key = tuple(path)
        while key:
            if key in self.lines:
                return self.lines[key]
            key = key[:-1]
        return None

    def where(self, path: KeyPath = ()) -> str:
        """``file:line (key.path)`` for error messages."""
        line = self.line_of(path)
        location = f"{self.display_path}:{line}" if line else self.display_path
        return f"{location} ({format_key_path(path)})" if path else location

    def error(self, path: KeyPath, message: str) -> ConfigError:
        return ConfigError(message, where=self.where(path))


def _index_lines(text: str) -> dict[tuple[str | int, ...], int]:
    """Map each key path to its defining line (tables, arrays of tables, dotted keys)."""
    lines: dict[tuple[str | int, ...], int] = {}
    array_counts: dict[tuple[str | int, ...], int] = {}
    current: tuple[str | int, ...] = ()
    in_multiline: str | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        if in_multiline:
            if in_multiline in raw:
                in_multiline = None
            continue
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue
        header = _HEADER.match(raw)
        if header and not _KEY.match(raw):
            names = _split_dotted(header.group(2))
            base: tuple[str | int, ...] = ()
            for name in names[:-1]:
                base = (*base, name)
                lines.setdefault(base, number)  # an implicit parent table starts here too
                if base in array_counts:
                    base = (*base, array_counts[base] - 1)
            base = (*base, names[-1])
            if header.group(1) == "[[":
                index = array_counts.get(base, 0)
                array_counts[base] = index + 1
                lines.setdefault(base, number)
                current = (*base, index)
            else:
                current = base
            lines[current] = number
            continue
        key = _KEY.match(raw)
        if key:
            path = current + tuple(_split_dotted(key.group(1)))
            lines.setdefault(path, number)
            rest = raw[key.end() :]
            for quote in ('"""', "'''"):
                if rest.count(quote) == 1:
                    in_multiline = quote
    return lines


def toml_value(value: object) -> str:
    """``value`` written as TOML: ``true``/``false``, a number, else a basic string (escaped)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def shown_path(path: Path) -> str:
    """The path as a person would type it: relative to the working directory when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except (ValueError, OSError):
        return str(path)


def read_toml(path: Path, *, display_path: str | None = None) -> TomlDocument:
    """Parse a TOML file; syntax errors and unreadable files raise ConfigError naming the place."""
    shown = display_path or shown_path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError("file not found", where=shown) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read file: {exc}", where=shown) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"\(at line (\d+), column (\d+)\)", str(exc))
        message = re.sub(r"\s*\(at line \d+, column \d+\)", "", str(exc))
        where = f"{shown}:{match.group(1)}:{match.group(2)}" if match else shown
        raise ConfigError(f"invalid TOML: {message}", where=where) from None
    return TomlDocument(path=path, data=data, lines=_index_lines(text), display_path=shown)


def pydantic_error(
    doc: TomlDocument, exc: Any, prefix: KeyPath = (), model: type[BaseModel] | None = None
) -> ConfigError:
    """Turn the first error of a pydantic ValidationError into a ConfigError naming file:line.

    With the ``model`` that was validated, an unknown key also names the closest known key."""
    first = exc.errors()[0]
    inner = tuple(first.get("loc", ()))
    loc = tuple(prefix) + inner
    kind = first.get("type", "")
    if kind == "extra_forbidden":
        message = f"unknown key {format_key_path(loc[-1:])!r}"
        if model is not None and inner and isinstance(inner[-1], str):
            message += did_you_mean(inner[-1], model_keys(model, inner[:-1]))
    elif kind == "finite_number":
        message = f"{format_key_path(loc[-1:])!r} must be a finite number, not {first.get('input')!r}"
    elif kind == "missing":
        message = f"missing required key {format_key_path(loc[-1:])!r}"
    elif kind == "value_error":  # our validators' own words, without pydantic's "Value error, "
        message = str(first.get("ctx", {}).get("error", "")) or first.get("msg", "invalid value")
    else:
        message = first.get("msg", "invalid value")
    count = len(exc.errors())
    if count > 1:
        message += f" (and {count - 1} more problem{'s' if count > 2 else ''})"
    return ConfigError(message, where=doc.where(loc))
