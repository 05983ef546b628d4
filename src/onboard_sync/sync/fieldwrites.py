"""Field writes that survive a CRM property deleted during the run.

Every run checks the mapped properties before it writes (``sync.preflight``), but a property can
still disappear between that check and a write. The CRM then refuses the batch (HubSpot and
Salesforce refuse the whole request: the connector raises ``UnknownPropertiesError``) or the records
that carry it (``WriteResult.unknown_properties``). :func:`write_fields` sends those records again
without the missing properties, so their other fields are still written, and reports what it
dropped; the next run's check then stops with the mapping line to fix. Called by ``sync.apply``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from onboard_sync.connector import FieldWrite, WriteResult
from onboard_sync.errors import UnknownPropertiesError
from onboard_sync.records import ObjectKind


class FieldSink(Protocol):
    """What this module needs of a connector."""

    def write_fields(self, kind: ObjectKind, batch: Sequence[FieldWrite]) -> list[WriteResult]: ...


@dataclass(frozen=True, slots=True)
class FieldOutcome:
    """What became of one field write: the record's result, the values written, the properties dropped."""

    result: WriteResult
    written: Mapping[str, str | None]
    dropped: tuple[str, ...] = ()

    def dropped_error(self) -> str:
        """The failure reported for the dropped properties (empty when none were dropped)."""
        if not self.dropped:
            return ""
        names = ", ".join(repr(p) for p in self.dropped)
        rest = "its other fields were written" if self.written else "nothing else was left to write"
        return f"CRM property {names} does not exist any more (deleted during the run?): not written; {rest}"


def write_fields(
    connector: FieldSink, kind: ObjectKind, batch: Sequence[FieldWrite], gone: set[str] | None = None
) -> list[FieldOutcome]:
    """``connector.write_fields(kind, batch)``, sending again without the properties the CRM says it does
    not have; one outcome per write, in order. A record left with nothing to write is not sent. ``gone``
    (shared by the batches of one run and kind) remembers the missing properties, so later batches are
    sent without them at once."""
    gone = set() if gone is None else gone
    current = {w.key: w for w in batch}
    dropped: dict[str, list[str]] = {w.key: [] for w in batch}
    _drop(batch, set(gone), current, dropped)
    done: dict[str, WriteResult] = {}
    rounds = 1 + len({name for w in batch for name in w.values})  # each round drops at least one property
    for _ in range(rounds):
        todo = [current[w.key] for w in batch if w.key not in done and current[w.key].values]
        if not todo:
            break
        try:
            results = connector.write_fields(kind, todo)
        except UnknownPropertiesError as exc:
            if not _drop(todo, exc.properties, current, dropped):
                raise
            gone.update(exc.properties)
            continue
        again = False
        for write, result in zip(todo, results, strict=True):
            if not result.ok and _drop([write], result.unknown_properties, current, dropped):
                gone.update(result.unknown_properties)
                again = True
            else:
                done[write.key] = result
        if not again:
            break
    outcomes = []
    for w in batch:
        result = done.get(w.key) or WriteResult(w.key, ok=False)  # None: every value it had was dropped
        outcome = FieldOutcome(result, current[w.key].values if result.ok else {}, tuple(dropped[w.key]))
        if not result.ok and outcome.dropped:  # the failure names the dropped properties too
            error = "; ".join(e for e in (result.error, outcome.dropped_error()) if e)
            outcome = dataclasses.replace(outcome, result=dataclasses.replace(result, error=error))
        outcomes.append(outcome)
    return outcomes


def _drop(
    writes: Iterable[FieldWrite], names: Iterable[str], current: dict[str, FieldWrite], dropped: dict[str, list[str]]
) -> bool:
    """Remove ``names`` (any case: Salesforce field names are case-insensitive) from ``writes``; whether
    any write lost a property."""
    gone = {n.lower() for n in names}
    changed = False
    for write in writes:
        keep = {k: v for k, v in write.values.items() if k.lower() not in gone}
        if len(keep) < len(write.values):
            dropped[write.key] += [k for k in write.values if k not in keep]
            current[write.key] = dataclasses.replace(write, values=keep)
            changed = True
    return changed
