"""Find every ``onboard-sync …`` command line in Markdown and check it against the real click tree.

``commands_in(path)`` reads fenced code blocks (shell, cron, unit files, plain; not Python, TOML,
JSON or YAML, where the name only appears inside strings) and inline code spans, follows
``\\`` line continuations, splits ``&&``/``||``/``;``/`` | `` into separate commands, and takes
every command whose program is ``onboard-sync`` (bare, as a path such as ``.venv/bin/onboard-sync``,
after environment assignments, ``flock``/``sudo``-style wrappers or ``ExecStart=``). Usage notation
in the docs' tables is read as meant: ``[--json]`` is the option ``--json``, ``…`` is dropped.

``problem_with(args)`` parses the arguments with the option parsers of the CLI's own click
command tree, one level at a time, and returns what is wrong: an unknown command, an unknown
option, an option without its value, or an extra argument; ``None`` if it parses. Only the parser
runs: no callback (``--version``, ``--install-completion``), no conversion (placeholders such as
``--port P`` are fine), no work. Click's resilient mode is no use here: it swallows exactly
these errors.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PROGRAM = "onboard-sync"
SKIPPED_LANGUAGES = {"python", "py", "toml", "json", "yaml", "yml", "html", "xml"}
INSTALLERS = {"pip", "pip3", "pipx", "uv", "python", "python3"}
FENCE = re.compile(r"^\s*(```|~~~)\s*([\w+-]*)")
INLINE_CODE = re.compile(r"(`+)(.+?)\1")
SEPARATORS = re.compile(r"\s*(?:&&|\|\||;|\s\|\s)\s*")
REDIRECT = re.compile(r"^(?:\d*|&)(?:>>?|<)(.*)$")


@dataclass(frozen=True)
class DocCommand:
    """One ``onboard-sync`` command line found in a document."""

    path: Path
    line: int
    text: str
    args: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.text}"


def commands_in(path: Path, root: Path | None = None) -> list[DocCommand]:
    """Every ``onboard-sync`` command in the Markdown file ``path`` (shown relative to ``root``)."""
    shown = path.relative_to(root) if root else path
    found: list[DocCommand] = []
    for number, snippet in _snippets(path.read_text(encoding="utf-8")):
        for segment in SEPARATORS.split(snippet):
            args = _command_args(segment)
            if args is not None:
                found.append(DocCommand(shown, number, segment.strip(), args))
    return found


def _snippets(text: str) -> Iterator[tuple[int, str]]:
    """(line number, code) for each line of a checked fenced block (continuations joined) and each
    inline code span outside fenced blocks."""
    fence: str | None = None
    language = ""
    pending: tuple[int, str] | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        opened = FENCE.match(line)
        if fence is None and opened:
            fence, language = opened.group(1), opened.group(2).lower()
            continue
        if fence is not None:
            if line.strip().startswith(fence):
                fence = None
                continue
            if language in SKIPPED_LANGUAGES:
                continue
            start, code = pending if pending else (number, "")
            code += line.strip()
            if code.endswith("\\"):
                pending = (start, code[:-1] + " ")
                continue
            pending = None
            yield start, code.removeprefix("$ ")
            continue
        for match in INLINE_CODE.finditer(line):
            yield number, match.group(2).strip().replace("\\|", "|")


def _command_args(segment: str) -> tuple[str, ...] | None:
    """The arguments after ``onboard-sync`` in one shell command, or None if it does not run it."""
    if PROGRAM not in segment:
        return None
    try:
        tokens = shlex.split(segment, comments=True)
    except ValueError:  # unbalanced quotes: not a shell command (a sentence in a code span)
        return None
    if not tokens or Path(tokens[0]).name in INSTALLERS:
        return None
    index = _program_index(tokens)
    return None if index is None else tuple(_usage_words(tokens[index + 1 :]))


WRAPPER_VALUES = {  # wrapper -> (its options that take a value, positional arguments before the command)
    "sudo": (frozenset({"-u", "-g", "-C", "-D", "-h", "-p", "-r", "-t", "-U"}), 0),
    "flock": (frozenset({"-w", "--timeout", "-E", "--conflict-exit-code"}), 1),
    "timeout": (frozenset({"-s", "--signal", "-k", "--kill-after"}), 1),
    "nice": (frozenset({"-n", "--adjustment"}), 0),
    "env": (frozenset({"-u", "--unset", "-C", "--chdir"}), 0),
    "exec": (frozenset({"-a"}), 0),
    "nohup": (frozenset(), 0),
    "time": (frozenset(), 0),
    "command": (frozenset(), 0),
}
CRON_FIELD = re.compile(r"^(?:@\w+|[\d*/,\-]+)$")


def _program_index(tokens: list[str]) -> int | None:
    """Where ``onboard-sync`` stands in command position: first, or after a cron schedule, environment
    assignments, ``ExecStart=`` or wrappers (``sudo -u USER``, ``flock -n LOCK``, ``timeout 5m`` …).
    ``onboard-sync`` as an argument of another program (a user name, a path) is not a command."""
    index = 0
    while index < len(tokens) and CRON_FIELD.match(tokens[index]) and index < 5:
        index += 1  # a crontab line's schedule
    while index < len(tokens):
        token = tokens[index]
        name, equals, value = token.partition("=")
        if equals and name.isidentifier():  # VAR=value, or ExecStart=/opt/…/onboard-sync
            if Path(value).name == PROGRAM:
                return index
            index += 1
            continue
        program = Path(token).name
        if program == PROGRAM:
            return index
        if program not in WRAPPER_VALUES:
            return None
        valued, positional = WRAPPER_VALUES[program]
        index += 1
        while index < len(tokens) and tokens[index].startswith("-"):
            index += 2 if tokens[index] in valued else 1
        index += positional
    return None


def _usage_words(tokens: list[str]) -> Iterator[str]:
    """Arguments as written in usage notation, without shell redirections: ``[--json]`` → ``--json``."""
    skip_next = False
    for token in tokens:
        if skip_next:
            skip_next = False
            continue
        redirect = REDIRECT.match(token)
        if redirect:
            skip_next = not redirect.group(1)  # `>> file` takes the next word, `2>&1` does not
            continue
        word = token.strip("[]")
        if word and word not in ("…", "...", "|"):
            yield word


def problem_with(args: tuple[str, ...]) -> str | None:
    """What the real CLI would reject in ``onboard-sync ARGS`` (parsed, not run), or None."""
    import typer.main

    from onboard_sync.cli import PROG_NAME, _register_commands, app

    _register_commands()
    command: Any = typer.main.get_command(app)
    parent: Any = None
    name, rest = PROG_NAME, list(args)
    while True:
        context = command.context_class(command, info_name=name, parent=parent)
        try:
            _options, positional, _order = command.make_parser(context).parse_args(args=rest)
        except Exception as exc:  # click's UsageError family (no such option, option needs a value)
            message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
            return f"`{context.command_path}`: {message}"
        if not hasattr(command, "resolve_command"):  # a command: its own arguments and no more
            return _extra_arguments(context, positional)
        if not positional:
            return None  # `onboard-sync` or `onboard-sync sandbox` alone: prints its help
        sub = command.get_command(context, positional[0])
        if sub is None:
            return f"`{context.command_path}`: no such command {positional[0]!r}"
        parent, name, command, rest = context, positional[0], sub, positional[1:]


def _extra_arguments(context: Any, leftover: list[str]) -> str | None:
    """The parser takes a command's own arguments; anything left over is one too many."""
    if not leftover:
        return None
    return f"`{context.command_path}` got unexpected extra argument(s): {' '.join(leftover)}"
