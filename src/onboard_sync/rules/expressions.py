"""CEL conditions in playbook rules: compiled and checked once at load, evaluated safely later.

Rules use CEL (the Common Expression Language, via ``cel-python``): side-effect free, not
Turing complete, no ``eval``. :func:`compile_condition` parses an expression, walks its
syntax tree to reject names the rule's context does not provide (``deal.amout`` is an
error at load time, not a silent ``false`` at 3 a.m.), then runs it once against a typed
sample activation to catch type errors and non-boolean results.

A condition that passed this check before (same text, same names, same checking code:
:mod:`onboard_sync.rules.verified`) is not checked again, and it is compiled when first
evaluated: loading a playbook then imports no cel-python, so commands that evaluate no rule
(``status``) never pay for it.

At run time :meth:`Condition.evaluate` returns ``True``/``False``, or ``None`` when the
expression failed on the actual data (a missing property, say); callers treat ``None``
as "does not hold" (tasks, exits) or "not scored" (health). Activations are built by
:func:`onboard_sync.rules.activation.build_activation` from the canonical records (see
docs/playbook-rules.md for the names). Called by :mod:`onboard_sync.rules.loader` and
:mod:`onboard_sync.onboarding.machine`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from onboard_sync.errors import ConfigError
from onboard_sync.rules import verified

if TYPE_CHECKING:  # cel-python and lark load when a condition is checked or evaluated
    import celpy
    import lark

#: Names a segment rule may use: a segment is chosen before anything else is known.
SEGMENT_NAMES = frozenset({"deal", "account"})
#: Names every other condition (task ``when``, phase ``exit_when``/``extend_when``, health) may use.
RULE_NAMES = frozenset(
    {
        "deal",
        "account",
        "segment",
        "phase",
        "status",
        "days_since_start",
        "plan_day",
        "days_in_phase",
        "health",
        "metrics",
    }
)

#: Fields of the map-valued names; ``properties`` maps are open (any key).
FIELDS: Mapping[str, frozenset[str]] = {
    "deal": frozenset(
        {
            "id",
            "source",
            "name",
            "stage",
            "amount",
            "pipeline",
            "is_won",
            "is_closed",
            "close_date",
            "properties",
        }
    ),
    "account": frozenset({"id", "source", "name", "domain", "properties"}),
    "health": frozenset({"score", "status"}),
}

_MACROS = frozenset({"exists", "all", "exists_one", "map", "filter"})
_FUNCTIONS = frozenset(
    {
        "has", "size", "int", "uint", "double", "string", "bool", "bytes", "dyn", "type",
        "timestamp", "duration", "matches",
    }
)  # fmt: skip


@functools.cache
def _literal(text: str) -> Any:
    """A CEL literal's value exactly as cel-python parses it (for the fast path)."""
    return _environment().program(_environment().compile(text)).evaluate({})


@functools.cache
def _environment() -> celpy.Environment:
    """The CEL environment, built on first use (it costs ~0.6 s, which every CLI start paid), on the
    parser tables cached by :mod:`onboard_sync.rules.cel_parser`."""
    import celpy

    from onboard_sync.rules.cel_parser import install_cached_parser

    install_cached_parser()
    return celpy.Environment()


def _compiled(program: Any, fast: Any) -> list[Any]:
    """``Condition._compiled`` for cel-python's ``program`` and the fast path's ``fast``."""
    from onboard_sync.rules.activation import evaluator

    return [evaluator(program, fast), program, fast]


def _compile(source: str) -> tuple[lark.Tree, Any, Any]:
    """Parse ``source`` and build cel-python's program and the fast path's closure (or ``None``)."""
    from onboard_sync.rules.fastcel import compile_fast

    tree = _environment().compile(source)
    return tree, _environment().program(tree), compile_fast(tree, _literal)


_MEMO_SIZE = 4096


@dataclass(frozen=True, slots=True)
class Condition:
    """A compiled CEL condition. ``names``/``metrics`` list the names and ``metrics.X`` it reads."""

    source: str
    where: str
    names: frozenset[str] = frozenset()
    metrics: frozenset[str] = frozenset()
    _compiled: list[Any] = field(default_factory=list, repr=False, compare=False)
    """``[run, program, fast]``: the evaluating function, cel-python's program and the fast path
    (``None`` outside its subset); set when the condition is checked, else on first evaluation."""
    _memo: dict[tuple[Any, ...], bool | None] = field(default_factory=dict, repr=False, compare=False)

    @property
    def memoisable(self) -> bool:
        """True when the result depends only on scalar names and metrics (not deal/account)."""
        return not self.names & {"deal", "account"}

    def evaluate_memo(self, key: tuple[Any, ...], activation: Callable[[], Mapping[str, Any]]) -> bool | None:
        """:meth:`evaluate`, remembered under ``key`` (the values of every name it reads).

        Rules like ``plan_day >= 60`` or ``health.status == "healthy"`` take few distinct
        inputs across thousands of onboardings, so this skips the (slow) interpreter.
        """
        if key in self._memo:
            return self._memo[key]
        if len(self._memo) >= _MEMO_SIZE:
            self._memo.clear()
        result = self._memo[key] = self.evaluate(activation())
        return result

    def _compile_now(self) -> list[Any]:
        try:
            _, program, fast = _compile(self.source)
        except Exception as exc:  # passed the check before, so only a cache edited by hand gets here
            detail = " ".join(str(exc).split())
            raise ConfigError(f"cannot parse CEL condition {self.source!r}: {detail}", where=self.where) from None
        self._compiled[:] = _compiled(program, fast)
        return self._compiled

    def programs(self) -> tuple[Any, Any]:
        """cel-python's program and the fast path's closure (``None``), compiled on first use."""
        compiled = self._compiled or self._compile_now()
        return compiled[1], compiled[2]

    def evaluate(self, activation: Mapping[str, Any]) -> bool | None:
        """``True``/``False``, or ``None`` when evaluation failed on this data."""
        return (self._compiled or self._compile_now())[0](activation)  # type: ignore[no-any-return]


