"""Sample records, onboarding states and task intents shared by the store tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from onboard_sync.onboarding.state import OnboardingState, OnboardingStatus, PhaseVisit, TransitionCause
from onboard_sync.records import Deal
from onboard_sync.store import OwnedTask

T0 = datetime(2026, 3, 1, 9, 30, 15, 123456, tzinfo=UTC)
CET = timezone(timedelta(hours=1))


def onboarding(oid: str = "hs:42", **changes: object) -> OnboardingState:
    base = OnboardingState(
        id=oid,
        source=oid.split(":")[0],
        deal_id=oid.split(":")[1],
        account_id="acc-1",
        segment="mid-market",
        phase="kickoff",
        status=OnboardingStatus.AT_RISK,
        started_at=T0,
        phase_entered_at=T0 + timedelta(days=1),
        go_live_at=None,
        first_value_at=T0 + timedelta(days=20),
        manual_phase="kickoff",
        health_score=61,
        health_status="at-risk",
        health_reasons=("nps below 7", "ticket spike"),
        history=(
            PhaseVisit("handoff", T0, TransitionCause.STARTED, left_at=T0 + timedelta(days=1)),
            PhaseVisit("kickoff", T0 + timedelta(days=1), TransitionCause.MANUAL),
        ),
        playbook="enterprise-90",
    )
    return OnboardingState(**{**{f: getattr(base, f) for f in base.__slots__}, **changes})  # type: ignore[arg-type]


def deal(did: str = "42", *, updated: datetime = T0, name: str = "Acme", source: str = "hs") -> Deal:
    return Deal(
        source=source,
        id=did,
        updated_at=updated,
        name=name,
        stage="closedwon",
        is_won=True,
        is_closed=True,
        amount=12500.5,
        close_date=T0 - timedelta(days=2),
        owner_id="o1",
        pipeline="default",
        account_ids=("acc-1", "acc-2"),
        contact_ids=("c1",),
        properties={"onb_phase": "kickoff", "empty": None, "unicode": "Zürich ✓"},
    )


def intent(key: str, oid: str = "hs:42", source: str = "hs") -> OwnedTask:
    return OwnedTask(
        key=key,
        onboarding_id=oid,
        source=source,
        template_key=key.split(":")[-2],
        phase="kickoff",
        episode=int(key.split(":")[-1]),
        subject=f"Task {key}",
        owner_id="o1",
        due_at=T0 + timedelta(days=3),
    )
