"""Exact JSON round-trip of the frozen dataclasses the store caches (records, onboarding state).

``dumps(obj)`` turns a dataclass into compact JSON; ``loads(cls, text)`` rebuilds it using
the dataclass's type hints, so datetimes come back as aware UTC ``datetime``, tuples as
tuples, enums as enums and nested dataclasses (``PhaseVisit``) as themselves. Fields
missing from stored JSON take their dataclass default (forward compatibility when a field
is added); unknown stored keys are ignored. Used only by ``onboard_sync.store``.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import types
import typing
from collections.abc import Mapping
from datetime import UTC, datetime
from functools import cache
from typing import Any, TypeVar

T = TypeVar("T")

_NONE_TYPE = type(None)


def to_utc(value: datetime) -> datetime:
    """Normalise an aware datetime to UTC; a naive one is a programming error."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"naive datetime {value.isoformat()} given to the store: pass an aware UTC datetime")
    return value.astimezone(UTC)


def _encode(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime):
        return to_utc(value).isoformat()
    if isinstance(value, Mapping):
        return {str(k): _encode(v) for k, v in value.items()}
    if isinstance(value, tuple | list | set | frozenset):
        return [_encode(v) for v in value]
    return value


def to_jsonable(value: Any) -> Any:
    """The JSON-ready form of a value (dataclasses, enums and datetimes become plain data)."""
    return _encode(value)


def dumps(value: Any) -> str:
    """Compact JSON of a dataclass (or any value ``to_jsonable`` understands)."""
    return json.dumps(_encode(value), separators=(",", ":"), ensure_ascii=False)


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _decode(tp: Any, value: Any) -> Any:
    if value is None:
        return None
    origin = typing.get_origin(tp)
    if origin is typing.Union or origin is types.UnionType:
        args = [a for a in typing.get_args(tp) if a is not _NONE_TYPE]
        if len(args) == 1:
            return _decode(args[0], value)
        for arg in args:  # e.g. ``str | int``: take the first that accepts the JSON value
            if isinstance(arg, type) and isinstance(value, arg):
                return value
        return value
    if origin is tuple:
        args = typing.get_args(tp)
        item = args[0] if args else Any
        return tuple(_decode(item, v) for v in value)
    if origin in (list, typing.get_origin(typing.Sequence[int])):
        (item,) = typing.get_args(tp) or (Any,)
        return [_decode(item, v) for v in value]
    if origin is not None and isinstance(origin, type) and issubclass(origin, Mapping):
        args = typing.get_args(tp)
        val_tp = args[1] if len(args) == 2 else Any
        return {k: _decode(val_tp, v) for k, v in value.items()}
    if tp is datetime:
        return to_utc(datetime.fromisoformat(value))
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return tp(value)
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        return from_jsonable(tp, value)
    if tp is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


def from_jsonable(cls: type[T], data: Mapping[str, Any]) -> T:
    """Rebuild dataclass ``cls`` from its ``to_jsonable`` form."""
    hints = _hints(cls)
    kwargs = {
        f.name: _decode(hints[f.name], data[f.name])
        for f in dataclasses.fields(cls)  # type: ignore[arg-type]
        if f.name in data
    }
    return cls(**kwargs)


def loads(cls: type[T], text: str) -> T:
    """Rebuild dataclass ``cls`` from ``dumps`` output."""
    return from_jsonable(cls, json.loads(text))


def json_default(value: Any) -> Any:
    """``json.dumps`` fallback for free-form documents (audit before/after, run reports)."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _encode(value)
    if isinstance(value, tuple | set | frozenset):
        return list(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")
