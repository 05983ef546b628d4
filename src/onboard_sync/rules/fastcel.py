"""A fast path for the simple CEL conditions playbooks use most, checked against cel-python.

cel-python interprets by walking its parse tree, about 1 ms per condition: for 2,000 won
deals that is seconds of a backfill (segment rules like ``deal.amount >= 100000.0``).
``compile_fast`` turns the common subset — ``&&``, ``||``, ``!``, the six comparisons,
parentheses, field access on maps, literals and ``has(a.b)`` — into plain Python closures.

It never decides anything it is not sure of: a comparison of two different types, a missing
map key, or any construct outside the subset raises ``Undecided``, and the caller asks
cel-python for the answer on that data. So results are cel-python's results, only faster
(``tests/rules/test_fastcel.py`` compares both on random expressions and data).
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from typing import Any

import lark
from celpy import celtypes

Activation = Mapping[str, Any]
Fn = Callable[[Activation], Any]


class Undecided(Exception):
    """The fast path cannot be sure on this data: let cel-python evaluate."""


class Unsupported(Exception):
    """The expression uses a construct outside the fast subset (decided once, at compile time)."""


_COMPARISONS: dict[str, Callable[[Any, Any], bool]] = {
    "relation_eq": operator.eq,
    "relation_ne": operator.ne,
    "relation_lt": operator.lt,
    "relation_le": operator.le,
    "relation_gt": operator.gt,
    "relation_ge": operator.ge,
}
_SAME_KIND = (celtypes.BoolType, celtypes.IntType, celtypes.UintType, celtypes.DoubleType, celtypes.StringType)


def _kind(value: Any) -> type | None:
    for kind in _SAME_KIND:  # BoolType before IntType: a CEL bool is not an int
        if isinstance(value, kind):
            return kind
    return None


def _only(node: lark.Tree) -> Any:
    if len(node.children) != 1:
        raise Unsupported(node.data)
    return node.children[0]


def _compile(node: Any, literal: Callable[[str], Any]) -> Fn:
    if not isinstance(node, lark.Tree):
        raise Unsupported(str(node))
    kind = node.data
    if kind in ("expr", "addition", "multiplication", "member", "paren_expr") or (
        kind in ("conditionalor", "conditionaland", "relation", "unary", "primary") and len(node.children) == 1
    ):
        return _compile(_only(node), literal)
    if kind == "conditionalor":
        return _or(_compile(node.children[0], literal), _compile(node.children[1], literal))
    if kind == "conditionaland":
        return _and(_compile(node.children[0], literal), _compile(node.children[1], literal))
    if kind == "relation":
        op_node, right = node.children
        if not isinstance(op_node, lark.Tree) or op_node.data not in _COMPARISONS:
            raise Unsupported(str(getattr(op_node, "data", op_node)))
        return _compare(_COMPARISONS[op_node.data], _compile(_only(op_node), literal), _compile(right, literal))
    if kind == "unary":
        op, operand = node.children
        if not (isinstance(op, lark.Tree) and op.data == "unary_not"):
            raise Unsupported("unary")
        return _not(_compile(operand, literal))
    if kind == "member_dot":
        target, name = node.children
        return _field(_compile(target, literal), celtypes.StringType(str(name)))
    if kind == "ident":
        return _name(str(_only(node)))
    if kind == "literal":
        value = literal(str(_only(node)))
        return lambda activation: value
    if kind == "ident_arg" and str(node.children[0]) == "has" and len(node.children) == 2:
        return _has(node.children[1], literal)
    raise Unsupported(kind)


def _has(exprlist: Any, literal: Callable[[str], Any]) -> Fn:
    """``has(a.b)``: field presence, without evaluating ``a.b`` itself."""
    if not isinstance(exprlist, lark.Tree) or len(exprlist.children) != 1:
        raise Unsupported("has")
    inner = exprlist.children[0]
    while isinstance(inner, lark.Tree) and inner.data != "member_dot" and len(inner.children) == 1:
        inner = inner.children[0]
    if not (isinstance(inner, lark.Tree) and inner.data == "member_dot"):
        raise Unsupported("has")
    target = _compile(inner.children[0], literal)
    key = celtypes.StringType(str(inner.children[1]))

    def has(activation: Activation) -> bool:
        container = target(activation)
        if not isinstance(container, celtypes.MapType):
            raise Undecided
        return key in container

    return has


def _name(name: str) -> Fn:
    def lookup(activation: Activation) -> Any:
        try:
            return activation[name]
        except KeyError:
            raise Undecided from None

    return lookup


def _field(target: Fn, key: Any) -> Fn:
    def field(activation: Activation) -> Any:
        container = target(activation)
        if not isinstance(container, celtypes.MapType):
            raise Undecided
        try:
            return container[key]
        except KeyError:
            raise Undecided from None

    return field


def _compare(op: Callable[[Any, Any], bool], left: Fn, right: Fn) -> Fn:
    def compare(activation: Activation) -> bool:
        a, b = left(activation), right(activation)
        kind = _kind(a)
        if kind is None or kind is not _kind(b):
            raise Undecided
        return bool(op(a, b))

    return compare


def _bool(value: Any) -> bool:
    if _kind(value) is not celtypes.BoolType and not isinstance(value, bool):
        raise Undecided
    return bool(value)


def _and(left: Fn, right: Fn) -> Fn:
    # CEL's && is commutative over errors (false && error == false): any doubt goes to cel-python
    def both(activation: Activation) -> bool:
        return _bool(left(activation)) and _bool(right(activation))

    return both


def _or(left: Fn, right: Fn) -> Fn:
    def either(activation: Activation) -> bool:
        return _bool(left(activation)) or _bool(right(activation))

    return either


def _not(operand: Fn) -> Fn:
    return lambda activation: not _bool(operand(activation))


def compile_fast(tree: lark.Tree, literal: Callable[[str], Any]) -> Fn | None:
    """A closure for ``tree`` if it lies in the fast subset, else ``None``.

    ``literal`` turns a literal's source text into its CEL value (cel-python's own parsing,
    so ``1`` is an int, ``1.0`` a double, ``"x"`` a string, as cel-python would have it).
    """
    try:
        root = _compile(tree, literal)
    except Unsupported:
        return None
    return lambda activation: _bool(root(activation))  # a condition must be a bool, not just truthy