def compile_condition(source: str, *, names: frozenset[str], metrics: frozenset[str], where: str) -> Condition:
    """Parse and check ``source``; raise :class:`ConfigError` at ``where`` on any problem. A
    condition that passed this check before is not checked (or compiled) again."""
    if not source.strip():
        raise ConfigError("empty condition", where=where)
    known = verified.remembered(source, names=names, metrics=metrics)
    if known is not None:
        return Condition(source=source, where=where, names=known[0], metrics=known[1])
    try:
        tree, program, fast = _compile(source)
    except Exception as exc:  # CELParseError carries the caret diagram in its text
        detail = " ".join(str(exc).split())
        raise ConfigError(f"cannot parse CEL condition {source!r}: {detail}", where=where) from None
    used_names, used_metrics = _check_names(tree, source, names=names, metrics=metrics, where=where)
    condition = Condition(
        source=source, where=where, names=used_names, metrics=used_metrics, _compiled=_compiled(program, fast)
    )
    _check_sample(condition, names, metrics)
    verified.remember(source, names=names, metrics=metrics, used_names=used_names, used_metrics=used_metrics)
    return condition


def _check_names(
    tree: lark.Tree, source: str, *, names: frozenset[str], metrics: frozenset[str], where: str
) -> tuple[frozenset[str], frozenset[str]]:
    bound = set(_macro_variables(tree))
    used: set[str] = set()
    free: set[str] = set()
    for node in tree.iter_subtrees():
        if node.data == "ident_arg":
            name = str(node.children[0])
            if name not in _FUNCTIONS:
                raise ConfigError(f"unknown function {name!r} in {source!r}", where=where)
        elif node.data == "ident":
            name = str(node.children[0])
            if name not in names and name not in bound:
                allowed = ", ".join(sorted(names))
                raise ConfigError(f"unknown name {name!r} in {source!r} (available: {allowed})", where=where)
            free.add(name)
        elif node.data in ("dot_ident", "dot_ident_arg"):
            raise ConfigError(f"leading-dot names are not supported in {source!r}", where=where)
        elif node.data == "member_dot":
            path = _dotted(node)
            if path is None or path[0] in bound:
                continue
            root, attr = path[0], path[1]
            if root == "metrics":
                if attr not in metrics:
                    known = ", ".join(sorted(metrics))
                    raise ConfigError(f"unknown metric {attr!r} in {source!r} (known: {known})", where=where)
                used.add(attr)
            elif root in FIELDS and attr not in FIELDS[root]:
                known = ", ".join(sorted(FIELDS[root]))
                raise ConfigError(f"{root} has no field {attr!r} in {source!r} (fields: {known})", where=where)
    return frozenset(free - bound), frozenset(used)


def _dotted(node: lark.Tree) -> tuple[str, str] | None:
    """For ``root.attr`` (a member_dot directly on an identifier) return ``(root, attr)``."""
    import lark

    member, attr = node.children[0], node.children[1]
    if not isinstance(member, lark.Tree) or not member.children:
        return None
    primary = member.children[0]
    if not isinstance(primary, lark.Tree) or primary.data != "primary":
        return None
    ident = primary.children[0]
    if not isinstance(ident, lark.Tree) or ident.data != "ident":
        return None
    return str(ident.children[0]), str(attr)


def _macro_variables(tree: lark.Tree) -> Iterator[str]:
    """The loop variables of ``x.exists(v, …)``-style macros (bound, not free, names)."""
    import lark

    for node in tree.iter_subtrees():
        if node.data == "member_dot_arg" and str(node.children[1]) in _MACROS and len(node.children) > 2:
            args = node.children[2]
            if isinstance(args, lark.Tree) and args.children:
                first = args.children[0]
                if isinstance(first, lark.Tree):
                    for sub in first.iter_subtrees():
                        if sub.data == "ident":
                            yield str(sub.children[0])
                            break


def _check_sample(condition: Condition, names: frozenset[str], metrics: frozenset[str]) -> None:
    from celpy import celtypes

    from onboard_sync.rules.activation import build_activation

    sample = build_activation(
        deal=None,
        account=None,
        sample=True,
        metrics=dict.fromkeys(metrics, 1.0),
    )
    activation = {k: v for k, v in sample.items() if k in names}
    try:
        result = condition.programs()[0].evaluate(activation)
    except Exception as exc:
        detail = " ".join(str(exc).split())[:200]
        raise ConfigError(
            f"CEL condition {condition.source!r} fails on sample data: {detail}", where=condition.where
        ) from None
    if not isinstance(result, celtypes.BoolType | bool):
        raise ConfigError(
            f"CEL condition {condition.source!r} must be true or false, not {type(result).__name__}",
            where=condition.where,
        )
