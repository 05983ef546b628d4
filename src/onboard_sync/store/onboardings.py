"""Store part: onboarding state, the append-only transition log, and incremental-pull cursors.

``OnboardingState`` is stored whole as codec JSON (exact round-trip, tolerant of fields
added later) next to copies of the columns queries filter on. Mixed into ``Store``.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from onboard_sync.onboarding.state import OnboardingState, OnboardingStatus, Transition, TransitionCause
from onboard_sync.store import codec
from onboard_sync.store import schema as t
from onboard_sync.store.base import StoreBase


def _onboarding_row(state: OnboardingState, now: datetime) -> dict[str, Any]:
    return {
        "id": state.id,
        "source": state.source,
        "deal_id": state.deal_id,
        "account_id": state.account_id,
        "segment": state.segment,
        "phase": state.phase,
        "status": OnboardingStatus(state.status).value,
        "started_at": state.started_at,
        "phase_entered_at": state.phase_entered_at,
        "completed_at": state.completed_at,
        "health_score": state.health_score,
        "health_status": state.health_status,
        "playbook": state.playbook,
        "data": codec.dumps(state),
        "updated_at": now,
    }


class OnboardingsMixin(StoreBase):
    """Onboardings, transitions and cursors."""

    # -- onboardings --------------------------------------------------------------------

    def get_onboarding(self, onboarding_id: str) -> OnboardingState | None:
        """The stored state of one onboarding, or None."""
        with self._read() as conn:
            data = conn.execute(
                sa.select(t.onboardings.c.data).where(t.onboardings.c.id == onboarding_id)
            ).scalar_one_or_none()
        return None if data is None else codec.loads(OnboardingState, data)

    def deals_of_tasks(self, keys: Collection[str]) -> dict[str, str]:
        """The deal id of each owned task's onboarding, by task key (keys not owned are absent): what
        ``find_tasks`` is given so that CRMs without a searchable task field can look a key up by deal."""
        base = sa.select(t.owned_tasks.c.key, t.onboardings.c.deal_id).join(
            t.onboardings, t.onboardings.c.id == t.owned_tasks.c.onboarding_id
        )
        with self._read() as conn:
            rows = self._select_in(conn, base, t.owned_tasks.c.key, keys)
        return {r.key: r.deal_id for r in rows}

    def get_onboardings(self, ids: Collection[str]) -> dict[str, OnboardingState]:
        """Several onboardings by id (missing ones are absent from the result)."""
        with self._read() as conn:
            rows = self._select_in(conn, sa.select(t.onboardings.c.data), t.onboardings.c.id, ids)
        states = (codec.loads(OnboardingState, r.data) for r in rows)
        return {s.id: s for s in states}

    def onboardings(
        self,
        *,
        source: str | None = None,
        statuses: Collection[OnboardingStatus] | None = None,
    ) -> list[OnboardingState]:
        """All onboardings, optionally of one source and/or in some statuses, ordered by id."""
        query = sa.select(t.onboardings.c.data).order_by(t.onboardings.c.id)
        if source is not None:
            query = query.where(t.onboardings.c.source == source)
        if statuses is not None:
            query = query.where(t.onboardings.c.status.in_([OnboardingStatus(s).value for s in statuses]))
        with self._read() as conn:
            return [codec.loads(OnboardingState, data) for data in conn.execute(query).scalars()]

    def deal_ids_after(
        self, source: str, after: str | None, limit: int, *, statuses: Collection[OnboardingStatus]
    ) -> list[tuple[str, str]]:
        """``(onboarding id, deal id)`` of up to ``limit`` onboardings of ``source`` in ``statuses``
        with id > ``after``, ordered by id (keyset paging; the
        engine pages through every open onboarding's deal id each run, without decoding their states)."""
        c = t.onboardings.c
        query = (
            sa.select(c.id, c.deal_id)
            .where(c.source == source, c.status.in_([OnboardingStatus(s).value for s in statuses]))
            .order_by(c.id)
            .limit(limit)
        )
        if after is not None:
            query = query.where(c.id > after)
        with self._read() as conn:
            return [(r.id, r.deal_id) for r in conn.execute(query)]

    def save_onboarding(self, state: OnboardingState) -> None:
        """Insert or replace one onboarding's state."""
        self.save_onboardings([state])

    def save_onboardings(self, states: Sequence[OnboardingState]) -> None:
        """Insert or replace many onboardings in batched statements."""
        self._check_writable()
        now = self._now()
        rows = [_onboarding_row(s, now) for s in states]
        with self._write() as conn:
            self._upsert(conn, t.onboardings, rows, keys=["id"])

    # -- transitions --------------------------------------------------------------------

    def record_transition(self, transition: Transition) -> None:
        """Append one transition to the log."""
        self.record_transitions([transition])

    def record_transitions(self, transitions: Sequence[Transition]) -> None:
        """Append transitions to the log, in order."""
        self._check_writable()
        rows = [
            {
                "onboarding_id": tr.onboarding_id,
                "old_phase": tr.old_phase,
                "new_phase": tr.new_phase,
                "old_status": None if tr.old_status is None else OnboardingStatus(tr.old_status).value,
                "new_status": OnboardingStatus(tr.new_status).value,
                "cause": TransitionCause(tr.cause).value,
                "at": tr.at,
                "detail": tr.detail,
            }
            for tr in transitions
        ]
        if not rows:
            return
        with self._write() as conn:
            conn.execute(sa.insert(t.transitions), rows)

    def transitions(self, onboarding_id: str | None = None) -> list[Transition]:
        """The transition log (of one onboarding, or all), in the order it was recorded."""
        c = t.transitions.c
        query = sa.select(t.transitions).order_by(c.seq)
        if onboarding_id is not None:
            query = query.where(c.onboarding_id == onboarding_id)
        with self._read() as conn:
            rows = conn.execute(query).all()
        return [
            Transition(
                onboarding_id=r.onboarding_id,
                old_phase=r.old_phase,
                new_phase=r.new_phase,
                old_status=None if r.old_status is None else OnboardingStatus(r.old_status),
                new_status=OnboardingStatus(r.new_status),
                cause=TransitionCause(r.cause),
                at=r.at,
                detail=r.detail,
            )
            for r in rows
        ]

    # -- cursors ------------------------------------------------------------------------

    def get_cursor(self, source: str, stream: str) -> datetime | None:
        """The stored high-water mark of ``stream`` of ``source``, or None before the first run."""
        c = t.cursors.c
        with self._read() as conn:
            return conn.execute(sa.select(c.value).where(c.source == source, c.stream == stream)).scalar_one_or_none()

    def cursors(self, source: str | None = None) -> dict[tuple[str, str], datetime]:
        """All cursors (of one source), by ``(source, stream)``."""
        c = t.cursors.c
        query = sa.select(c.source, c.stream, c.value)
        if source is not None:
            query = query.where(c.source == source)
        with self._read() as conn:
            return {(r.source, r.stream): r.value for r in conn.execute(query)}

    def set_cursor(self, source: str, stream: str, value: datetime) -> None:
        """Persist a cursor. The engine calls this only after the run's writes are recorded."""
        self.set_cursors(source, {stream: value})

    def set_cursors(self, source: str, values: Mapping[str, datetime]) -> None:
        """Persist several cursors of one source at once."""
        self._check_writable()
        now = self._now()
        rows = [
            {"source": source, "stream": stream, "value": value, "updated_at": now} for stream, value in values.items()
        ]
        with self._write() as conn:
            self._upsert(conn, t.cursors, rows, keys=["source", "stream"])
