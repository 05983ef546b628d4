"""Vendor JSON objects to onboard-sync's records, converted by the record's own field types.

:func:`record` builds a ``Deal``, ``Account``, ``Contact``, ``Owner``, ``Task`` or ``Ticket`` from a
JSON object whose keys are the record's field names (``rename`` maps the vendor's names onto them),
so a connector writes only what is not a plain copy: ``source``, a computed ``is_won``, the
``properties`` the mapping asked for. Each value is converted as its field is typed: date-times with
:func:`onboard_sync.toolkit.times.parse_time`, dates, numbers, booleans, enums by value, tuples of
ids, text; ``""`` and ``None`` leave an optional field empty. Used by REST connectors' mappers.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import types
import typing
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any, TypeVar

from onboard_sync.toolkit.times import parse_time

R = TypeVar("R")


@functools.cache
def _fields(cls: type) -> dict[str, tuple[Any, bool]]:
    """Each dataclass field of ``cls``: its type without ``None``, and whether ``None`` is allowed."""
    hints = typing.get_type_hints(cls)
    out = {}
    for f in dataclasses.fields(cls):
        hint = hints[f.name]
        args = (
            typing.get_args(hint)
            if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union
            else ()
        )
        kinds = [a for a in args if a is not type(None)]
        out[f.name] = (kinds[0] if len(kinds) == 1 else hint, type(None) in args)
    return out


def _convert(value: Any, kind: Any, optional: bool) -> Any:
    if value is None or (value == "" and optional):
        return None
    if kind is datetime:
        return parse_time(value)
    if kind is date:
        return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
    if kind is float:
        return float(value)
    if kind is bool:
        return value if isinstance(value, bool) else str(value).strip().lower() in ("true", "1", "yes")
    if isinstance(kind, type) and issubclass(kind, enum.Enum):
        return kind(value)
    if typing.get_origin(kind) is tuple:
        return tuple(str(v) for v in value)
    if kind is str:
        return str(value)
    return value


def record(cls: type[R], raw: Mapping[str, Any], /, *, rename: Mapping[str, str] | None = None, **given: Any) -> R:
    """A ``cls`` record from ``raw`` (keys: the record's field names, or vendor names in ``rename``
    mapped to them); ``given`` values are taken as they are and win. A required field that neither
    holds is a ``KeyError`` naming it."""
    fields = _fields(cls)
    values: dict[str, Any] = {}
    for name, value in raw.items():
        target = (rename or {}).get(name, name)
        if target in fields and target not in given:
            values[target] = _convert(value, *fields[target])
    values.update(given)
    missing = [f.name for f in dataclasses.fields(cls) if f.name not in values and _required(f)]  # type: ignore[arg-type]
    if missing:
        raise KeyError(f"{cls.__name__} needs {', '.join(missing)}: not in the vendor's answer")
    return cls(**values)


def _required(f: dataclasses.Field[Any]) -> bool:
    return f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING


__all__ = ["record"]
