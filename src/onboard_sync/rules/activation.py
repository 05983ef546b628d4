"""CEL's side of rule evaluation: the activation (names and values) a condition sees, and the
function that evaluates a compiled condition. Imports cel-python; loaded when a condition is
checked or first evaluated (:mod:`onboard_sync.rules.expressions`) and by the state machine.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from celpy import celtypes

from onboard_sync.records import Account, Deal
from onboard_sync.rules.fastcel import Undecided


def evaluator(
    program: Any, fast: Callable[[Mapping[str, Any]], Any] | None
) -> Callable[[Mapping[str, Any]], bool | None]:
    """``activation → True/False``, or ``None`` when evaluation failed on that data: the fast path
    when it is sure, else cel-python's ``program``."""

    def evaluate(activation: Mapping[str, Any]) -> bool | None:
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

    return evaluate


class _OpenMap(celtypes.MapType):
    """A sample ``properties`` map that answers any key with an empty string."""

    def __getitem__(self, key: Any) -> Any:
        try:
            return super().__getitem__(key)
        except KeyError:
            return celtypes.StringType("")


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
    items = {celtypes.StringType(k): celtypes.StringType(v) for k, v in values.items() if v is not None}
    return _OpenMap(items) if sample else celtypes.MapType(items)


def _record_map(values: Mapping[str, Any]) -> celtypes.MapType:
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
    records = {
        "deal": deal_map,
        "account": account_map,
        "metrics": _record_map({k: celtypes.DoubleType(v) for k, v in (metrics or {}).items()}),
    }
    return with_scalars(
        records,
        segment=segment,
        phase=phase,
        status=status,
        days_since_start=days_since_start,
        plan_day=plan_day,
        days_in_phase=days_in_phase,
        health_score=health_score,
        health_status=health_status,
    )
