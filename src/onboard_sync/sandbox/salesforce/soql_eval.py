"""Evaluating parsed SOQL (:mod:`.soql`): WHERE trees against records, and ORDER BY sort keys.

SOQL semantics kept: ``= null`` / ``!= null``, case-insensitive string comparison, ``LIKE`` with
``%``/``_`` wildcards, dates compared with datetimes by day, ``NULLS FIRST|LAST``. Used by the
backend's reads through :func:`matches` and :func:`sort_key`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any


class SoqlTypeError(ValueError):
    """A filter value of the wrong type for its field."""

    code = "INVALID_QUERY_FILTER_OPERATOR"


def _coerce(left: Any, right: Any) -> tuple[Any, Any]:
    if isinstance(left, datetime) and isinstance(right, date) and not isinstance(right, datetime):
        return left.date(), right
    if isinstance(left, bool) or isinstance(right, bool):
        return left, right
    if isinstance(left, int | float) and isinstance(right, int | float):
        return float(left), float(right)
    return left, right


def _like(value: Any, pattern: str) -> bool:
    regex = ""
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern):
            regex += re.escape(pattern[i + 1])
            i += 2
            continue
        regex += ".*" if ch == "%" else "." if ch == "_" else re.escape(ch)
        i += 1
    return value is not None and re.fullmatch(regex, str(value), re.IGNORECASE | re.DOTALL) is not None


_IN_SETS: dict[int, tuple[Any, frozenset[str] | None]] = {}


def _lowered(items: Any) -> frozenset[str] | None:
    """The IN list lower-cased as a set when it holds only strings (cached per list: one query
    tests every record against the same list), else None."""
    cached = _IN_SETS.get(id(items))
    if cached is None or cached[0] is not items:
        strings = frozenset(i.lower() for i in items) if all(isinstance(i, str) for i in items) else None
        if len(_IN_SETS) > 64:
            _IN_SETS.clear()
        cached = _IN_SETS[id(items)] = (items, strings)
    return cached[1]


def compare(left: Any, op: str, right: Any) -> bool:
    """One comparison with SOQL's semantics (``= null``; strings compare case-insensitively)."""
    if op in ("IN", "NOT IN"):
        strings = _lowered(right) if isinstance(left, str) else None
        # a set lookup instead of one comparison per item (ids IN 200 ids, against every record)
        hit = left.lower() in strings if strings is not None else any(compare(left, "=", item) for item in right)
        return hit if op == "IN" else not hit
    if op == "LIKE":
        return _like(left, right)
    if right is None or left is None:
        if op == "=":
            return left is None and right is None
        if op == "!=":
            return (left is None) != (right is None)
        return False
    left, right = _coerce(left, right)
    if isinstance(left, str) and isinstance(right, str):
        left, right = left.lower(), right.lower()
    try:
        return {
            "=": left == right,
            "!=": left != right,
            "<": left < right,
            ">": left > right,
            "<=": left <= right,
            ">=": left >= right,
        }[op]
    except TypeError:
        raise SoqlTypeError(f"value of filter criterion for field is of the wrong type: {right!r}") from None


def matches(node: Any, resolve: Callable[[str], Any]) -> bool:
    """Whether the record behind ``resolve`` satisfies the WHERE tree ``node`` (None: everything)."""
    if node is None:
        return True
    if getattr(node, "op", None) in ("AND", "OR", "NOT") and hasattr(node, "items"):
        if node.op == "AND":
            return all(matches(item, resolve) for item in node.items)
        if node.op == "OR":
            return any(matches(item, resolve) for item in node.items)
        return not matches(node.items[0], resolve)
    return compare(resolve(node.field), node.op, node.value)


def sort_key(orders: tuple[Any, ...], resolve: Callable[[str], Any]) -> tuple[Any, ...]:
    """A sort key honouring ASC/DESC and NULLS FIRST/LAST (nulls first by default on ASC)."""
    parts: list[Any] = []
    for order in orders:
        value = resolve(order.field)
        nulls_last = order.nulls_last if order.nulls_last is not None else order.descending
        if isinstance(value, str):
            value = value.lower()
        if isinstance(value, datetime | date) and not isinstance(value, datetime):
            value = datetime(value.year, value.month, value.day, tzinfo=UTC)
        is_null = value is None
        rank = (1 if is_null else 0) if nulls_last else (0 if is_null else 1)
        parts.append((rank, _Desc(value) if order.descending else _Asc(value)))
    return tuple(parts)


class _Asc:
    __slots__ = ("v",)

    def __init__(self, v: Any) -> None:
        self.v = v

    def __lt__(self, other: _Asc) -> bool:
        if self.v is None or other.v is None:
            return False
        return bool(self.v < other.v)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Asc) and self.v == other.v

    __hash__ = None  # type: ignore[assignment]


class _Desc(_Asc):
    __slots__ = ()

    def __lt__(self, other: _Asc) -> bool:
        if self.v is None or other.v is None:
            return False
        return bool(other.v < self.v)
