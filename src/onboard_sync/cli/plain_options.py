"""Option values of plain types (``str``, ``int``, ``bool``, ``Path``) converted without pydantic.

Typer 0.29 converts each value it parses, default or ``None`` included, with a pydantic
``TypeAdapter`` it builds for the option on first use: a command as short as ``status`` paid
~0.07 s for pydantic's import and the adapters, although none of its options needs more than
``int("50")``. :func:`convert_plainly` gives each option of a plain type its own conversion, which
returns what Typer's returns for a valid value (a ``str`` as given, an ``int`` from its decimal
digits, a ``bool`` as it is, a ``Path`` checked by Typer's own path check) and hands every other
value to Typer's conversion, built then, so a bad value is refused in Typer's words. ``main()``
applies it to the click command Typer builds (``typer.main.get_command``, Typer's public way to
reach it).

It sets what Typer 0.29 keeps per parameter (``_runtime_param``, made lazily by
``get_runtime_param``) and calls Typer's path check (``typer._param_types.coerce_cli_path``):
private names, so with a Typer that lacks them nothing is changed (older Typers convert with
click's types, without pydantic). tests/cli/test_plain_options.py compares every conversion with
Typer's own and fails when Typer changes them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEFAULT_PATH_CHECKS = {
    "exists": False,
    "file_okay": True,
    "dir_okay": True,
    "writable": False,
    "resolve_path": False,
    "allow_dash": False,
    "path_type": None,
}
"""The path options of a plain ``Path`` option (Typer's defaults; ``readable`` is checked either way)."""

MAX_PLAIN_DIGITS = 18
"""Longer numbers go to pydantic, whose integers are bounded."""


@dataclass(frozen=True)
class PlainConversion:
    """The conversion of one option's values (what Typer's ``RuntimeParam`` does, for plain types)."""

    kind: type

    def coerce(self, value: Any, param: Any, ctx: Any) -> Any:
        if value is None:  # as Typer: no value, no conversion
            return None
        if self.kind is str and isinstance(value, str):
            return value
        if self.kind is bool and isinstance(value, bool):
            return value
        if self.kind is int and type(value) is int:
            return value
        if self.kind is int and isinstance(value, str) and plain_decimal(value):
            return int(value)
        if issubclass(self.kind, Path) and isinstance(value, str | Path):
            from typer._param_types import coerce_cli_path  # given a Path, it needs no pydantic

            info = param.type_descriptor.parameter_info
            return coerce_cli_path(self.kind(value), info, path_type=self.kind, param=param, ctx=ctx)
        from typer._coercion import build_runtime_param  # Typer's own, pydantic and all

        return build_runtime_param(param.type_descriptor).coerce(value, param=param, ctx=ctx)


def plain_decimal(text: str) -> bool:
    """Decimal digits (an optional minus first) that read as the same number in any parser."""
    digits = text.removeprefix("-")
    return digits.isascii() and digits.isdigit() and len(digits) <= MAX_PLAIN_DIGITS


def plain_kind(param: Any) -> type | None:
    """The plain type of a Typer option (``None``: leave its conversion to Typer)."""
    descriptor = getattr(param, "type_descriptor", None)
    if descriptor is None or getattr(param, "_runtime_param", False) is not None:  # not Typer 0.29's, or set
        return None
    if param.multiple or param.nargs != 1 or not _typer_converts_with_pydantic():
        return None
    info = descriptor.parameter_info
    if descriptor.file_annotation is not None or info.parser is not None:
        return None
    annotation = descriptor.annotation
    if annotation in (str, bool):
        return annotation
    if annotation is int and info.min is None and info.max is None:
        return int
    plain_path = all(getattr(info, name) == default for name, default in DEFAULT_PATH_CHECKS.items())
    if isinstance(annotation, type) and issubclass(annotation, Path) and plain_path:
        return annotation
    return None


def _typer_converts_with_pydantic() -> bool:
    """Whether this Typer has the conversions this module stands in for (0.29: ``typer._coercion``)."""
    try:
        from typer._coercion import build_runtime_param  # noqa: F401
        from typer._param_types import coerce_cli_path  # noqa: F401
    except ImportError:
        return False
    return True


def convert_plainly(command: Any, parent: Any = None) -> None:
    """Give every plain-typed option of ``command`` and its sub-commands a conversion without pydantic,
    ``--help`` included: click makes that option when a command first parses (with the context's
    help option names) and keeps it, so it is made here, with the context parsing would make."""
    ctx = command.context_class(command, info_name=command.name, parent=parent, **command.context_settings)
    help_option = command.get_help_option(ctx)
    for param in [*command.params, *([help_option] if help_option is not None else [])]:
        kind = plain_kind(param)
        if kind is not None:
            param._runtime_param = PlainConversion(kind)
    for sub in getattr(command, "commands", {}).values():
        convert_plainly(sub, ctx)
