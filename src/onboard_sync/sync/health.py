"""Health inputs and history for the engine: plugin signals in, the day's health rows out.

Called by :class:`onboard_sync.sync.engine.Engine` and ``sync.evaluate``: :func:`signal_sources`
collects the ``register_signals`` sources once per run, :func:`plugin_signals` asks them for
one onboarding's :class:`~onboard_sync.records.Signal` records, and :func:`record_health` keeps one
health history row per onboarding per day in the store (only when the assessment changed).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from onboard_sync.onboarding.health import component_rows
from onboard_sync.onboarding.state import Evaluation
from onboard_sync.records import Account, Deal, Signal
from onboard_sync.store import HealthRecord, Store

SignalSource = Callable[..., Iterable[Signal]]


def plugin_signals(
    sources: Sequence[SignalSource], deal: Deal, account: Account | None, now: datetime
) -> tuple[Signal, ...]:
    """Signals from every ``register_signals`` source for one onboarding."""
    found: list[Signal] = []
    for source in sources:
        found.extend(source(deal=deal, account=account, now=now))
    return tuple(found)


def signal_sources(pm: Any) -> list[SignalSource]:
    """The sources plugins registered with ``register_signals``."""
    sources: list[SignalSource] = []
    pm.hook.register_signals(register=sources.append)
    return sources


def health_records(evaluations: Iterable[tuple[Evaluation, Deal]], now: datetime) -> list[HealthRecord]:
    """Today's health history row for every evaluated onboarding."""
    day = now.date().isoformat()
    return [
        HealthRecord(
            onboarding_id=ev.state.id,
            day=day,
            score=ev.health.score,
            status=ev.health.status,
            reasons=tuple(ev.health.reasons),
            components=component_rows(ev.health),
            computed_at=now,
        )
        for ev, _ in evaluations
        if ev.state is not None and ev.health is not None
    ]


def record_health(
    store: Store,
    evaluations: Iterable[tuple[Evaluation, Deal]],
    now: datetime,
    latest: Mapping[str, HealthRecord] | None = None,
) -> None:
    """Health history: a row per onboarding per day, written only when the assessment changed
    (compared with ``latest``, each onboarding's newest row, read now unless the caller read it)."""
    rows = health_records(evaluations, now)
    if latest is None:
        latest = store.latest_health([r.onboarding_id for r in rows])
    changed = [
        r
        for r in rows
        if (old := latest.get(r.onboarding_id)) is None
        or (old.day, old.score, old.status, old.reasons, old.components)
        != (r.day, r.score, r.status, r.reasons, r.components)
    ]
    if changed:
        with store.transaction():
            store.record_health(changed)
