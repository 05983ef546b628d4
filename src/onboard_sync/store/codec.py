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
from collections.abc import Callable, Mapping
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


Converter = Callable[[Any], Any]


def _identity(value: Any) -> Any:
    return value


def _encode_datetime(value: datetime) -> str:
    return to_utc(value).isoformat()


def _decode_datetime(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo is UTC else to_utc(parsed)


def _encode(value: Any) -> Any:
    """Generic (slow path) encoder for values whose type is not known statically."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _encoder(type(value))(value)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime):
        return _encode_datetime(value)
    if isinstance(value, Mapping):
        return {str(k): _encode(v) for k, v in value.items()}
    if isinstance(value, tuple | list | set | frozenset):
        return [_encode(v) for v in value]
    return value


def _plain_container(value: Any) -> Any:
    if type(value) in (dict, list, tuple):
        return value
    return dict(value) if isinstance(value, Mapping) else list(value)


def _strip_optional(tp: Any) -> tuple[Any, bool]:
    origin = typing.get_origin(tp)
    if origin is typing.Union or origin is types.UnionType:
        args = [a for a in typing.get_args(tp) if a is not _NONE_TYPE]
        if len(args) == 1:
            return args[0], True
        return Any, True  # a real union: keep the JSON value as it is
    return tp, False


@cache
def _encoder(cls: type) -> Converter:
    """A compiled encoder for dataclass ``cls``: datetimes to ISO text, nested dataclasses to dicts."""
    hints = typing.get_type_hints(cls)
    plan: list[tuple[str, Converter | None]] = []
    for f in dataclasses.fields(cls):
        tp, _ = _strip_optional(hints[f.name])
        origin = typing.get_origin(tp)
        if tp is datetime:
            plan.append((f.name, _encode_datetime))
        elif isinstance(tp, type) and dataclasses.is_dataclass(tp):
            plan.append((f.name, _encoder(tp)))
        elif isinstance(tp, type) and issubclass(tp, enum.Enum):
            plan.append((f.name, lambda v: v.value))
        elif origin is None and tp in (str, int, bool, float):
            plan.append((f.name, None))
        elif origin is not None and _decoder_for(tp) in (None, tuple):  # container of plain values
            plan.append((f.name, _plain_container))
        else:
            plan.append((f.name, _encode))

    def encode(obj: Any) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, conv in plan:
            value = getattr(obj, name)
            out[name] = value if conv is None or value is None else conv(value)
        return out

    return encode


def _decoder_for(tp: Any) -> Converter | None:
    """A decoder for values of type ``tp``; None when the JSON value is already right."""
    tp, _ = _strip_optional(tp)
    origin = typing.get_origin(tp)
    if tp is datetime:
        return _decode_datetime
    if tp is float:
        return float
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return tp
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        return _decoder(tp)
    if origin is tuple:
        args = [a for a in typing.get_args(tp) if a is not Ellipsis]
        item = _decoder_for(args[0]) if args else None
        if item is None:
            return tuple
        return lambda v: tuple(None if x is None else item(x) for x in v)
    if origin is list or origin is typing.get_origin(typing.Sequence[int]):
        args = typing.get_args(tp)
        item = _decoder_for(args[0]) if args else None
        return None if item is None else (lambda v: [None if x is None else item(x) for x in v])
    if origin is not None and isinstance(origin, type) and issubclass(origin, Mapping):
        args = typing.get_args(tp)
        val = _decoder_for(args[1]) if len(args) == 2 else None
        return None if val is None else (lambda v: {k: None if x is None else val(x) for k, x in v.items()})
    return None


@cache
def _decoder(cls: type) -> Converter:
    """A compiled decoder for dataclass ``cls`` (missing keys take defaults, unknown are ignored)."""
    hints = typing.get_type_hints(cls)
    plan = [(f.name, _decoder_for(hints[f.name])) for f in dataclasses.fields(cls)]

    def decode(data: Mapping[str, Any]) -> Any:
        kwargs: dict[str, Any] = {}
        for name, conv in plan:
            if name in data:
                value = data[name]
                kwargs[name] = value if conv is None or value is None else conv(value)
        return cls(**kwargs)

    return decode


def dumps(value: Any) -> str:
    """Compact JSON of a dataclass (dataclasses, enums and datetimes become plain data)."""
    return json.dumps(_encode(value), separators=(",", ":"), ensure_ascii=False)


def loads(cls: type[T], text: str) -> T:
    """Rebuild dataclass ``cls`` from ``dumps`` output."""
    return _decoder(cls)(json.loads(text))  # type: ignore[no-any-return]


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
