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
:func:`build_activation` from the canonical records (see docs/playbook-rules.md for the
names). Called by :mod:`onboard_sync.rules.loader` and :mod:`onboard_sync.onboarding.machine`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from onboard_sync.errors import ConfigError
from onboard_sync.records import Account, Deal
from onboard_sync.rules import verified

if TYPE_CHECKING:  # cel-python and lark load when a condition is checked or evaluated
    import celpy
    import lark
    from celpy import celtypes

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
    """``[program, fast]``: cel-python's program and the fast path (``None`` outside its subset),
    set when the condition is checked, else on its first evaluation."""
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

    def programs(self) -> tuple[Any, Any]:
        """cel-python's program and the fast path's closure, compiled on first use."""
        if not self._compiled:
            try:
                _, program, fast = _compile(self.source)
            except Exception as exc:  # passed the check before, so only a cache edited by hand gets here
                detail = " ".join(str(exc).split())
                raise ConfigError(f"cannot parse CEL condition {self.source!r}: {detail}", where=self.where) from None
            self._compiled[:] = [program, fast]
        return self._compiled[0], self._compiled[1]

    def evaluate(self, activation: Mapping[str, Any]) -> bool | None:
        """``True``/``False``, or ``None`` when evaluation failed on this data."""
        from celpy import celtypes

        from onboard_sync.rules.fastcel import Undecided

        program, fast = self.programs()
        if fast is not None:
            try:
                return bool(fast(activation))
            except Undecided:
                pass  # a type mix or a missing key: cel-python decides, with its own error rules
        try:
            result = program.evaluate(activation)
        except Exception:  # CELEvalError, or a celpy internal error on odd data
            return None
        if isinstance(result, celtypes.BoolType | bool):
            return bool(result)
        return None


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
    condition = Condition(source=source, where=where, names=used_names, metrics=used_metrics, _compiled=[program, fast])
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


@functools.cache
def _open_map() -> type:
    """A sample ``properties`` map that answers any key with an empty string (a class made when
    first needed: it derives from cel-python's map)."""
    from celpy import celtypes

    class _OpenMap(celtypes.MapType):
        def __getitem__(self, key: Any) -> Any:
            try:
                return super().__getitem__(key)
            except KeyError:
                return celtypes.StringType("")

    return _OpenMap


def _check_sample(condition: Condition, names: frozenset[str], metrics: frozenset[str]) -> None:
    from celpy import celtypes

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


def with_scalars(
    base: Mapping[str, Any],
    *,
    segment: str,
    phase: str,
    status: str,
    days_since_start: int,
    plan_day: int,
    days_in_phase: int,
    health_score: int,
    health_status: str,
) -> dict[str, Any]:
    """``base`` (from :func:`build_activation`) with the per-moment names replaced: cheap,
    because the record maps (the costly part) are shared."""
    from celpy import celtypes

    s = celtypes.StringType
    return {
        **base,
        "segment": s(segment),
        "phase": s(phase),
        "status": s(status),
        "days_since_start": celtypes.IntType(days_since_start),
        "plan_day": celtypes.IntType(plan_day),
        "days_in_phase": celtypes.IntType(days_in_phase),
        "health": _record_map({"score": celtypes.IntType(health_score), "status": s(health_status)}),
    }


def _props(values: Mapping[str, str | None], *, sample: bool) -> celtypes.MapType:
    from celpy import celtypes

    items = {celtypes.StringType(k): celtypes.StringType(v) for k, v in values.items() if v is not None}
    return _open_map()(items) if sample else celtypes.MapType(items)


def _record_map(values: Mapping[str, Any]) -> celtypes.MapType:
    from celpy import celtypes

    return celtypes.MapType({celtypes.StringType(k): v for k, v in values.items()})


def build_activation(
    *,
    deal: Deal | None,
    account: Account | None,
    segment: str = "",
    phase: str = "",
    status: str = "",
    days_since_start: int = 0,
    plan_day: int = 0,
    days_in_phase: int = 0,
    health_score: int = 100,
    health_status: str = "healthy",
    metrics: Mapping[str, float] | None = None,
    sample: bool = False,
) -> dict[str, Any]:
    """The CEL names for one evaluation. Missing numbers are ``0.0``, missing text ``""``.

    ``metrics`` holds only the metrics that have data, so ``has(metrics.nps)`` tells
    whether NPS is known. ``sample=True`` builds the load-time type-checking sample.
    """
    from celpy import celtypes

    s = celtypes.StringType
    deal_map = _record_map(
        {
            "id": s(deal.id if deal else ""),
            "source": s(deal.source if deal else ""),
            "name": s(deal.name if deal else ""),
            "stage": s(deal.stage if deal else ""),
            "amount": celtypes.DoubleType(deal.amount or 0.0 if deal else 0.0),
            "pipeline": s((deal.pipeline or "") if deal else ""),
            "is_won": celtypes.BoolType(bool(deal and deal.is_won)),
            "is_closed": celtypes.BoolType(bool(deal and deal.is_closed)),
            "close_date": s(deal.close_date.date().isoformat() if deal and deal.close_date else ""),
            "properties": _props(deal.properties if deal else {}, sample=sample),
        }
    )
    account_map = _record_map(
        {
            "id": s(account.id if account else ""),
            "source": s(account.source if account else ""),
            "name": s(account.name if account else ""),
            "domain": s((account.domain or "") if account else ""),
            "properties": _props(account.properties if account else {}, sample=sample),
        }
    )
    return {
        "deal": deal_map,
        "account": account_map,
        "segment": s(segment),
        "phase": s(phase),
        "status": s(status),
        "days_since_start": celtypes.IntType(days_since_start),
        "plan_day": celtypes.IntType(plan_day),
        "days_in_phase": celtypes.IntType(days_in_phase),
        "health": _record_map({"score": celtypes.IntType(health_score), "status": s(health_status)}),
        "metrics": _record_map({k: celtypes.DoubleType(v) for k, v in (metrics or {}).items()}),
    }
